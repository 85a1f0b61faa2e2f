"""一次一评 (R1–R6): the first rating of a finished 办件 from any channel wins; one 追评 after
rectification; expiry leaves it 未评价; the optional default-rating policy is flagged and never
counted as active; staff can never rate (node kinds, see `commands`). Ratings are append-only.

Channels (GB/T 39046): 1 PC, 2 mobile, 3 QR code, 4 hall tablet (kiosk), 5 other hall terminal
(keypad via the gateway), 6 telephone, 7 SMS; 0 is the system default (policy, flagged).

差评 whose reason the call-back collects (原因待回访): at the window's evaluators a 差评 must
never be lost for want of a reason. A serial keypad (channel 5) has only the five level keys; a
citizen may choose 不满意 / 非常不满意 on the touchscreen kiosk (channel 4) and walk away from the
reasons screen. Both are recorded with the one reserved tag `REASON_PENDING`
(`config.reserved_tags`, text `tag.REASON_PENDING` 原因待回访; no hall may configure it): the
keypad's tagless 差评 gets it from the server, the kiosk sends it itself (a tagless kiosk 差评 is
still refused as `tag_required`: the kiosk asks). It stands alone, only on a 差评, only from an
evaluator channel; the QR page and the web must give a real tag. Its case opens as usual and the
call-back (回访) collects the reason. Keypad 差评 recorded before carry the older code `KEYPAD`
(按键评价，原因待回访), still shown with its own text (`tag_text`); both are reported upward in
`reasons` like any code.

A late evaluator rating (`pressed_ms`, see `pressed_in_time`): the kiosk's outbox may hold a
press through a server outage; it counts when the press fell within the evaluator's open window.
"""

from __future__ import annotations

import json
from typing import Any

from config import i18n
from config.reserved_tags import PENDING_REASON_TAG, RESERVED_TAG_TEXT_KEYS, RESERVED_TAGS, reason_pending
from config.schema import HallConfig
from hall_server.domain import cases, rollup
from hall_server.domain.common import dumps, mask_phone, row, rows
from hall_server.domain.errors import (
    AlreadyRated, BadRequest, ChannelNotAllowed, FollowupNotAllowed, NotFinished, RatingExpired, TagRequired,
    UnknownTag, WrongWindow,
)
from hall_server.domain.floor import publish_window, set_window, window_row
from hall_server.domain.jobs import publish_rating
from hall_server.domain.context import Context
from hallnet.vocabulary import Channel

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_LEVELS = (1, 2)
CHANNELS = {1: "PC", 2: "mobile", 3: "QR code", 4: "hall tablet", 5: "hall terminal", 6: "telephone", 7: "SMS"}
DEFAULT_CHANNEL = 0
EVALUATOR_CHANNELS = (int(Channel.KIOSK), int(Channel.KEYPAD))   # at the window: only while the evaluator's opportunity is open
KEYPAD_CHANNEL = int(Channel.KEYPAD)
MAX_TAGS = 10


def is_bad(level: int) -> bool:
    return level in BAD_LEVELS


def check_tags(ctx: Context, level: int, tags: Any, channel: int | None = None) -> list[str]:
    """R5: tags from the current list for this level; a 差评 needs at least one — except at the
    window's evaluators (see the module docstring): the keypad's tagless 差评 gets the reserved
    `REASON_PENDING`, and an evaluator may send that tag alone on a 差评."""
    if tags is None:
        tags = []
    if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) and len(t) <= 32 for t in tags):
        raise BadRequest(f"field 'tags' must be a list of at most {MAX_TAGS} tag codes", field="tags")
    tags = list(dict.fromkeys(tags))
    if tags == [PENDING_REASON_TAG] and is_bad(level) and channel in EVALUATOR_CHANNELS:
        return tags
    allowed = {t.code for t in ctx.config.tags.for_level(level)}
    for t in tags:
        if t not in allowed:
            raise UnknownTag(f"tag {t!r} is not in the current list for level {level}"
                             + (" (a reserved tag stands alone, on a 差评 from the window's evaluator)"
                                if t in RESERVED_TAGS else ""), tag=t, level=level)
    if is_bad(level) and not tags and channel == KEYPAD_CHANNEL:
        return [PENDING_REASON_TAG]
    if is_bad(level) and not tags:
        raise TagRequired("a 差评 must carry at least one reason tag", level=level)
    return tags


def tag_text(config: HallConfig | None, code: str, lang: str = "zh") -> str:
    """What people read for a stored reason code: the configured tag's text, the reserved codes'
    texts (原因待回访; old keypad records 按键评价，原因待回访), else the code itself."""
    if code in RESERVED_TAG_TEXT_KEYS:
        return i18n.t(RESERVED_TAG_TEXT_KEYS[code], lang)
    by_code = config.tags.by_code() if config is not None else {}   # web pages may read without one
    return by_code[code].text if code in by_code else code


MAX_CLOCK_AHEAD_MS = 5_000      # a node's pressed_ms may run this much ahead of the server's receive time
LATE_STATES = ("open", "qr", "unrated")   # job.rating values a late press may still rate


def pressed_in_time(ctx: Context, job: dict[str, Any], pressed_ms: int | None) -> bool:
    """An evaluator press made while the opportunity was open (finished ≤ pressed ≤ expires) but
    delivered late — the node's outbox held it while the server or network was down — still counts.
    Bounds: the press is not later than the server's receive time + `MAX_CLOCK_AHEAD_MS` (clock
    skew), and not longer ago than the QR validity (`rating.qr_valid_days`)."""
    if pressed_ms is None or job["finished_ms"] is None or job["rating_expires_ms"] is None:
        return False
    qr_valid_ms = ctx.config.hall.rating.qr_valid_days * 86_400_000
    return (job["finished_ms"] <= pressed_ms <= job["rating_expires_ms"]
            and pressed_ms <= ctx.now_ms + MAX_CLOCK_AHEAD_MS and ctx.now_ms - pressed_ms <= qr_valid_ms)


def check_open(ctx: Context, job: dict[str, Any], channel: int, pressed_ms: int | None = None) -> None:
    """The job may still be rated on this channel (lazy expiry: no clock needed)."""
    if job["status"] != "finished":
        raise NotFinished("this 办件 is not finished")
    if job["rating"] in ("rated", "default") or row(ctx, "SELECT 1 AS x FROM ratings WHERE job_id = ? AND round = 1",
                                                      [job["id"]]):
        raise AlreadyRated("this 办件 has been rated (已评价)")
    if channel in EVALUATOR_CHANNELS:
        in_time = job["rating"] == "open" and ctx.now_ms <= job["rating_expires_ms"]
        if not in_time and not (job["rating"] in LATE_STATES and pressed_in_time(ctx, job, pressed_ms)):
            raise RatingExpired("the evaluator's time to rate this 办件 is over", qr_open=job["rating"] in ("open", "qr"))
    elif job["rating"] not in ("open", "qr") or ctx.now_ms > job["qr_expires_ms"]:
        raise RatingExpired("the time to rate this 办件 is over")


def submit(ctx: Context, job: dict[str, Any], channel: int, window: int | None,
           level: int, tags: Any, sub: dict[str, int | None], text: str, phone: str,
           pressed_ms: int | None = None) -> dict[str, Any]:
    """The first rating (评价次数 1). `window` is the rating node's own window (kiosk, keypad), if any;
    `pressed_ms` when the citizen pressed (evaluators send it; see `pressed_in_time`)."""
    if channel not in CHANNELS:
        raise ChannelNotAllowed(f"channel {channel} is not a rating channel", channel=channel)
    if window is not None and job["window"] != window:
        raise WrongWindow(f"this 办件 was handled at window {job['window']}, not {window}", window=job["window"])
    check_open(ctx, job, channel, pressed_ms)
    tags = check_tags(ctx, level, tags, channel)
    rating_id = _insert(ctx, job, 1, level, channel, tags, sub, text, phone, False)
    ctx.db.execute("UPDATE jobs SET rating = 'rated' WHERE id = ?", [job["id"]])
    _close_window(ctx, job)
    rollup.add_rating(ctx.db, ctx.config, job, level, False)
    case_id = None
    if is_bad(level):
        case_id = cases.open_for_rating(ctx, rating_id, job, text, phone)
    return {"rating_id": rating_id, "job": job["pub"], "round": 1, "case_id": case_id}


def followup(ctx: Context, job: dict[str, Any], channel: int, level: int, tags: Any, text: str) -> dict[str, Any]:
    """追评 (评价次数 2): once, after the 差评's case was rectified (R2, R7)."""
    if channel not in CHANNELS:
        raise ChannelNotAllowed(f"channel {channel} is not a rating channel", channel=channel)
    case = row(ctx, "SELECT * FROM cases WHERE job_id = ? AND kind = 'bad_rating'", [job["id"]])
    if case is None or case["rectified_ms"] is None:
        raise FollowupNotAllowed("a 追评 needs a rectified 差评")
    if row(ctx, "SELECT 1 AS x FROM ratings WHERE job_id = ? AND round = 2", [job["id"]]):
        raise AlreadyRated("the 追评 has been given")
    tags = check_tags(ctx, level, tags)
    rating_id = _insert(ctx, job, 2, level, channel, tags, {}, text, "", False)
    cases.followup_given(ctx, case["id"], level)
    return {"rating_id": rating_id, "job": job["pub"], "round": 2, "case_id": case["id"]}


def _insert(ctx: Context, job: dict[str, Any], round_: int, level: int, channel: int, tags: list[str],
            sub: dict[str, int | None], text: str, phone: str, is_default: bool) -> int:
    cur = ctx.db.execute(
        "INSERT INTO ratings (job_id, round, level, channel, tags, tag_version, efficiency, skill, attitude, text, "
        "phone, is_default, at_ms, node, window, staff_no, service_code) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [job["id"], round_, level, channel, dumps(tags), ctx.config.tags.version, sub.get("efficiency"),
         sub.get("skill"), sub.get("attitude"), text, phone, int(is_default), ctx.now_ms, ctx.node, job["window"],
         job["staff_no"], job["service_code"]],
    )
    ctx.audit("rating", job["pub"], round=round_, channel=channel, default=is_default)
    return int(cur.lastrowid)


def _close_window(ctx: Context, job: dict[str, Any]) -> None:
    """The rating of `job` closed (rated or expired): the evaluator stops asking, and window/<n>
    shows `last_rating` if it is the window's most recent 办件 (never the level)."""
    w = window_row(ctx, job["window"])
    if w["rating_job_id"] == job["id"]:
        set_window(ctx, job["window"], rating_job_id=None)
        publish_rating(ctx, job["window"], None)
    elif w.get("last_job_id") == job["id"]:
        publish_window(ctx, job["window"], w)


def expire(ctx: Context) -> dict[str, int]:
    """Tick: close evaluator opportunities past their time (the QR slip stays valid), then mark
    办件 whose QR time is over as 未评价 — or, if the hall's policy says so, give them the flagged
    default rating (never counted as active)."""
    closed = rows(ctx, "SELECT * FROM jobs WHERE rating = 'open' AND rating_expires_ms < ?", [ctx.now_ms])
    for job in closed:
        ctx.db.execute("UPDATE jobs SET rating = 'qr' WHERE id = ?", [job["id"]])
        _close_window(ctx, job)
    policy = ctx.config.hall.rating
    over = rows(ctx, "SELECT * FROM jobs WHERE rating IN ('open', 'qr') AND qr_expires_ms < ?", [ctx.now_ms])
    defaults = 0
    for job in over:
        _close_window(ctx, job)
        if policy.default_rating:
            _insert(ctx, job, 1, policy.default_level, DEFAULT_CHANNEL, [], {}, "", "", True)
            ctx.db.execute("UPDATE jobs SET rating = 'default' WHERE id = ?", [job["id"]])
            rollup.add_rating(ctx.db, ctx.config, job, policy.default_level, True)
            defaults += 1
        else:
            ctx.db.execute("UPDATE jobs SET rating = 'unrated' WHERE id = ?", [job["id"]])
    return {"evaluator_closed": len(closed), "unrated": len(over) - defaults, "defaults": defaults}


def view(r: dict[str, Any], reveal_private: bool = False) -> dict[str, Any]:
    """A rating as shown outside. R6: phone and text are masked unless `reveal_private`."""
    tags = json.loads(r["tags"])
    return {
        "rating_id": r["id"], "round": r["round"], "level": r["level"], "channel": r["channel"],
        "tags": tags, "reason_pending": reason_pending(tags), "efficiency": r["efficiency"], "skill": r["skill"],
        "attitude": r["attitude"],
        "text": r["text"] if reveal_private else ("***" if r["text"] else ""),
        "phone": r["phone"] if reveal_private else mask_phone(r["phone"]),
        "is_default": bool(r["is_default"]), "at_ms": r["at_ms"], "window": r["window"], "staff_no": r["staff_no"],
        "service_code": r["service_code"],
    }
