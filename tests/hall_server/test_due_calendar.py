"""Deadlines on the official calendar (issue #11): 2026 from the chinese-calendar package, 2027
from the hall's own [calendar] lists, 2028 from nothing (provisional); provisional due dates are
recomputed at the first tick after a restart with the data, and the API says which are provisional."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from config.schema import HallCalendar, HallConfig
from hall_server.core.backend import LocalBackend
from hall_server.domain import cases
from hall_server.domain.hours import local
from hall_server.domain.workdays import calendar_for, due, due_day, is_workday
from hall_server.core.hub import Hub
from hall_server.web.app import make_app

from .conftest import TZ, Driver, at, make_config

# A test arrangement in the official form (NOT the State Council's 2027 notice): 元旦 off Friday to
# Sunday, one makeup working Saturday in February.
CAL_2027 = HallCalendar(holidays=(date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)),
                        workdays=(date(2027, 2, 6),))
VIEWER_KEY = "test-viewer-key"


def with_calendar(config: HallConfig, calendar: HallCalendar) -> HallConfig:
    return dataclasses.replace(config, hall=dataclasses.replace(config.hall, calendar=calendar))


@pytest.fixture
def config_2027(config: HallConfig) -> HallConfig:
    return with_calendar(config, CAL_2027)


def test_2026_comes_from_the_package_and_is_official(config: HallConfig) -> None:
    d = due(at(16, 0, day=date(2026, 9, 30)), 1, config)
    assert d == dataclasses.replace(d, day=date(2026, 10, 8), provisional=False)
    assert local(d.at_ms, config) == datetime(2026, 10, 8, 17, 30, tzinfo=TZ)        # 下班: the last session's end
    assert due(at(16, 0, day=date(2026, 9, 30)), 15, config).day == date(2026, 10, 27)
    assert not due(at(16, 0, day=date(2026, 9, 30)), 15, config).provisional


def test_2027_from_the_hall_list_instead_of_counting_yuandan(config: HallConfig, config_2027: HallConfig) -> None:
    dec31 = at(10, 0, day=date(2026, 12, 31))
    # Without data, 元旦 (a Friday) counts as a working day: the due date is wrong, so it is provisional.
    assert (due(dec31, 1, config).day, due(dec31, 1, config).provisional) == (date(2027, 1, 1), True)
    # With the hall's list: the first working day after 31 Dec is Monday 4 Jan, and it is official.
    assert (due(dec31, 1, config_2027).day, due(dec31, 1, config_2027).provisional) == (date(2027, 1, 4), False)
    assert due(dec31, 15, config_2027).day == date(2027, 1, 22)
    assert is_workday(date(2027, 2, 6), config_2027) and not is_workday(date(2027, 2, 6), config)  # 调休上班
    assert is_workday(date(2027, 2, 8), config_2027) and not is_workday(date(2027, 2, 7), config_2027)


def test_2028_with_nothing_is_provisional(config_2027: HallConfig) -> None:
    late_dec = at(10, 0, day=date(2027, 12, 29))
    assert not due(late_dec, 1, config_2027).provisional                  # 30 Dec 2027: the hall's year
    rectify = due(late_dec, 15, config_2027)
    assert rectify.provisional and rectify.day == date(2028, 1, 19)        # Monday–Friday into 2028


def test_the_hall_list_overrides_the_package_only_where_it_names_a_date(config: HallConfig) -> None:
    local_holiday = with_calendar(config, HallCalendar(holidays=(date(2026, 11, 23),)))
    assert is_workday(date(2026, 11, 23), config) and not is_workday(date(2026, 11, 23), local_holiday)
    assert not is_workday(date(2026, 10, 1), local_holiday)                # still the package's National Day
    assert is_workday(date(2026, 10, 10), local_holiday)                   # and its makeup Saturday
    assert calendar_for(local_holiday).fingerprint != calendar_for(config).fingerprint


def test_due_day_reads_both_the_closing_time_and_a_legacy_midnight(config: HallConfig) -> None:
    assert due_day(at(17, 30, day=date(2027, 1, 8)), config) == date(2027, 1, 8)
    assert due_day(at(0, 0, day=date(2027, 1, 9)), config) == date(2027, 1, 8)   # 24:00 of 8 Jan
    assert due(at(10, 0, day=date(2026, 11, 23)), 1, None).at_ms == at(0, 0, day=date(2026, 11, 25))


def _bad_case(hall: Driver, day: date) -> int:
    hall.now = at(10, 0, day=day)
    hall.ok("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1")
    hall.serve(1)
    return hall.ok("rating.submit", {"level": 1, "tags": ["N01"], "phone": "13900001111"}, "kiosk-1")["case_id"]


def _api(hub: Hub, path: str) -> Any:
    app = make_app(LocalBackend(hub), api_keys={VIEWER_KEY: "viewer"})
    with TestClient(app) as client:
        r = client.get(path, headers={"X-Api-Key": VIEWER_KEY})
        assert r.status_code == 200, r.text
        return r.json()


def test_provisional_due_dates_are_recomputed_after_a_restart_with_the_data(
        tmp_path: Path, config: HallConfig, config_2027: HallConfig) -> None:
    db = tmp_path / "hall.db"
    hub = Hub(db, config)
    try:
        hall = Driver(hub, at(9, 0))
        case_id = _bad_case(hall, date(2026, 12, 31))
        c = _api(hub, f"/api/cases/{case_id}")
        assert (c["callback_due_day"], c["callback_due_provisional"]) == ("2027-01-01", True)
        assert (c["rectify_due_day"], c["rectify_due_provisional"]) == ("2027-01-21", True)
        assert _api(hub, "/api/cases")["cases"][0]["callback_due_provisional"] is True
        # 元旦 counted as a working day: on 2 Jan the call-back looks overdue
        out = hall.ok("system.tick", {}, "system-1", now=at(10, 0, day=date(2027, 1, 2)))
        assert out["recomputed_cases"] == 0 and out["overdue_cases"] == 1
    finally:
        hub.close()

    hub = Hub(db, config_2027)                       # restart with the hall's 2027 arrangement
    try:
        hall = Driver(hub, at(10, 1, day=date(2027, 1, 2)))
        assert hall.ok("system.tick", {}, "system-1")["recomputed_cases"] == 1
        c = _api(hub, f"/api/cases/{case_id}")
        assert (c["callback_due_day"], c["callback_due_provisional"]) == ("2027-01-04", False)
        assert (c["rectify_due_day"], c["rectify_due_provisional"]) == ("2027-01-22", False)
        assert c["callback_due_ms"] == at(17, 30, day=date(2027, 1, 4))
        assert not cases.get(hub.db, case_id)["callback_overdue"]          # no longer overdue
        [event] = [e for e in c["events"] if e["kind"] == "due_recomputed"]
        assert event["note"] == "按最新日历：回访期限 2027-01-04 下班前；整改期限 2027-01-22 下班前"
        assert hall.ok("system.tick", {}, "system-1")["recomputed_cases"] == 0
    finally:
        hub.close()


def test_a_case_that_stays_provisional_is_not_recomputed_every_tick(hall: Driver) -> None:
    case_id = _bad_case(hall, date(2027, 12, 29))            # no data for 2027 nor 2028 in this hall
    assert cases.get(hall.hub.db, case_id)["rectify_due_provisional"] == 1
    assert hall.ok("system.tick", {}, "system-1")["recomputed_cases"] == 0
    assert [e["kind"] for e in cases.view(hall.hub.db, cases.get(hall.hub.db, case_id))["events"]] == ["opened"]


def test_open_cases_stored_before_the_migration_are_recomputed_once(hall: Driver) -> None:
    case_id = _bad_case(hall, date(2026, 11, 23))
    # as migration 40 leaves an older row: due at 24:00, no fingerprint
    hall.hub.db.execute("UPDATE cases SET callback_due_ms = ?, due_calendar = '' WHERE id = ?",
                        [at(0, 0, day=date(2026, 11, 25)), case_id])
    hall.hub.db.conn.commit()
    closed = hall.ok("comment.submit", {"text": "饮水机坏了"}, "qr")["case_id"]
    hall.ok("case.close", {"case_id": closed, "note": "已修好"}, "web")    # issue 15: a close needs a note
    hall.hub.db.execute("UPDATE cases SET callback_due_ms = 1, callback_overdue = 1, due_calendar = '' WHERE id = ?",
                        [closed])
    hall.hub.db.conn.commit()
    assert hall.ok("system.tick", {}, "system-1")["recomputed_cases"] == 1
    c = cases.get(hall.hub.db, case_id)
    assert c["callback_due_ms"] == at(17, 30, day=date(2026, 11, 24)) and c["callback_due_provisional"] == 0
    c = cases.get(hall.hub.db, closed)                      # closed before the migration: history kept
    assert (c["callback_due_ms"], c["callback_overdue"]) == (1, 1) and c["due_calendar"] != ""
    assert hall.ok("system.tick", {}, "system-1")["recomputed_cases"] == 0
