"""R7: each 差评 opens a case at once; due dates on China's working-day calendar; call-back,
rectification, appeal and decision records; overdue flags. R12 hall comments."""

from datetime import date, datetime

from hall_server.domain import cases, figures
from hall_server.domain.common import rows
from hall_server.domain.hours import local
from hall_server.domain.workdays import add_workdays, due_ms, is_workday

from .conftest import Driver, at


def test_national_day_2026_and_its_makeup_working_day() -> None:
    assert not is_workday(date(2026, 10, 1)) and not is_workday(date(2026, 10, 7))
    assert is_workday(date(2026, 10, 10))          # Saturday, makeup working day
    assert not is_workday(date(2026, 10, 11))      # Sunday
    # call-back due: 1 working day after 30 Sept is 8 Oct
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # rectification: 15 working days after 30 Sept counts Saturday 10 Oct
    assert add_workdays(date(2026, 9, 30), 15) == date(2026, 10, 27)
    # opened on a holiday: the count starts from the next working day
    assert add_workdays(date(2026, 10, 3), 1) == date(2026, 10, 8)
    assert add_workdays(date(2026, 10, 9), 1) == date(2026, 10, 10)


def test_due_ms_is_end_of_local_working_day() -> None:
    opened = at(16, 0, day=date(2026, 9, 30))
    due = local(due_ms(opened, 1, None), None)
    assert (due.date(), due.hour, due.minute) == (date(2026, 10, 9), 0, 0)   # i.e. 24:00 on 8 Oct


def test_unknown_years_fall_back_to_weekdays() -> None:
    assert is_workday(date(2099, 1, 5)) and not is_workday(date(2099, 1, 3))


def _bad(hall: Driver, day: date, window: int = 1) -> int:
    hall.now = at(10, 0, day=day)
    hall.ok("window.sign_in", {"staff_no": f"100{window}", "pin": "1234"}, f"terminal-{window}")
    hall.serve(window)
    return hall.ok("rating.submit", {"level": 1, "tags": ["N01"], "phone": "13900001111"}, f"kiosk-{window}")["case_id"]


def test_case_due_dates_across_national_day(hall: Driver) -> None:
    # Changed with issue #11: a due time is the end (下班, the last session's end, 17:30 here) of
    # the working day, no longer 24:00 (《民法典》第二百零三条: with business hours, the deadline
    # is when business stops).
    case_id = _bad(hall, date(2026, 9, 30))
    c = cases.get(hall.hub.db, case_id)
    assert local(c["callback_due_ms"], None) == datetime(2026, 10, 8, 17, 30, tzinfo=local(0, None).tzinfo)
    assert local(c["rectify_due_ms"], None) == datetime(2026, 10, 27, 17, 30, tzinfo=local(0, None).tzinfo)
    # still in time on 8 Oct before 下班; overdue flagged by the tick after
    hall.ok("system.tick", {}, "system-1", now=at(17, 29, day=date(2026, 10, 8)))
    assert not cases.get(hall.hub.db, case_id)["callback_overdue"]
    out = hall.ok("system.tick", {}, "system-1", now=at(17, 31, day=date(2026, 10, 8)))
    assert out["overdue_cases"] == 1
    assert cases.get(hall.hub.db, case_id)["callback_overdue"]
    assert hall.hub.state.get("mgr/floor")["overdue_cases"] == 1


def test_case_flow_records_and_rates(hall: Driver) -> None:
    case_id = _bad(hall, date(2026, 11, 23))
    hall.refused("wrong_case_state", "case.rectify", {"case_id": case_id}, "web")
    r = hall.ok("case.callback", {"case_id": case_id, "note": "电话回访"}, "web")
    assert r["status"] == "called_back" and not r["late"]
    hall.refused("wrong_case_state", "case.callback", {"case_id": case_id}, "web")
    hall.ok("case.rectify", {"case_id": case_id, "note": "批评教育"}, "web")
    hall.refused("forbidden", "case.callback", {"case_id": case_id}, "terminal-1")
    hall.refused("unknown_case", "case.callback", {"case_id": 999}, "web")
    kinds = [e["kind"] for e in cases.view(hall.hub.db, cases.get(hall.hub.db, case_id))["events"]]
    assert kinds == ["opened", "callback", "rectified"]
    rates = figures.case_rates(hall.hub.db, hall.hub.config, "2026-11-01", "2026-11-30")[0]
    assert rates["cases"] == 1 and rates["callback_rate"] == 1 and rates["rectify_rate"] == 1
    assert rates["followup_satisfied_rate"] is None


def test_appeal_upheld_keeps_the_rating_but_leaves_the_score(hall: Driver) -> None:
    case_id = _bad(hall, date(2026, 11, 23))
    hall.refused("not_signed_in", "case.appeal", {"case_id": case_id, "reason": "x"}, "terminal-2")
    hall.sign_in(2, "1002")
    # R6: to a terminal, someone else's case, or a case just opened, does not exist
    hall.refused("unknown_case", "case.appeal", {"case_id": case_id, "reason": "恶意评价"}, "terminal-2")
    hall.refused("unknown_case", "case.appeal", {"case_id": case_id, "reason": "恶意评价"}, "terminal-1")
    hall.refused("wrong_case_state", "case.decide", {"case_id": case_id, "upheld": True}, "web")
    hall.advance(15 * 60)
    hall.refused("unknown_case", "case.appeal", {"case_id": case_id, "reason": "恶意评价"}, "terminal-2")
    hall.ok("case.appeal", {"case_id": case_id, "reason": "恶意评价"}, "terminal-1")
    hall.refused("appeal_exists", "case.appeal", {"case_id": case_id, "reason": "again"}, "terminal-1")
    hall.refused("bad_request", "case.decide", {"case_id": case_id, "upheld": "yes"}, "web")
    hall.ok("case.decide", {"case_id": case_id, "upheld": True, "note": "监控核实"}, "web")
    assert hall.hub.db.execute("SELECT COUNT(*) FROM ratings WHERE level = 1").fetchone()[0] == 1
    fig = figures.report(hall.hub.db, hall.hub.config, "2026-11-23", "2026-11-23", "staff")[0]
    assert fig["bad"] == 1 and fig["bad_excluded"] == 1


def test_hall_comment_lands_in_the_case_list(hall: Driver) -> None:
    r = hall.ok("comment.submit", {"text": "饮水机坏了", "phone": "13800000000"}, "qr")
    c = cases.view(hall.hub.db, cases.get(hall.hub.db, r["case_id"]))
    assert c["kind"] == "comment" and c["phone"] == "138****0000" and c["text"] == "***"
    hall.refused("bad_request", "comment.submit", {"text": ""}, "web")
    hall.refused("forbidden", "comment.submit", {"text": "x"}, "terminal-1")
    hall.ok("case.close", {"case_id": r["case_id"], "note": "已答复"}, "web")    # issue 15: a close needs a note
