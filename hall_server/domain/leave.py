"""请销假: leave (请假) and business trips (出差) of window staff, in half days: entered by a manager,
or requested by the clerk at their terminal and approved (or rejected) by a manager.

A leave runs from (start_day, start_half) to (end_day, end_half) inclusive, halves 0 上午 / 1 下午:
2026-05-06 下午 → 2026-05-07 上午 is one day, in two halves. A cancelled leave (销假) stays in the
table with its status. While a clerk is on approved leave or a trip, nothing is counted against them
(no 迟到, 早退, 离岗) nor against a window they were scheduled at (no 空岗): see `attendance`.

| type | from | body | result |
|---|---|---|---|
| `leave.add` | web, manager | `{staff_no, kind: leave/trip, start_day, start_half, end_day, end_half, note}` | `{leave_id, halves, status: approved}` |
| `leave.request` | terminal (the clerk signed in there) | `{kind, start_day, start_half, end_day, end_half, note}` | `{leave_id, halves, status: requested}` |
| `leave.decide` | web, manager | `{leave_id, approve}` | `{leave_id, status: approved/rejected}` |
| `leave.cancel` | web, manager | `{leave_id}` | `{leave_id, status: cancelled}` |

Refusals: `unknown_staff`, `not_signed_in`, `bad_request` (the end before the start, more than a year),
`overlapping_leave` (with an approved or requested leave), `unknown_leave`, `not_requested`,
`already_cancelled`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlite_utils

from hall_server.domain.common import MANAGER, TERMINAL, WEB, row, rows, window_at
from hall_server.domain.context import BadRequest, Context, DomainError, Handlers
from hall_server.domain.errors import NotSignedIn, UnknownStaff
from hall_server.domain.floor import window_row
from hall_server.domain.roster import audit, parse_day
from hallnet.bodies import LeaveAdd, LeaveCancel, LeaveDecide, LeaveRequest
from hallnet.vocabulary import Msg

HANDLERS = Handlers()          # this module's message types (merged in hall_server.domain.handlers)
MAX_DAYS = 366
KINDS = ("leave", "trip")


class UnknownLeave(DomainError):
    code = "unknown_leave"


class AlreadyCancelled(DomainError):
    code = "already_cancelled"


class OverlappingLeave(DomainError):
    code = "overlapping_leave"


class NotRequested(DomainError):
    code = "not_requested"


def _key(day: str, half: int) -> str:
    """A half day as one sortable text: "2026-05-06/1"."""
    return f"{day}/{half}"


def on_leave(db: sqlite_utils.Database, staff_no: str, d: date, half: int) -> dict[str, Any] | None:
    """The approved leave or trip covering that half of `d` for the clerk, or None."""
    if not staff_no:
        return None
    here = _key(d.isoformat(), half)
    return row(db, "SELECT * FROM leave WHERE staff_no = ? AND status = 'approved' AND start_day <= ? AND end_day >= ? "
                   "AND (start_day || '/' || start_half) <= ? AND (end_day || '/' || end_half) >= ?",
               [staff_no, d.isoformat(), d.isoformat(), here, here])


def halves_off(db: sqlite_utils.Database, start: date, end: date) -> set[tuple[str, date, int]]:
    """Every (staff_no, day, half) in [start, end] covered by an approved leave or trip."""
    out: set[tuple[str, date, int]] = set()
    for lv in rows(db, "SELECT * FROM leave WHERE status = 'approved' AND start_day <= ? AND end_day >= ?",
                   [end.isoformat(), start.isoformat()]):
        for d, half in _halves(date.fromisoformat(lv["start_day"]), lv["start_half"],
                               date.fromisoformat(lv["end_day"]), lv["end_half"]):
            if start <= d <= end:
                out.add((lv["staff_no"], d, half))
    return out


def _halves(start: date, start_half: int, end: date, end_half: int) -> list[tuple[date, int]]:
    out, d, half = [], start, start_half
    while (d, half) <= (end, end_half):
        out.append((d, half))
        d, half = (d, 1) if half == 0 else (d + timedelta(days=1), 0)
    return out


def listing(db: sqlite_utils.Database, start: date, end: date) -> list[dict[str, Any]]:
    """Leave (any status) overlapping [start, end], newest first."""
    return rows(db, "SELECT * FROM leave WHERE start_day <= ? AND end_day >= ? ORDER BY start_day DESC, id DESC",
                [end.isoformat(), start.isoformat()])


def _insert(ctx: Context, staff_no: str, kind: str, start_day: str, start_half: int, end_day: str, end_half: int,
            note: str, status: str) -> dict[str, Any]:
    try:
        ctx.config.staff_member(staff_no)
    except KeyError:
        raise UnknownStaff(f"no staff {staff_no}", staff_no=staff_no) from None
    start, end = parse_day(start_day, "start_day"), parse_day(end_day, "end_day")
    if (end, end_half) < (start, start_half):
        raise BadRequest("the leave ends before it starts", field="end_day")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"a leave of more than {MAX_DAYS} days", field="end_day")
    first, last = _key(start.isoformat(), start_half), _key(end.isoformat(), end_half)
    clash = row(ctx, "SELECT id FROM leave WHERE staff_no = ? AND status IN ('approved', 'requested') "
                     "AND (start_day || '/' || start_half) <= ? AND (end_day || '/' || end_half) >= ?",
                [staff_no, last, first])
    if clash is not None:
        raise OverlappingLeave(f"{staff_no} already has leave {clash['id']} then", leave_id=clash["id"])
    cur = ctx.db.execute(
        "INSERT INTO leave (staff_no, kind, start_day, start_half, end_day, end_half, note, status, created_ms, "
        "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [staff_no, kind, start.isoformat(), start_half, end.isoformat(), end_half, note.strip(), status,
         ctx.now_ms, ctx.node])
    leave_id = int(cur.lastrowid or 0)
    audit(ctx, "leave.add" if status == "approved" else "leave.request", f"leave/{leave_id}", None,
          _public(ctx, leave_id))
    return {"leave_id": leave_id, "halves": len(_halves(start, start_half, end, end_half)), "status": status}


def _public(ctx: Context, leave_id: int) -> dict[str, Any] | None:
    return row(ctx, "SELECT staff_no, kind, start_day, start_half, end_day, end_half, note, status FROM leave "
                    "WHERE id = ?", [leave_id])


@HANDLERS.on(Msg.LEAVE_ADD, kinds={WEB, MANAGER})
def add(ctx: Context, body: LeaveAdd) -> dict[str, Any]:
    """A manager enters leave: approved at once."""
    return _insert(ctx, body.staff_no, body.kind, body.start_day, body.start_half, body.end_day, body.end_half,
                   body.note, "approved")


@HANDLERS.on(Msg.LEAVE_REQUEST, kinds={TERMINAL})
def request(ctx: Context, body: LeaveRequest) -> dict[str, Any]:
    """The clerk signed in at this terminal asks for leave; it counts once a manager approves it."""
    window = window_at(ctx, body.window)
    staff_no = window_row(ctx, window.number)["staff_no"]
    if not staff_no:
        raise NotSignedIn(f"nobody is signed in at window {window.number}", window=window.number)
    return _insert(ctx, staff_no, body.kind, body.start_day, body.start_half, body.end_day, body.end_half,
                   body.note, "requested")


@HANDLERS.on(Msg.LEAVE_DECIDE, kinds={WEB, MANAGER})
def decide(ctx: Context, body: LeaveDecide) -> dict[str, Any]:
    """A manager approves or rejects a clerk's request."""
    before = _public(ctx, body.leave_id)
    if before is None:
        raise UnknownLeave(f"no leave {body.leave_id}", leave_id=body.leave_id)
    if before["status"] != "requested":
        raise NotRequested(f"leave {body.leave_id} is {before['status']}, not awaiting a decision",
                           leave_id=body.leave_id, status=before["status"])
    status = "approved" if body.approve else "rejected"
    ctx.db.execute("UPDATE leave SET status = ?, decided_ms = ?, decided_by = ? WHERE id = ?",
                   [status, ctx.now_ms, ctx.node, body.leave_id])
    audit(ctx, f"leave.{'approve' if body.approve else 'reject'}", f"leave/{body.leave_id}", before,
          {**before, "status": status})
    return {"leave_id": body.leave_id, "status": status}


@HANDLERS.on(Msg.LEAVE_CANCEL, kinds={WEB, MANAGER})
def cancel(ctx: Context, body: LeaveCancel) -> dict[str, Any]:
    """销假 (or withdrawing a request): the leave stays on record, cancelled (who and when)."""
    lv = _public(ctx, body.leave_id)
    if lv is None:
        raise UnknownLeave(f"no leave {body.leave_id}", leave_id=body.leave_id)
    if lv["status"] in ("cancelled", "rejected"):
        raise AlreadyCancelled(f"leave {body.leave_id} is already {lv['status']}", leave_id=body.leave_id)
    ctx.db.execute("UPDATE leave SET status = 'cancelled', cancelled_ms = ?, cancelled_by = ? WHERE id = ?",
                   [ctx.now_ms, ctx.node, body.leave_id])
    audit(ctx, "leave.cancel", f"leave/{body.leave_id}", lv, {**lv, "status": "cancelled"})
    return {"leave_id": body.leave_id, "status": "cancelled"}
