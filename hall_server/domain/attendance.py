"""Who is due where (R10 attendance against the calendar, the roster and leave), and which stored
attendance events count.

- A clerk is **due** in an open session (`workdays.open_slots`) when the day's roster names them at a
  window in that half (every clerk, when no roster was entered for the day) and no approved leave or
  trip covers that half. 迟到 and 早退 are flagged only then (`staff.sign_in` / `sign_out`).
- A window is **due open** in an open session when the day's roster opens it (every configured window
  without a roster) and the clerk scheduled there is not on leave. 空岗 is flagged only then.
- 离岗 counts pause time inside open sessions only (never the lunch break, a closed day, or a half
  the clerk is on leave).

`counted` recounts stored events against the roster, leave and calendar as they are now (a sick
leave entered the next day removes that day's 迟到); the monthly assessment and the attendance
figures use it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain import leave, roster
from hall_server.domain.common import rows
from hall_server.domain.hours import local
from hall_server.domain.workdays import open_slots

KINDS = ("late", "early", "away", "vacant")


def clerk_due(db: sqlite_utils.Database, config: HallConfig, staff_no: str, d: date, half: int) -> bool:
    if not any(slot.half == half for slot in open_slots(d, config)):
        return False
    return roster.scheduled(staff_no, half, roster.day_plan(db, d)) and leave.on_leave(db, staff_no, d, half) is None


def windows_due(db: sqlite_utils.Database, config: HallConfig, d: date, half: int) -> list[int]:
    """The windows due open in that half of `d` (their scheduled clerk, if any, not on leave)."""
    out = []
    for window, staff_no in roster.open_windows(config, d, half, roster.day_plan(db, d)).items():
        if not staff_no or leave.on_leave(db, staff_no, d, half) is None:
            out.append(window)
    return out


def paused_in_hours_ms(db: sqlite_utils.Database, config: HallConfig, staff_no: str, start_ms: int,
                       end_ms: int) -> int:
    """How much of [start_ms, end_ms) falls in open sessions the clerk is not on leave for."""
    total, d = 0, local(start_ms, config).date()
    last = local(max(start_ms, end_ms - 1), config).date()
    while d <= last:
        for slot in open_slots(d, config):
            overlap = min(slot.end_ms, end_ms) - max(slot.start_ms, start_ms)
            if overlap > 0 and leave.on_leave(db, staff_no, d, slot.half) is None:
                total += overlap
        d += timedelta(days=1)
    return total


def away_half(config: HallConfig, start_ms: int, until_ms: int) -> int:
    """The half a 离岗 is filed under: the open session in which the pause ended, else the last one
    it overlapped (-1 when none: then it is not counted)."""
    found = -1
    d = local(start_ms, config).date()
    while d <= local(until_ms, config).date():
        for slot in open_slots(d, config):
            if slot.start_ms < until_ms and slot.end_ms > start_ms:
                found = slot.half
        d += timedelta(days=1)
    return found


def counted(db: sqlite_utils.Database, config: HallConfig, start_day: str, end_day: str) -> list[dict[str, Any]]:
    """The stored attendance events of [start_day, end_day] that count now (see the module docstring)."""
    start, end = date.fromisoformat(start_day), date.fromisoformat(end_day)
    off = leave.halves_off(db, start, end)
    plans = roster.plans(db, start, end)
    halves: dict[date, set[int]] = {}
    out = []
    for r in rows(db, "SELECT * FROM attendance WHERE day BETWEEN ? AND ? ORDER BY id", [start_day, end_day]):
        d, half = date.fromisoformat(r["day"]), r["session"]
        if d not in halves:
            halves[d] = {slot.half for slot in open_slots(d, config)}
        if half not in halves[d]:
            continue                                   # a closed day, the lunch break, after hours
        plan = plans.get(d)
        if r["kind"] == "vacant":
            scheduled = roster.open_windows(config, d, half, plan)
            if r["window"] not in scheduled or (scheduled[r["window"]], d, half) in off:
                continue
        elif (r["staff_no"], d, half) in off:
            continue
        elif r["kind"] in ("late", "early") and not roster.scheduled(r["staff_no"], half, plan):
            continue
        out.append(r)
    return out

