"""排班, the roster: which windows open on which days and halves (上午 / 下午) and who is scheduled at
each, entered by managers a week at a time (`roster.set_week`), or copied from the week before
(`roster.copy_week`). Tables: `hall_server.domain.roster_tables`.

A day with no roster entered falls back to "every configured window open, nobody in particular
scheduled" — on open days only (`workdays.open_slots`): never a weekend or a public holiday.

| type | from | body | result |
|---|---|---|---|
| `roster.set_week` | web, manager | `{monday, cells: [{day, half, window, staff_no}]}` | `{monday, days, cells}` — every open day of the week gets exactly these cells (a window without a cell is closed that half) |
| `roster.copy_week` | web, manager | `{monday}` | `{monday, days, cells, skipped}` — each open day takes the roster of the same weekday a week earlier (of up to 4 weeks back when that day had none, e.g. a holiday); a day without any source is skipped (keeps its own) |

Refusals: `closed_day` (a cell on a day the hall is closed), `not_monday`, `nothing_to_copy`,
`unknown_window`, `unknown_staff`, `double_booked` (one clerk at two windows in one half).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.common import MANAGER, WEB, rows
from hall_server.domain.context import BadRequest, Context, DomainError, Handlers
from hall_server.domain.errors import UnknownStaff, UnknownWindow
from hall_server.domain.workdays import open_slots
from hallnet.bodies import RosterCopyWeek, RosterSetWeek
from hallnet.vocabulary import Msg

HANDLERS = Handlers()          # this module's message types (merged in hall_server.domain.handlers)
MANAGERS = {WEB, MANAGER}
NOBODY = ""                    # an open window with nobody in particular scheduled


class ClosedDay(DomainError):
    code = "closed_day"


class NotMonday(DomainError):
    code = "not_monday"


class NothingToCopy(DomainError):
    code = "nothing_to_copy"


class DoubleBooked(DomainError):
    code = "double_booked"


def parse_day(text: str, field: str = "day") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"no such date {text!r}", field=field) from None


def monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def week_days(monday: date) -> list[date]:
    return [monday + timedelta(days=i) for i in range(7)]


def audit(ctx: Context, what: str, subject: str, before: Any, after: Any) -> None:
    """One append-only `roster_audit` record: who (the manager's node), when, before and after."""
    ctx.db.execute("INSERT INTO roster_audit (at_ms, who, what, subject, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                   [ctx.now_ms, ctx.node, what, subject, json.dumps(before, ensure_ascii=False),
                    json.dumps(after, ensure_ascii=False)])


# --- reading ------------------------------------------------------------------------------------

Plan = dict[tuple[int, int], str]          # (half, window) -> staff_no ('' nobody named)


def day_plan(db: sqlite_utils.Database, d: date) -> Plan | None:
    """The roster entered for `d`, or None when none was (then the fallback applies)."""
    day = d.isoformat()
    if next(db.query("SELECT 1 AS x FROM roster_days WHERE day = ?", [day]), None) is None:
        return None
    return {(r["half"], r["window"]): r["staff_no"] for r in db.query(
        "SELECT half, window, staff_no FROM roster WHERE day = ?", [day])}


def plans(db: sqlite_utils.Database, start: date, end: date) -> dict[date, Plan]:
    """Every roster entered for a day in [start, end] (days without one are absent)."""
    out: dict[date, Plan] = {date.fromisoformat(r["day"]): {} for r in db.query(
        "SELECT day FROM roster_days WHERE day BETWEEN ? AND ?", [start.isoformat(), end.isoformat()])}
    for r in db.query("SELECT day, half, window, staff_no FROM roster WHERE day BETWEEN ? AND ?",
                      [start.isoformat(), end.isoformat()]):
        out[date.fromisoformat(r["day"])][(r["half"], r["window"])] = r["staff_no"]
    return out


def open_windows(config: HallConfig, d: date, half: int, plan: Plan | None) -> dict[int, str]:
    """The windows open in that half of `d` (window -> scheduled staff_no, '' nobody named): the
    day's roster, or every configured window open when none was entered; {} when the hall is closed."""
    if not any(slot.half == half for slot in open_slots(d, config)):
        return {}
    configured = {w.number for w in config.windows if getattr(w, "open", True)}
    if plan is None:
        return {number: NOBODY for number in sorted(configured)}
    return {w: s for (h, w), s in sorted(plan.items()) if h == half and w in configured}


def scheduled(staff_no: str, half: int, plan: Plan | None) -> bool:
    """Whether the clerk is due at work in that half: named at a window in the day's roster, or —
    with no roster entered for the day — always (every clerk keeps the hall's hours)."""
    if plan is None:
        return True
    return any(h == half and s == staff_no for (h, _w), s in plan.items())


# --- writing ------------------------------------------------------------------------------------

def _open_days(config: HallConfig, monday: date) -> dict[date, set[int]]:
    """The open days of the week with their open halves."""
    out = {}
    for d in week_days(monday):
        halves = {slot.half for slot in open_slots(d, config)}
        if halves:
            out[d] = halves
    return out


def _plan_json(plan: Plan | None) -> list[list[Any]] | None:
    return None if plan is None else [[h, w, s] for (h, w), s in sorted(plan.items())]


def _store_day(ctx: Context, d: date, plan: Plan, what: str) -> None:
    day = d.isoformat()
    before = day_plan(ctx.db, d)
    ctx.db.execute("DELETE FROM roster WHERE day = ?", [day])
    ctx.db.execute("INSERT INTO roster_days (day, set_ms, set_by) VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE "
                   "SET set_ms = excluded.set_ms, set_by = excluded.set_by", [day, ctx.now_ms, ctx.node])
    for (half, window), staff_no in sorted(plan.items()):
        ctx.db.execute("INSERT INTO roster (day, half, window, staff_no) VALUES (?, ?, ?, ?)",
                       [day, half, window, staff_no])
    if before != plan:
        audit(ctx, what, day, _plan_json(before), _plan_json(plan))


def _check_plan(config: HallConfig, plan: Plan, d: date) -> None:
    seen: dict[tuple[int, str], int] = {}
    for (half, window), staff_no in plan.items():
        try:
            config.window(window)
        except KeyError:
            raise UnknownWindow(f"no window {window}", window=window) from None
        if staff_no:
            try:
                config.staff_member(staff_no)
            except KeyError:
                raise UnknownStaff(f"no staff {staff_no}", staff_no=staff_no) from None
            other = seen.setdefault((half, staff_no), window)
            if other != window:
                raise DoubleBooked(f"{staff_no} is scheduled at windows {other} and {window} on {d} half {half}",
                                   staff_no=staff_no, day=d.isoformat(), half=half, windows=[other, window])


def _monday(text: str) -> date:
    monday = parse_day(text, "monday")
    if monday.weekday() != 0:
        raise NotMonday(f"{monday} is not a Monday", monday=text)
    return monday


@HANDLERS.on(Msg.ROSTER_SET_WEEK, kinds=MANAGERS)
def set_week(ctx: Context, body: RosterSetWeek) -> dict[str, Any]:
    """Replace the roster of every open day of the week with the cells given."""
    monday = _monday(body.monday)
    days = _open_days(ctx.config, monday)
    new: dict[date, Plan] = {d: {} for d in days}
    for cell in body.cells:
        d = parse_day(cell.day)
        if d not in days or cell.half not in days[d]:
            raise ClosedDay(f"the hall is closed on {d} half {cell.half}", day=cell.day, half=cell.half)
        new[d][(cell.half, cell.window)] = cell.staff_no
    for d, plan in new.items():
        _check_plan(ctx.config, plan, d)
    for d, plan in sorted(new.items()):
        _store_day(ctx, d, plan, "roster.set")
    return {"monday": monday.isoformat(), "days": len(new), "cells": len(body.cells)}


COPY_WEEKS_BACK = 4


@HANDLERS.on(Msg.ROSTER_COPY_WEEK, kinds=MANAGERS)
def copy_week(ctx: Context, body: RosterCopyWeek) -> dict[str, Any]:
    """Each open day of the week takes the roster of the same weekday of the week before (its
    windows and people as far as they still exist); when that day has none (a holiday), of the
    latest of the `COPY_WEEKS_BACK` weeks before that has one. Days without any keep their own."""
    monday = _monday(body.monday)
    earliest = monday - timedelta(days=7 * COPY_WEEKS_BACK)
    sources = plans(ctx.db, earliest, monday - timedelta(days=1))
    if not any(d >= monday - timedelta(days=7) for d in sources):
        raise NothingToCopy(f"no roster entered in the week of {monday - timedelta(days=7)}",
                            monday=(monday - timedelta(days=7)).isoformat())
    windows = {w.number for w in ctx.config.windows}
    staff = {s.staff_no for s in ctx.config.staff}
    copied, skipped, cells = 0, [], 0
    for d, halves in sorted(_open_days(ctx.config, monday).items()):
        back = [d - timedelta(days=7 * k) for k in range(1, COPY_WEEKS_BACK + 1)]
        source = next((sources[b] for b in back if b in sources), None)
        if source is None:
            skipped.append(d.isoformat())
            continue
        plan = {(h, w): (s if s in staff else NOBODY) for (h, w), s in source.items() if h in halves and w in windows}
        _store_day(ctx, d, plan, "roster.copy")
        copied += 1
        cells += len(plan)
    return {"monday": monday.isoformat(), "days": copied, "cells": cells, "skipped": skipped}


def audit_rows(db: sqlite_utils.Database, limit: int = 50) -> list[dict[str, Any]]:
    return rows(db, "SELECT * FROM roster_audit ORDER BY id DESC LIMIT ?", [limit])
