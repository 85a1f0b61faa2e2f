"""Issue #14: a month of attendance against the calendar, the roster and leave.

May 2026 on China's official calendar (chinese-calendar 1.11.0): 劳动节 1–5 May (Fri 1, Mon 4 and
Tue 5 off, with the weekend 2–3 between), Saturday 9 May a makeup working day (调休上班), plain
weekends 10, 16–17, 23–24 and 30–31. The hall: 09:00–12:00 and 13:30–17:30 (the lunch break
between), pause limit 30 minutes, the default deductions (−3 a half day of 离岗/空岗, −1 a 迟到/早退).

Windows 1 and 2 are rostered (1001 at 1, 1002 at 2, every open day, both halves); window 3 is never
opened (an unused window). Everybody works their hours on every open day except:
  6 May   1001 signs in at 09:10                              → 迟到 (window 1, 1001)
  7 May   1002 on sick leave all day, 8 May 上午 too (half days); she comes in at 11:00 on the 8th
          → no 空岗 at window 2, no 迟到 for her
  9 May   (makeup Saturday, rostered) 1002 does not come       → 空岗 window 2, 上午 and 下午
 12 May   1001 signs out at 17:00                             → 早退 (window 1, 1001)
 13 May   1002 pauses 10:00–10:45 (45 min in hours)           → 离岗 (window 2, 1002)
 14 May   1001 pauses 11:58–13:35 over lunch (97 min, 7 in hours) → nothing
 20–21 May 1001 on a business trip (出差), nobody at window 1 → nothing
Public holidays, weekends and window 3 → nothing. The old code flagged 空岗 for every window on every
calendar day: about 50 points a month from every window.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from config.schema import HallConfig, Window

from hall_server.core.hub import Hub
from hall_server.domain import assessment, figures
from hall_server.domain.common import rows

from .conftest import Driver, at, make_config

MANAGER = "manager-boss"
MAY = [date(2026, 5, 1) + timedelta(days=i) for i in range(31)]
SICK = {"staff_no": "1002", "kind": "leave", "start_day": "2026-05-07", "start_half": 0,
        "end_day": "2026-05-08", "end_half": 0, "note": "病假"}
TRIP = {"staff_no": "1001", "kind": "trip", "start_day": "2026-05-20", "start_half": 0,
        "end_day": "2026-05-21", "end_half": 1, "note": "省厅培训"}


def three_windows(pin_hash: str) -> HallConfig:
    c = make_config(pin_hash)
    return replace(c, windows=(Window(1, "1号窗口", ("A",)), Window(2, "2号窗口", ("A", "B")), Window(3, "3号窗口", ("B", "C"))))


@pytest.fixture(scope="module")
def may_db(tmp_path_factory: pytest.TempPathFactory, pin_hash: str) -> Path:
    """May 2026 lived once (a few seconds); each test opens its own copy."""
    path = tmp_path_factory.mktemp("may") / "hall.db"
    hub = Hub(path, three_windows(pin_hash))
    try:
        run_may(Driver(hub, at(8, 0, day=date(2026, 4, 27))))
    finally:
        hub.close()
    return path


@pytest.fixture
def hall3(may_db: Path, tmp_path: Path, pin_hash: str) -> Driver:
    shutil.copy(may_db, tmp_path / "hall.db")
    hub = Hub(tmp_path / "hall.db", three_windows(pin_hash))
    yield Driver(hub, at(8, 0, day=date(2026, 6, 1)))
    hub.close()


def week(monday: date, days: int, people: dict[int, str]) -> dict:
    cells = [{"day": (monday + timedelta(days=i)).isoformat(), "half": h, "window": w, "staff_no": s}
             for i in range(days) for h in (0, 1) for w, s in people.items()]
    return {"monday": monday.isoformat(), "cells": cells}


def tick(hall: Driver, d: date, hh: int, mm: int) -> None:
    hall.ok("system.tick", {}, "system-1", now=at(hh, mm, day=d))


def attendance(hall: Driver) -> list[tuple]:
    return [(r["day"][5:], r["session"], r["kind"], r["window"], r["staff_no"])
            for r in rows(hall.hub.db, "SELECT * FROM attendance ORDER BY day, session, window, kind")]


def run_may(hall: Driver) -> None:
    """Enter the roster and leave, then live every day of May, ticking every half hour."""
    hall.now = at(8, 0, day=date(2026, 4, 27))
    people = {1: "1001", 2: "1002"}
    hall.ok("roster.set_week", week(date(2026, 4, 27), 4, people), MANAGER)             # Mon–Thu; Fri 1 May off
    may4 = week(date(2026, 5, 4), 6, people)                                             # the 9th is a makeup Saturday
    may4["cells"] = [c for c in may4["cells"] if c["day"] >= "2026-05-06"]
    hall.ok("roster.set_week", may4, MANAGER)
    for monday in (date(2026, 5, 11), date(2026, 5, 18), date(2026, 5, 25)):
        hall.ok("roster.copy_week", {"monday": monday.isoformat()}, MANAGER)
    hall.ok("leave.add", SICK, MANAGER)
    hall.ok("leave.add", TRIP, MANAGER)

    absent = {(date(2026, 5, 7), "1002"), (date(2026, 5, 8), "1002"), (date(2026, 5, 9), "1002"),
              (date(2026, 5, 20), "1001"), (date(2026, 5, 21), "1001")}
    closed = {date(2026, 5, 1), date(2026, 5, 4), date(2026, 5, 5)}
    special = {   # (day, clerk) -> that day's own events at their window
        (date(2026, 5, 6), "1001"): [((9, 10), "window.sign_in"), ((17, 30), "window.sign_out")],
        (date(2026, 5, 8), "1002"): [((11, 0), "window.sign_in"), ((17, 30), "window.sign_out")],
        (date(2026, 5, 12), "1001"): [((8, 55), "window.sign_in"), ((17, 0), "window.sign_out")],
        (date(2026, 5, 13), "1002"): [((8, 55), "window.sign_in"), ((10, 0), "window.pause"),
                                      ((10, 45), "window.resume"), ((17, 30), "window.sign_out")],
        (date(2026, 5, 14), "1001"): [((8, 55), "window.sign_in"), ((11, 58), "window.pause"),
                                      ((13, 35), "window.resume"), ((17, 30), "window.sign_out")],
    }
    for d in MAY:
        events: list[tuple[tuple[int, int], int, str, str]] = [((hh, mm), 9, "system.tick", "")
                                                               for hh in range(8, 19) for mm in (1, 31)]
        for window, staff_no in ((1, "1001"), (2, "1002")):
            if (d, staff_no) in special:
                events += [(hm, window, kind, staff_no) for hm, kind in special[(d, staff_no)]]
            elif (d.weekday() < 5 and d not in closed or d == date(2026, 5, 9)) and (d, staff_no) not in absent:
                events += [((8, 55), window, "window.sign_in", staff_no), ((17, 30), window, "window.sign_out", "")]
        for (hh, mm), window, kind, staff_no in sorted(events):
            now = at(hh, mm, day=d)
            if kind == "system.tick":
                hall.send(kind, {}, "system-1", now=now)
            elif kind == "window.sign_in":
                hall.ok(kind, {"staff_no": staff_no, "pin": "1234"}, f"terminal-{window}", now=now)
            else:
                hall.ok(kind, {"reason": "临时离开" if d.day == 13 else "午休"} if kind == "window.pause" else {},
                        f"terminal-{window}", now=now)


def test_a_month_gives_exactly_the_expected_flags_and_deductions(hall3: Driver) -> None:
    assert attendance(hall3) == [
        ("05-06", 0, "late", 1, "1001"),
        ("05-09", 0, "vacant", 2, ""),
        ("05-09", 1, "vacant", 2, ""),
        ("05-12", 1, "early", 1, "1001"),
        ("05-13", 0, "away", 2, "1002"),
    ]
    month = assessment.monthly(hall3.hub.db, hall3.hub.config, "2026-05")
    windows = {w["key"]: (w["score"], w["away_half_days"], w["late_early"]) for w in month["windows"]}
    assert windows == {1: (98.0, 0, 2), 2: (91.0, 3, 0), 3: (100.0, 0, 0)}
    staff = {s["key"]: (s["score"], s["away_half_days"], s["late_early"]) for s in month["staff"]}
    assert staff == {"1001": (98.0, 0, 2), "1002": (97.0, 1, 0)}
    by_window = figures.attendance(hall3.hub.db, "2026-05-01", "2026-05-31", "window", hall3.hub.config)
    assert [(r["key"], r["late"], r["early"], r["away"], r["vacant"]) for r in by_window] == \
        [(1, 1, 1, 0, 0), (2, 0, 0, 1, 2)]


def test_leave_entered_afterwards_removes_the_deductions_of_its_half_days(hall3: Driver) -> None:
    # 1002 was in fact on leave on the makeup Saturday: entered on Monday, the 空岗 no longer counts
    hall3.ok("leave.add", {"staff_no": "1002", "start_day": "2026-05-09", "start_half": 0,
                           "end_day": "2026-05-09", "end_half": 1}, MANAGER, now=at(9, 0, day=date(2026, 6, 1)))
    month = assessment.monthly(hall3.hub.db, hall3.hub.config, "2026-05")
    assert {w["key"]: w["score"] for w in month["windows"]} == {1: 98.0, 2: 97.0, 3: 100.0}
    assert len(attendance(hall3)) == 5          # the stored events stay as they were (append-only)
