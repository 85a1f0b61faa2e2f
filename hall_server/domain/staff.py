"""Staff at the windows and attendance (R10).

Sign in at a window with 工号 + PIN (scrypt hash from the configuration); 5 wrong PINs lock the
工号 for 5 minutes. One window per person, one person per window. Pause with a reason, resume,
sign out. Attendance events (append-only `attendance`): 迟到 `late` (sign-in after a session's
start + grace), 早退 `early` (sign-out before the session's end), 离岗 `away` (a pause longer than
the limit within opening hours), 空岗 `vacant` (a window nobody is signed in at, for longer than
the pause limit, within opening hours; flagged once per window and session).

All of them only against the calendar, the roster and leave (`attendance`): 迟到/早退 in an open
session the clerk is due at work, 空岗 for a window due open, 离岗 for pause time in open sessions
outside the clerk's leave. The `session` column of `attendance` is the half (0 上午, 1 下午).
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from config.pins import BadPinHash, verify_pin
from hall_server.domain import notify
from hall_server.domain.common import row, rows
from hall_server.domain.errors import (
    AccountLocked, AlreadySignedIn, BadRequest, NotPaused, NotSignedIn, Paused, WindowBusy, WindowClosed,
    WindowOccupied, WrongPin,
)
from hall_server.domain.admin import replace_reset_pin
from hall_server.domain.floor import set_window, window_row
from hall_server.domain.attendance import away_half, clerk_due, paused_in_hours_ms, windows_due
from hall_server.domain.hours import day_of, session_bounds, local
from hall_server.domain.workdays import open_slot_at, open_slots
from hall_server.domain.context import Context

log = logging.getLogger(__name__)

MAX_PIN_FAILURES = 5
LOCK_MS = 5 * 60_000
# "My day" (`staff.today`) counts a rating only once its 办件 finished this long ago (hall time):
# the citizen who just rated may still be at the window, and R6 says staff must not learn the
# level of the rating just given — not even by comparing two aggregates a minute apart.
TODAY_HOLD_MS = 15 * 60_000


def _attend(ctx: Context, kind: str, session: int, window: int, staff_no: str, minutes: int = 0,
            at_ms: int | None = None) -> None:
    at = ctx.now_ms if at_ms is None else at_ms
    ctx.db.execute(
        "INSERT OR IGNORE INTO attendance (day, session, kind, window, staff_no, at_ms, minutes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [day_of(at, ctx.config), session, kind, window, staff_no, at, minutes],
    )


def check_pin(ctx: Context, staff_no: str, pin: str) -> None:
    """Raises AccountLocked or WrongPin (both keep their writes: failures must count)."""
    config = ctx.config
    lock = row(ctx, "SELECT failures, locked_until_ms FROM staff_locks WHERE staff_no = ?", [staff_no])
    if lock and lock["locked_until_ms"] > ctx.now_ms:
        raise AccountLocked(f"too many wrong PINs: locked until {lock['locked_until_ms']}",
                            locked_until_ms=lock["locked_until_ms"])
    try:
        member = config.staff_member(staff_no)
    except KeyError:
        member = None
    ok = False
    if member is not None and member.active:       # a disabled 工号 answers like an unknown one
        try:
            ok = verify_pin(pin, member.pin_hash)
        except BadPinHash:
            log.error("staff %s has a malformed PIN hash in the configuration", staff_no)
    if ok:
        ctx.db.execute("DELETE FROM staff_locks WHERE staff_no = ?", [staff_no])
        return
    # An unknown 工号 counts like a known one: the answer must not tell which 工号 exist.
    failures = (lock["failures"] if lock else 0) + 1
    locked_until = ctx.now_ms + LOCK_MS if failures >= MAX_PIN_FAILURES else 0
    ctx.db.execute(
        "INSERT INTO staff_locks (staff_no, failures, locked_until_ms) VALUES (?, ?, ?) "
        "ON CONFLICT (staff_no) DO UPDATE SET failures = excluded.failures, locked_until_ms = excluded.locked_until_ms",
        [staff_no, 0 if locked_until else failures, locked_until],
    )
    ctx.audit("staff.wrong_pin", staff_no, failures=failures)
    if locked_until:
        ctx.audit("staff.locked", staff_no, until_ms=locked_until)
        notify.staff_locked(ctx, staff_no, locked_until)       # issue 15: the duty officers are told
        raise AccountLocked(f"{MAX_PIN_FAILURES} wrong PINs: locked for {LOCK_MS // 60_000} minutes",
                            locked_until_ms=locked_until)
    raise WrongPin(f"wrong 工号 or PIN ({MAX_PIN_FAILURES - failures} tries left)",
                   tries_left=MAX_PIN_FAILURES - failures)


def sign_in(ctx: Context, window: int, staff_no: str, pin: str, new_pin: str = "") -> dict[str, Any]:
    check_pin(ctx, staff_no, pin)
    replace_reset_pin(ctx, staff_no, new_pin)      # may swap ctx.config (a new PIN hash)
    config = ctx.config
    try:
        if not config.window(window).open:
            raise WindowClosed(f"window {window} is closed", window=window)
    except KeyError:
        pass                                       # an unknown window is refused by the command
    there = row(ctx, "SELECT window FROM staff_sessions WHERE staff_no = ? AND out_ms IS NULL", [staff_no])
    if there is not None:
        if there["window"] == window:
            return {"window": window, "staff_no": staff_no, "late": False, "already": True}
        raise AlreadySignedIn(f"{staff_no} is signed in at window {there['window']}", window=there["window"])
    w = window_row(ctx, window)
    if w["staff_no"]:
        raise WindowOccupied(f"{w['staff_no']} is signed in at window {window}", window=window,
                             staff_no=w["staff_no"])
    day = day_of(ctx.now_ms, config)
    cur = ctx.db.execute("INSERT INTO staff_sessions (staff_no, window, in_ms, day) VALUES (?, ?, ?, ?)",
                         [staff_no, window, ctx.now_ms, day])
    late = False
    slot = open_slot_at(ctx.now_ms, config)
    if slot is not None and clerk_due(ctx.db, config, staff_no, local(ctx.now_ms, config).date(), slot.half):
        idx, start = slot.half, slot.start_ms
        grace = config.hall.thresholds.late_grace_min * 60_000
        # late only if this person was not already at work during this session (e.g. changing windows)
        earlier = row(ctx, "SELECT 1 AS x FROM staff_sessions WHERE staff_no = ? AND out_ms IS NOT NULL AND out_ms >= ?",
                      [staff_no, start])
        if ctx.now_ms > start + grace and earlier is None:
            late = True
            _attend(ctx, "late", idx, window, staff_no, (ctx.now_ms - start) // 60_000)
    set_window(ctx, window, staff_no=staff_no, session_id=cur.lastrowid, pause_reason=None, vacant_since_ms=None)
    ctx.audit("staff.sign_in", staff_no, window=window, late=late)
    return {"window": window, "staff_no": staff_no, "late": late, "already": False}


def signed_in(ctx: Context, window: int) -> dict[str, Any]:
    """The window row of a window with someone signed in (else NotSignedIn)."""
    w = window_row(ctx, window)
    if not w["staff_no"]:
        raise NotSignedIn(f"nobody is signed in at window {window}", window=window)
    return w


def working(ctx: Context, window: int) -> dict[str, Any]:
    """Signed in and not paused."""
    w = signed_in(ctx, window)
    if w["pause_reason"] is not None:
        raise Paused(f"window {window} is paused ({w['pause_reason']})", window=window, reason=w["pause_reason"])
    return w


def sign_out(ctx: Context, window: int) -> dict[str, Any]:
    config = ctx.config
    w = signed_in(ctx, window)
    if w["ticket_id"] is not None or w["job_id"] is not None:
        raise WindowBusy(f"window {window} still has a ticket: finish, park or transfer it first", window=window)
    if w["pause_reason"] is not None:
        _end_pause(ctx, window)
    ctx.db.execute("UPDATE staff_sessions SET out_ms = ? WHERE id = ?", [ctx.now_ms, w["session_id"]])
    early = False
    slot = open_slot_at(ctx.now_ms, config)
    if slot is not None and clerk_due(ctx.db, config, w["staff_no"], local(ctx.now_ms, config).date(), slot.half):
        early = True
        _attend(ctx, "early", slot.half, window, w["staff_no"], (slot.end_ms - ctx.now_ms) // 60_000)
    set_window(ctx, window, staff_no=None, session_id=None, pause_reason=None, vacant_since_ms=ctx.now_ms)
    ctx.audit("staff.sign_out", w["staff_no"], window=window, early=early)
    return {"window": window, "staff_no": w["staff_no"], "early": early}


def today(ctx: Context, window: int) -> dict[str, Any]:
    """"My day" for the staff member signed in at `window`: today's served 办件, mean handling time,
    overdue count, and — over the 办件 finished at least `TODAY_HOLD_MS` ago only (R6) — rated
    count, 参评率 (rated / those 办件) and 好评率 ((5+4+3) / rated). Aggregates only; system default
    ratings are not active ratings and do not count."""
    w = signed_in(ctx, window)
    staff_no, day = w["staff_no"], day_of(ctx.now_ms, ctx.config)
    done = row(ctx, "SELECT COUNT(*) AS n, COALESCE(SUM(handle_ms), 0) AS handle, COALESCE(SUM(overdue), 0) AS overdue "
                    "FROM jobs WHERE staff_no = ? AND day = ? AND status = 'finished'", [staff_no, day])
    settled = row(ctx, "SELECT COUNT(*) AS n, COUNT(r.id) AS rated, COALESCE(SUM(r.level >= 3), 0) AS good "
                       "FROM jobs j LEFT JOIN ratings r ON r.job_id = j.id AND r.round = 1 AND r.is_default = 0 "
                       "WHERE j.staff_no = ? AND j.day = ? AND j.status = 'finished' AND j.finished_ms <= ?",
                  [staff_no, day, ctx.now_ms - TODAY_HOLD_MS])
    assert done is not None and settled is not None
    return {
        "staff_no": staff_no, "day": day, "served": done["n"],
        "mean_handle_ms": done["handle"] // done["n"] if done["n"] else None, "overdue": done["overdue"],
        "rated": settled["rated"],
        "participation": round(settled["rated"] / settled["n"], 4) if settled["n"] else None,
        "good_rate": round(settled["good"] / settled["rated"], 4) if settled["rated"] else None,
        "counted": settled["n"], "held_back": done["n"] - settled["n"], "hold_back_min": TODAY_HOLD_MS // 60_000,
    }


# Line and paragraph breaks, other control characters, and the bidi overrides that reorder text
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_reason(reason: str) -> str:
    """A pause reason as shown on the floor, the terminal and the evaluator: one line of plain text.
    Control characters (CR, LF, …), line/paragraph separators and bidi overrides are refused here,
    at the edge, so nothing downstream (the floor's event stream, a screen) can be broken by one."""
    for ch in reason:
        if ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise BadRequest(f"the pause reason contains a control character (U+{ord(ch):04X})", field="reason")
    return reason


def pause(ctx: Context, window: int, reason: str) -> dict[str, Any]:
    reason = check_reason(reason)
    w = working(ctx, window)
    if w["ticket_id"] is not None or w["job_id"] is not None:
        raise WindowBusy(f"window {window} still has a ticket", window=window)
    ctx.db.execute("INSERT INTO pauses (session_id, staff_no, window, reason, start_ms) VALUES (?, ?, ?, ?, ?)",
                   [w["session_id"], w["staff_no"], window, reason, ctx.now_ms])
    set_window(ctx, window, pause_reason=reason)
    return {"window": window, "reason": reason}


def _end_pause(ctx: Context, window: int) -> int:
    p = row(ctx, "SELECT * FROM pauses WHERE window = ? AND end_ms IS NULL", [window])
    if p is None:
        return 0
    ctx.db.execute("UPDATE pauses SET end_ms = ? WHERE id = ?", [ctx.now_ms, p["id"]])
    _check_away(ctx, p, ctx.now_ms)
    return ctx.now_ms - p["start_ms"]


def _check_away(ctx: Context, p: dict[str, Any], until_ms: int) -> bool:
    config = ctx.config
    if p["away"]:
        return False
    paused_ms = paused_in_hours_ms(ctx.db, config, p["staff_no"], p["start_ms"], until_ms)
    if paused_ms <= config.hall.thresholds.pause_limit_min * 60_000:
        return False
    ctx.db.execute("UPDATE pauses SET away = 1 WHERE id = ?", [p["id"]])
    _attend(ctx, "away", away_half(config, p["start_ms"], until_ms), p["window"], p["staff_no"],
            paused_ms // 60_000, at_ms=p["start_ms"])
    return True


def resume(ctx: Context, window: int) -> dict[str, Any]:
    w = signed_in(ctx, window)
    if w["pause_reason"] is None:
        raise NotPaused(f"window {window} is not paused", window=window)
    paused_ms = _end_pause(ctx, window)
    set_window(ctx, window, pause_reason=None)
    return {"window": window, "paused_ms": paused_ms}


def auto_sign_out(ctx: Context) -> int:
    """Tick: sessions left open from an earlier day end at that day's closing time (audited), so
    nobody stays signed in overnight and the next day's 迟到 / 空岗 are right. A window still holding
    a ticket is left alone (the ticket expires first)."""
    config = ctx.config
    today = day_of(ctx.now_ms, config)
    n = 0
    for s in rows(ctx, "SELECT * FROM staff_sessions WHERE out_ms IS NULL AND day < ?", [today]):
        w = window_row(ctx, s["window"])
        if w["ticket_id"] is not None or w["job_id"] is not None:
            continue
        day = local(s["in_ms"], config).date()
        ends = [slot.end_ms for slot in open_slots(day, config)] or [b[2] for b in session_bounds(day, config)]
        end = max(ends + [s["in_ms"]])
        if w["pause_reason"] is not None:
            ctx.db.execute("UPDATE pauses SET end_ms = ? WHERE window = ? AND end_ms IS NULL", [end, s["window"]])
        ctx.db.execute("UPDATE staff_sessions SET out_ms = ? WHERE id = ?", [end, s["id"]])
        set_window(ctx, s["window"], staff_no=None, session_id=None, pause_reason=None, vacant_since_ms=None)
        ctx.audit("staff.auto_sign_out", s["staff_no"], window=s["window"], out_ms=end)
        n += 1
    return n


def flag_absence(ctx: Context) -> dict[str, int]:
    """Tick: 离岗 for pauses over the limit, 空岗 for unstaffed windows due open (roster, leave) in an
    open session of an open day."""
    config = ctx.config
    away = 0
    for p in rows(ctx, "SELECT * FROM pauses WHERE end_ms IS NULL AND away = 0"):
        away += _check_away(ctx, p, ctx.now_ms)
    vacant = 0
    slot = open_slot_at(ctx.now_ms, config)
    if slot is not None:
        idx, start = slot.half, slot.start_ms
        mark = f"{day_of(ctx.now_ms, config)}/{idx}"
        limit = config.hall.thresholds.pause_limit_min * 60_000
        closed = {w.number for w in config.windows if not w.open}     # closed by a manager: nobody expected
        for number in windows_due(ctx.db, config, local(ctx.now_ms, config).date(), idx):
            if number in closed:
                continue
            r = window_row(ctx, number)
            if r["staff_no"] or r["vacant_flagged"] == mark:
                continue
            since = max(start, r["vacant_since_ms"] or 0)
            if ctx.now_ms - since > limit:
                ctx.db.execute("UPDATE windows SET vacant_flagged = ? WHERE number = ?", [mark, number])
                _attend(ctx, "vacant", idx, number, "", (ctx.now_ms - since) // 60_000, at_ms=since)
                vacant += 1
    return {"away": away, "vacant": vacant}
