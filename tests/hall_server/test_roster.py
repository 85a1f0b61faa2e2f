"""排班 and 请销假: copy last week, half-day leave, refusals, the audit trail; hall hours per weekday;
a year without official calendar data."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import date, time

import pytest

from config.schema import HallCalendar, HallConfig, HallHours, Session
from hall_server.domain import attendance, leave, roster, workdays
from hall_server.domain.common import rows
from hall_server.domain.workdays import NoCalendarData, calendar_for, missing_years, open_sessions

from .conftest import Driver, at

MANAGER = "manager-boss"
MON = date(2026, 11, 23)          # a plain working week: 23–27 November 2026


def cells(hall: Driver, d: date) -> list[tuple[int, int, str]]:
    return [(r["half"], r["window"], r["staff_no"])
            for r in rows(hall.hub.db, "SELECT * FROM roster WHERE day = ? ORDER BY half, window", [d.isoformat()])]


def week_body(monday: date, plan: dict[int, list[tuple[int, int, str]]]) -> dict:
    return {"monday": monday.isoformat(),
            "cells": [{"day": date.fromordinal(monday.toordinal() + i).isoformat(), "half": h, "window": w,
                       "staff_no": s} for i, day_cells in plan.items() for h, w, s in day_cells]}


def test_copy_last_week_takes_each_weekday_and_skips_closed_days(hall: Driver) -> None:
    plan = {i: [(0, 1, "1001"), (1, 1, "1001"), (0, 2, "1002"), (1, 3, "")] for i in range(5)}
    plan[4] = [(0, 4, "1004")]                        # Friday: only window 4, mornings
    assert hall.ok("roster.set_week", week_body(MON, plan), MANAGER) == {"monday": "2026-11-23", "days": 5, "cells": 17}
    out = hall.ok("roster.copy_week", {"monday": "2026-11-30"}, MANAGER)
    assert out == {"monday": "2026-11-30", "days": 5, "cells": 17, "skipped": []}
    assert cells(hall, date(2026, 12, 1)) == [(0, 1, "1001"), (0, 2, "1002"), (1, 1, "1001"), (1, 3, "")]
    assert cells(hall, date(2026, 12, 4)) == [(0, 4, "1004")]
    assert cells(hall, date(2026, 12, 5)) == []       # Saturday: closed, nothing copied
    # a week with nothing before it
    hall.refused("nothing_to_copy", "roster.copy_week", {"monday": "2027-03-01"}, MANAGER)
    hall.refused("not_monday", "roster.copy_week", {"monday": "2026-12-01"}, MANAGER)
    # every change audited: who, what, before, after
    audit = rows(hall.hub.db, "SELECT * FROM roster_audit WHERE subject = '2026-12-04'")
    assert [(a["who"], a["what"], json.loads(a["before"]), json.loads(a["after"])) for a in audit] == \
        [(MANAGER, "roster.copy", None, [[0, 4, "1004"]])]


def test_a_roster_cell_on_a_closed_day_or_a_double_booking_is_refused(hall: Driver) -> None:
    sat = week_body(MON, {5: [(0, 1, "1001")]})
    hall.refused("closed_day", "roster.set_week", sat, MANAGER)
    double = week_body(MON, {0: [(0, 1, "1001"), (0, 2, "1001")]})
    hall.refused("double_booked", "roster.set_week", double, MANAGER)
    hall.refused("unknown_staff", "roster.set_week", week_body(MON, {0: [(0, 1, "9999")]}), MANAGER)
    hall.refused("unknown_window", "roster.set_week", week_body(MON, {0: [(0, 9, "1001")]}), MANAGER)
    hall.refused("forbidden", "roster.set_week", week_body(MON, {}), "terminal-1")      # staff cannot roster
    assert rows(hall.hub.db, "SELECT * FROM roster_days") == []


def test_the_roster_decides_who_is_late_and_which_window_is_vacant(hall: Driver) -> None:
    # Monday: windows 1 and 2 open; 1003 scheduled only in the afternoon at window 2
    hall.ok("roster.set_week", week_body(MON, {0: [(0, 1, "1001"), (0, 2, ""), (1, 2, "1003")]}), MANAGER)
    hall.ok("window.sign_in", {"staff_no": "1003", "pin": "1234"}, "terminal-2", now=at(9, 20))  # not due: not late
    hall.ok("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1", now=at(9, 5))   # due: late
    hall.ok("system.tick", {}, "system-1", now=at(10, 0))        # windows 3 and 4 closed: no 空岗
    hall.ok("window.sign_out", {}, "terminal-2", now=at(11, 0))  # not due in the morning: not early
    assert [(r["kind"], r["window"], r["staff_no"]) for r in rows(hall.hub.db, "SELECT * FROM attendance")] == \
        [("late", 1, "1001")]
    hall.ok("system.tick", {}, "system-1", now=at(14, 5))        # window 2 due open in the afternoon, nobody
    assert [(r["kind"], r["window"], r["session"]) for r in rows(hall.hub.db, "SELECT * FROM attendance")][1:] == \
        [("vacant", 2, 1)]


def test_leave_in_half_days(hall: Driver) -> None:
    out = hall.ok("leave.add", {"staff_no": "1002", "kind": "leave", "start_day": "2026-11-23", "start_half": 1,
                                "end_day": "2026-11-25", "end_half": 0, "note": "事假"}, MANAGER)
    assert out["halves"] == 4                       # Mon 下午, Tue 上午 下午, Wed 上午
    db = hall.hub.db
    assert leave.on_leave(db, "1002", date(2026, 11, 23), 0) is None
    assert leave.on_leave(db, "1002", date(2026, 11, 23), 1) is not None
    assert leave.on_leave(db, "1002", date(2026, 11, 25), 0) is not None
    assert leave.on_leave(db, "1002", date(2026, 11, 25), 1) is None
    assert leave.halves_off(db, date(2026, 11, 1), date(2026, 11, 30)) == {
        ("1002", date(2026, 11, 23), 1), ("1002", date(2026, 11, 24), 0), ("1002", date(2026, 11, 24), 1),
        ("1002", date(2026, 11, 25), 0)}
    # on leave in the morning of the 25th: coming in at 10:00 is not late; leaving in the afternoon is early
    hall.ok("window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-2", now=at(10, 0, day=date(2026, 11, 25)))
    hall.ok("window.sign_out", {}, "terminal-2", now=at(16, 0, day=date(2026, 11, 25)))
    assert [(r["kind"], r["session"]) for r in rows(db, "SELECT * FROM attendance")] == [("early", 1)]
    hall.refused("overlapping_leave", "leave.add", {"staff_no": "1002", "start_day": "2026-11-25", "start_half": 0,
                                                    "end_day": "2026-11-26", "end_half": 1}, MANAGER)
    hall.ok("leave.add", {"staff_no": "1002", "start_day": "2026-11-25", "start_half": 1, "end_day": "2026-11-25",
                          "end_half": 1}, MANAGER)                        # the next half is free
    hall.refused("bad_request", "leave.add", {"staff_no": "1002", "start_day": "2026-11-27", "start_half": 1,
                                              "end_day": "2026-11-27", "end_half": 0}, MANAGER)
    hall.refused("unknown_staff", "leave.add", {"staff_no": "7777", "start_day": "2026-11-27",
                                                "end_day": "2026-11-27"}, MANAGER)
    # 销假: cancelled, kept, audited; the halves count again
    hall.ok("leave.cancel", {"leave_id": out["leave_id"]}, MANAGER)
    hall.refused("already_cancelled", "leave.cancel", {"leave_id": out["leave_id"]}, MANAGER)
    hall.refused("unknown_leave", "leave.cancel", {"leave_id": 999}, MANAGER)
    assert leave.on_leave(db, "1002", date(2026, 11, 24), 0) is None
    assert [r["what"] for r in rows(db, "SELECT what FROM roster_audit ORDER BY id")] == \
        ["leave.add", "leave.add", "leave.cancel"]
    with pytest.raises(Exception):
        db.execute("DELETE FROM roster_audit")


def test_no_away_during_the_lunch_break_or_a_leave(hall: Driver) -> None:
    hall.ok("leave.add", {"staff_no": "1001", "start_day": "2026-11-23", "start_half": 1, "end_day": "2026-11-23",
                          "end_half": 1}, MANAGER)
    hall.sign_in(1, "1001")
    hall.ok("window.pause", {"reason": "午休"}, "terminal-1", now=at(11, 50))
    hall.ok("system.tick", {}, "system-1", now=at(16, 0))      # 10 min before lunch, then the afternoon on leave
    hall.ok("window.resume", {}, "terminal-1", now=at(17, 0))
    assert rows(hall.hub.db, "SELECT * FROM attendance WHERE window = 1") == []
    assert rows(hall.hub.db, "SELECT * FROM pauses WHERE away = 1") == []


def test_hours_per_weekday_and_open_days(config: HallConfig) -> None:
    friday = (Session(time(9, 0), time(12, 0)), Session(time(13, 30), time(16, 30)))
    saturday = (Session(time(9, 0), time(12, 0)),)
    hours = HallHours(weekdays=(None, None, None, None, friday, saturday, None))
    c = replace(config, hall=replace(config.hall, hours=hours))
    assert open_sessions(date(2026, 11, 27), c) == friday                      # a Friday
    assert open_sessions(date(2026, 11, 28), c) == saturday                    # 周六上午 延时服务
    assert open_sessions(date(2026, 11, 29), c) == ()                          # Sunday
    assert open_sessions(date(2026, 10, 3), c) == ()                           # a Saturday in 国庆: closed
    assert open_sessions(date(2026, 10, 10), c) == c.hall.sessions             # makeup Saturday: the usual hours
    assert open_sessions(date(2026, 10, 1), c) == ()                           # 国庆 on a Thursday
    assert [s.half for s in workdays.open_slots(date(2026, 11, 28), c)] == [0]
    # the deadline of a case ending on a Friday passes at that Friday's closing
    assert workdays.end_of_day_ms(date(2026, 11, 27), c) == at(16, 30, day=date(2026, 11, 27))


def test_a_year_without_official_data_is_named_and_the_hall_goes_on(config: HallConfig,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    calendar = calendar_for(config)
    with pytest.raises(NoCalendarData, match="2027"):
        calendar.require_official(2027)
    assert missing_years(config, range(2026, 2029)) == [2027, 2028]
    with caplog.at_level(logging.WARNING):
        workdays._warned.discard(2028)
        assert open_sessions(date(2028, 3, 6), config) == config.hall.sessions   # a Monday: Monday–Friday guessed
    assert "no official calendar for 2028" in caplog.text
    # the hall's own [calendar] supplies the year: its holidays are closed, its makeup days open
    own = HallCalendar(holidays=(date(2027, 1, 1), date(2027, 2, 15)), workdays=(date(2027, 2, 20),))
    c = replace(config, hall=replace(config.hall, calendar=own))
    calendar_for(c).require_official(2027)
    assert missing_years(c, [2027]) == []
    assert open_sessions(date(2027, 2, 15), c) == ()                             # a Monday off
    assert open_sessions(date(2027, 2, 20), c) == c.hall.sessions               # a Saturday worked
    assert calendar_for(c).is_public_holiday(date(2027, 1, 1))
    # what the server logs at start
    assert workdays.calendar_warnings(config, at(9, 0, day=date(2026, 12, 2))) == [
        "no official holiday arrangement for 2027: the chinese-calendar package lacks it; list the year's holidays "
        "and makeup working days in hall.toml [calendar]"]
    assert workdays.calendar_warnings(c, at(9, 0, day=date(2026, 12, 2))) == []


def test_without_a_roster_every_window_opens_on_open_days_only(hall: Driver) -> None:
    sunday = date(2026, 11, 29)
    assert roster.open_windows(hall.hub.config, sunday, 0, None) == {}
    assert roster.open_windows(hall.hub.config, MON, 0, None) == {1: "", 2: "", 3: "", 4: ""}
    assert attendance.windows_due(hall.hub.db, hall.hub.config, date(2026, 10, 1), 0) == []   # 国庆
    hall.ok("system.tick", {}, "system-1", now=at(10, 0, day=sunday))
    hall.ok("system.tick", {}, "system-1", now=at(10, 0, day=date(2026, 10, 5)))
    assert rows(hall.hub.db, "SELECT * FROM attendance") == []


def test_a_clerk_requests_leave_at_the_terminal_and_a_manager_decides(hall: Driver) -> None:
    body = {"kind": "leave", "start_day": "2026-11-24", "start_half": 0, "end_day": "2026-11-24", "end_half": 0,
            "note": "看病"}
    hall.refused("not_signed_in", "leave.request", body, "terminal-2")
    hall.sign_in(2, "1002")
    out = hall.ok("leave.request", body, "terminal-2")
    assert out["status"] == "requested" and out["halves"] == 1
    db = hall.hub.db
    assert leave.on_leave(db, "1002", date(2026, 11, 24), 0) is None          # not yet: awaiting approval
    hall.refused("overlapping_leave", "leave.request", body, "terminal-2")
    hall.refused("forbidden", "leave.decide", {"leave_id": out["leave_id"], "approve": True}, "terminal-2")
    hall.refused("forbidden", "leave.add", {"staff_no": "1002", "start_day": "2026-11-25", "end_day": "2026-11-25"},
                 "terminal-2")                                               # a clerk cannot approve their own
    assert hall.ok("leave.decide", {"leave_id": out["leave_id"], "approve": True}, MANAGER)["status"] == "approved"
    assert leave.on_leave(db, "1002", date(2026, 11, 24), 0) is not None
    hall.refused("not_requested", "leave.decide", {"leave_id": out["leave_id"], "approve": False}, MANAGER)
    second = hall.ok("leave.request", {**body, "start_day": "2026-11-26", "end_day": "2026-11-26"}, "terminal-2")
    assert hall.ok("leave.decide", {"leave_id": second["leave_id"], "approve": False}, MANAGER)["status"] == "rejected"
    assert leave.on_leave(db, "1002", date(2026, 11, 26), 0) is None
    assert [(r["who"], r["what"]) for r in rows(db, "SELECT who, what FROM roster_audit ORDER BY id")] == [
        ("terminal-2", "leave.request"), (MANAGER, "leave.approve"), ("terminal-2", "leave.request"),
        (MANAGER, "leave.reject")]
