"""The live floor's state keys: window rows, and the keys every screen subscribes to.

The writer's side: these values are published in the writer's transaction. The live floor as one
typed snapshot (what `/floor`, `/floor/data`, `/floor/events` and `/api/floor` read) is made from
them by `hall_server.domain.floor_snapshot`. The values of `floor` (`PublicSummary`), `mgr/floor`
(`ManagerSummary`), `queue/<c>` (`QueueValue`) and `window/<n>`'s `staff` (`StaffCard`) are typed
here, once, and published as plain maps (`dataclasses.asdict`): the snapshot reads them back as
the same types.

State keys (published with `ctx.publish` after each change; values are msgpack maps):

| key | value | who listens |
|---|---|---|
| `window/<n>` | `{window, name, state, staff, ticket, ticket_id, category, priority, recalls, taken_ms, job, since_ms, pause_reason, rating, rating_expires_ms, parked, last_rating}` — `state` is closed / idle / calling / serving / paused; `staff` is `{staff_no, name, department, stars, promise, photo}` or None (`photo`: the path of the photo on the server's HTTP side, `/staff-photos/<file>`, or ""); `category`, `priority` (appointment / elderly / green / None), `recalls` and `taken_ms` (取号 time: the terminal shows the wait) are the current ticket's (None / 0 without one); `parked` is `[{ticket_id, ticket}]`, the tickets parked (挂起) at this window; `rating` is "open" while the evaluator asks, else None; `last_rating` is, for the window's most recent finished 办件, "rated" or "expired" (the evaluator's time ran out) once its rating closed, else None. The level of a rating is never published. `slip` is the window's latest slip print (windows with a printer), `{print_id, state: printing/printed/failed, error: no_paper/offline/not_connected/error/None, job_no, reprint, at_ms}`, or None — never its QR link | window terminal, kiosk, floor page |
| `queue/<category>` | `{category, name, waiting, priority_waiting, oldest_queued_ms, last_called}` | dispenser, hall display, floor page |
| `rating/<n>` | `{window, job, handle, staff_no, staff_name, department, stars, service_code, expires_ms, tag_version}` while window n's evaluator may rate; deleted when rated or expired. No state key ever carries a slip's signed QR link (every node, staff terminals too, may read every key) | kiosk n, gateway (keypad of window n) |
| `slips/<n>` | `{window, pending: [print_id, …]}` while window n has slip prints waiting for the devices gateway (`hall_server.domain.slips`); deleted when none | gateway |
| `calls` | `{recent: [{ticket, window, at_ms, recall}]}` (last 10 calls) | hall display (voice announcement) |
| `floor` | `{day, windows_open, windows_paused, windows_closed, waiting, waiting_over_limit, served_today}` — what anyone may see; recomputed once per batch (group commit) in which a domain command succeeded, after the batch's last message (the writer calls `refresh_floor`), and republished only when it changes (the tick ages the waits) | hall display, floor page |
| `mgr/floor` | `{day, rated_today, bad_today, open_cases, overdue_cases}` — server-private (`mgr/` keys are never published to nodes nor in their snapshots, R6: a staff terminal must not see a 差评 land); HTTP pages read it from `backend.snapshot()` | floor page (managers) |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.common import row, rows
from hall_server.domain.hours import day_of
from hall_server.domain.context import Context
from hallnet.bodies import StaffCard   # window/<n>'s `staff`: the wire's shape, which the evaluator decodes

MGR_FLOOR = "mgr/floor"     # server-private: `mgr/` keys never reach the nodes (hall_server.transport.bus)


def ensure_windows(db: sqlite_utils.Database, config: HallConfig) -> None:
    db.conn.executemany(
        "INSERT OR IGNORE INTO windows (number) VALUES (?)", [[w.number] for w in config.windows]
    )


def window_row(ctx: Context, n: int) -> dict[str, Any]:
    r = row(ctx, "SELECT * FROM windows WHERE number = ?", [n])
    if r is None:
        ctx.db.execute("INSERT INTO windows (number) VALUES (?)", [n])
        r = row(ctx, "SELECT * FROM windows WHERE number = ?", [n])
    assert r is not None
    return r


def derive_state(w: dict[str, Any]) -> str:
    if not w["staff_no"]:
        return "closed"
    if w["pause_reason"] is not None:
        return "paused"
    if w["job_id"] is not None:
        return "serving"
    if w["ticket_id"] is not None:
        return "calling"
    return "idle"


def set_window(ctx: Context, n: int, **changes: Any) -> dict[str, Any]:
    """Update window n's row; recomputes its state (and since_ms when the state changes); publishes."""
    w = window_row(ctx, n)
    w.update(changes)
    state = derive_state(w)
    if state != w["state"]:
        w["since_ms"] = ctx.now_ms
        w["state"] = state
    cols = [k for k in w if k != "number"]
    ctx.db.execute(
        f"UPDATE windows SET {', '.join(f'{c} = ?' for c in cols)} WHERE number = ?",
        [w[c] for c in cols] + [n],
    )
    publish_window(ctx, n, w)
    return w


def window_name(config: HallConfig | None, number: int) -> str:
    """The configured name of window `number`, or "" (no config, or a window no longer configured)."""
    if config is None:
        return ""
    try:
        return config.window(number).name
    except KeyError:
        return ""


PHOTO_ROUTE = "/staff-photos/"


def staff_card(config: HallConfig | None, staff_no: str | None) -> StaffCard | None:
    if not staff_no or config is None:
        return None
    try:
        s = config.staff_member(staff_no)
    except KeyError:
        return StaffCard(staff_no, "", "", 0, "")
    photo = f"{PHOTO_ROUTE}{s.photo.name}" if s.photo is not None else ""
    return StaffCard(s.staff_no, s.name, s.department, s.stars, s.promise, photo)


LAST_RATING = {"rated": "rated", "qr": "expired", "unrated": "expired", "default": "expired"}


def last_rating(db: Any, job_id: int | None) -> str | None:
    """Whether the window's most recent 办件 was rated ("rated"), or its evaluator's time ran out
    ("expired"; its QR slip may still be used); None while it is open or there is none. Never the level."""
    if job_id is None:
        return None
    j = row(db, "SELECT rating FROM jobs WHERE id = ?", [job_id])
    return LAST_RATING.get(j["rating"]) if j else None


SLIP_STATE = {"pending": "printing", "printed": "printed", "failed": "failed"}


def slip_view(db: Any, window: int) -> dict[str, Any] | None:
    """The window's latest slip print (table `slips`), token-free; None when it never printed one."""
    s = row(db, "SELECT s.id, s.state, s.error, s.reason, s.created_ms, s.done_ms, j.job_no FROM slips s "
                "JOIN jobs j ON j.id = s.job_id WHERE s.window = ? ORDER BY s.id DESC LIMIT 1", [window])
    if s is None:
        return None
    return {"print_id": s["id"], "state": SLIP_STATE.get(s["state"], s["state"]), "error": s["error"],
            "job_no": s["job_no"] or "", "reprint": s["reason"] == "reprint", "at_ms": s["done_ms"] or s["created_ms"]}


def window_view(db: Any, config: HallConfig | None, w: dict[str, Any]) -> dict[str, Any]:
    ticket = job = None
    current: dict[str, Any] = {"category": None, "priority": None, "recalls": 0, "taken_ms": None}
    if w["ticket_id"] is not None:
        t = row(db, "SELECT no, category, priority_kind, recalls, taken_ms FROM tickets WHERE id = ?",
                [w["ticket_id"]])
        ticket = t["no"] if t else None
        if t:
            current = {"category": t["category"], "priority": t["priority_kind"], "recalls": t["recalls"],
                       "taken_ms": t["taken_ms"]}
    parked = [{"ticket_id": p["id"], "ticket": p["no"]} for p in rows(
        db, "SELECT id, no FROM tickets WHERE status = 'parked' AND window = ? ORDER BY id", [w["number"]])]
    if w["job_id"] is not None:
        j = row(db, "SELECT pub FROM jobs WHERE id = ?", [w["job_id"]])
        job = j["pub"] if j else None
    rating = expires = None
    if w["rating_job_id"] is not None:
        r = row(db, "SELECT rating_expires_ms FROM jobs WHERE id = ? AND rating = 'open'", [w["rating_job_id"]])
        if r:
            rating, expires = "open", r["rating_expires_ms"]
    name = window_name(config, w["number"])
    return {
        "window": w["number"], "name": name, "state": w["state"], "staff": _staff_value(config, w["staff_no"]),
        "ticket": ticket, "ticket_id": w["ticket_id"], **current, "job": job, "since_ms": w["since_ms"],
        "pause_reason": w["pause_reason"], "rating": rating, "rating_expires_ms": expires, "parked": parked,
        "last_rating": last_rating(db, w.get("last_job_id")), "slip": slip_view(db, w["number"]),
    }


def _staff_value(config: HallConfig | None, staff_no: str | None) -> dict[str, Any] | None:
    card = staff_card(config, staff_no)
    return asdict(card) if card is not None else None


def publish_window(ctx: Context, n: int, w: dict[str, Any] | None = None) -> None:
    w = w or window_row(ctx, n)
    ctx.publish(f"window/{n}", window_view(ctx.db, ctx.config, w))


@dataclass(frozen=True)
class QueueValue:
    """`queue/<category>`'s value."""

    category: str
    name: str
    waiting: int
    priority_waiting: int
    oldest_queued_ms: int | None
    last_called: str | None


class Ask(Enum):
    """`last_called` not given: read it from the store."""

    STORE = "store"


LastCalled = str | None | Ask


def plain(value: Any) -> dict[str, Any]:
    """A flat summary dataclass (its fields plain values) as the map that is published: what
    `dataclasses.asdict` gives, without its deep copy (this runs for every command)."""
    return dict(vars(value))


def category_name(config: HallConfig | None, category: str) -> str:
    if config is None:
        return ""
    try:
        return config.category(category).name
    except KeyError:
        return ""


def last_called(db: Any, category: str) -> str | None:
    """The number of the category's ticket called last (the newest `called_ms`), or None."""
    last = db.execute("SELECT no FROM tickets WHERE category = ? AND called_ms IS NOT NULL "
                      "ORDER BY called_ms DESC LIMIT 1", [category]).fetchone()
    return last[0] if last else None


def queue_value(db: Any, config: HallConfig | None, category: str, last: LastCalled = Ask.STORE) -> QueueValue:
    """`queue/<category>`'s value; `last`: its `last_called` when the caller knows it (the ticket it
    just called; a take's unchanged one), else read from the store (a scan of the category's tickets)."""
    waiting, prio, oldest = db.execute(
        "SELECT COUNT(*), SUM(priority > 0), MIN(queued_ms) FROM tickets WHERE status = 'waiting' AND category = ?",
        [category]).fetchone()
    return QueueValue(category, category_name(config, category), waiting, prio or 0, oldest,
                      last_called(db, category) if isinstance(last, Ask) else last)


def queue_view(db: Any, config: HallConfig | None, category: str) -> dict[str, Any]:
    """`queue/<category>`'s value as published (and as `/api/queue` shows it)."""
    return plain(queue_value(db, config, category))


def publish_queue(ctx: Context, category: str, last: LastCalled = Ask.STORE) -> None:
    """Publish `queue/<category>`; `last` as in `queue_value`."""
    ctx.publish(f"queue/{category}", plain(queue_value(ctx.db, ctx.config, category, last)))


def published_last_called(ctx: Context, category: str) -> str | None:
    """`last_called` as `queue/<category>` carries it (pending in this batch, else stored), else read
    from the store (the key is not there yet). Every change of a ticket's `called_ms` or category
    republishes its queues (`tickets._call`, `call_back`, `transfer`), so a take, which calls nobody,
    may reuse it instead of scanning the category's tickets."""
    value = ctx.current(f"queue/{category}")
    if isinstance(value, dict) and "last_called" in value:
        return value["last_called"]
    return last_called(ctx.db, category)


def publish_call(ctx: Context) -> None:
    """`calls`: the last 10 calls and recalls, for the hall display's announcements."""
    recent = rows(ctx, "SELECT e.id, e.at_ms, e.window, e.kind, t.no FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
                       "WHERE e.kind IN ('called', 'recalled', 'called_back') ORDER BY e.id DESC LIMIT 10")
    # `id` (the ticket event's id) names one announcement: a screen that reconnects announces each id once
    ctx.publish("calls", {"recent": [{"id": r["id"], "ticket": r["no"], "window": r["window"], "at_ms": r["at_ms"],
                                      "kind": r["kind"], "recall": r["kind"] == "recalled"} for r in recent]})


@dataclass(frozen=True)
class PublicSummary:
    """`floor`'s value: what anyone in the hall may see."""

    day: str
    windows_open: int
    windows_paused: int
    windows_closed: int
    waiting: int
    waiting_over_limit: int
    served_today: int


@dataclass(frozen=True)
class ManagerSummary:
    """`mgr/floor`'s value: today's rating and case counts, server-private."""

    day: str
    rated_today: int
    bad_today: int
    open_cases: int
    overdue_cases: int


def floor_summary(db: Any, config: HallConfig | None, now_ms: int) -> PublicSummary:
    """`floor`: what anyone in the hall may see (published to every node). R6: no rating counts."""
    day = day_of(now_ms, config)
    states = dict(db.execute("SELECT state, COUNT(*) FROM windows GROUP BY state").fetchall())
    wait_limit_ms = (config.hall.thresholds.wait_alert_min if config is not None else 30) * 60_000
    waiting, over = db.execute("SELECT COUNT(*), COALESCE(SUM(queued_ms < ?), 0) FROM tickets "
                               "WHERE status = 'waiting'", [now_ms - wait_limit_ms]).fetchone()
    served, = db.execute("SELECT COALESCE(SUM(finished), 0) FROM rollup WHERE day = ?", [day]).fetchone()
    open_ = sum(v for k, v in states.items() if k in ("idle", "calling", "serving"))
    paused = states.get("paused", 0)
    total = len(config.windows) if config is not None else sum(states.values())
    return PublicSummary(day=day, windows_open=open_, windows_paused=paused,
                         windows_closed=max(0, total - open_ - paused), waiting=waiting,
                         waiting_over_limit=over, served_today=served)


def manager_summary(db: Any, config: HallConfig | None, now_ms: int) -> ManagerSummary:
    """`mgr/floor`: today's rating and case counts — server-private (never sent to nodes, R6)."""
    day = day_of(now_ms, config)
    rated, bad = db.execute("SELECT COALESCE(SUM(rated), 0), COALESCE(SUM(l1 + l2), 0) FROM rollup WHERE day = ?",
                            [day]).fetchone()
    open_cases, overdue = db.execute("SELECT COUNT(*), COALESCE(SUM(callback_overdue OR rectify_overdue), 0) "
                                     "FROM cases WHERE status != 'closed'").fetchone()
    return ManagerSummary(day=day, rated_today=rated, bad_today=bad, open_cases=open_cases, overdue_cases=overdue)


def publish_floor(ctx: Context) -> None:
    ctx.publish("floor", plain(floor_summary(ctx.db, ctx.config, ctx.now_ms)))
    ctx.publish(MGR_FLOOR, plain(manager_summary(ctx.db, ctx.config, ctx.now_ms)))


def refresh_floor(ctx: Context, committed: Callable[[str], Any] | None = None) -> bool:
    """Publish `floor` and `mgr/floor` if they differ from their last values (pending in this batch,
    else committed: `committed(key)`, the hub's in-memory state map, else read from the store).

    The writer calls it once per batch whose kept messages set `ctx.floor_dirty` (the domain commands,
    an admin change), after the batch's last message and inside its transaction."""
    changed = False
    summaries = (("floor", floor_summary(ctx.db, ctx.config, ctx.now_ms)),
                 (MGR_FLOOR, manager_summary(ctx.db, ctx.config, ctx.now_ms)))
    for key, typed in summaries:
        summary = plain(typed)
        if _last_value(ctx, key, committed) != summary:
            ctx.publish(key, summary)
            changed = True
    return changed


def _last_value(ctx: Context, key: str, committed: Callable[[str], Any] | None) -> Any:
    if committed is None:
        return ctx.current(key)
    for published in (ctx.deltas, ctx.batch_deltas):
        for k, v in reversed(published):
            if k == key:
                return v
    return committed(key)
