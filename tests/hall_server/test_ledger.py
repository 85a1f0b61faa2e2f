"""Issue 15: one problem ledger (问题台账) over 差评 cases, hall comments and hand-entered items,
each taken to 销号; auditable case handling (call-back outcome, notes required, an appeal never
decided by its raiser, history in Chinese)."""

from __future__ import annotations

from datetime import date

from hall_server.domain import cases, ledger
from hall_server.domain.common import rows

from .conftest import Driver, at

DAY = date(2026, 11, 23)


def _bad(hall: Driver, window: int = 1) -> int:
    hall.ok("window.sign_in", {"staff_no": f"100{window}", "pin": "1234"}, f"terminal-{window}")
    hall.serve(window)
    return hall.ok("rating.submit", {"level": 1, "tags": ["N01"], "text": "私密原话", "phone": "13900001111"},
                   f"kiosk-{window}")["case_id"]


def test_a_ledger_item_from_each_source_is_taken_to_closed(hall: Driver) -> None:
    bad = _bad(hall)
    comment = hall.ok("comment.submit", {"text": "大厅太冷", "phone": "13900002222"}, "qr")["case_id"]
    items = {}
    for source, title in (("hotline", "12345转办：窗口推诿"), ("inspection", "督查：3号窗口无人"), ("other", "饮水机坏了")):
        items[source] = hall.ok("ledger.add", {"source": source, "title": title, "ref": "GD-001", "window": 3,
                                               "staff_no": "1003", "due_workdays": 3}, "manager-boss")["item_id"]
    items["patrol"] = hall.ok("patrol.record", {"kind": "daily", "window": 1, "findings": ["hygiene"],
                                                "note": "台面有杂物"}, "manager-boss")["item_ids"][0]
    found = ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="active"))
    assert {r["source"] for r in found} == {"bad_rating", "comment", "hotline", "inspection", "other", "patrol"}
    item = ledger.get(hall.hub.db, items["hotline"])
    assert (item["unit"], item["owner"]) == ("自然资源局", "王五")           # the staff member's by default

    # steps need notes
    hall.refused("note_required", "ledger.close", {"item_id": items["other"], "evidence": "  "}, "manager-boss")
    hall.refused("bad_request", "ledger.close", {"item_id": items["other"]}, "manager-boss")
    hall.ok("ledger.rectify", {"item_id": items["hotline"], "note": "约谈窗口人员"}, "manager-boss")
    for item_id in items.values():
        hall.ok("ledger.close", {"item_id": item_id, "evidence": "已整改，回访群众满意"}, "manager-boss")
    hall.refused("wrong_case_state", "ledger.close", {"item_id": items["other"], "evidence": "again"}, "manager-boss")

    hall.ok("case.callback", {"case_id": bad, "note": "电话回访", "reached": True, "satisfied": False,
                              "words": "等了很久没人理"}, "manager-boss")
    hall.refused("note_required", "case.rectify", {"case_id": bad}, "manager-boss")
    hall.ok("case.rectify", {"case_id": bad, "note": "批评教育"}, "manager-boss")
    hall.refused("note_required", "case.close", {"case_id": bad, "note": ""}, "manager-boss")
    hall.ok("case.close", {"case_id": bad, "note": "整改到位"}, "manager-boss")
    hall.ok("case.close", {"case_id": comment, "note": "已调高空调温度"}, "manager-boss")

    closed = ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="closed"))
    assert sorted(r["source"] for r in closed) == ["bad_rating", "comment", "hotline", "inspection", "other", "patrol"]
    assert all(r["stage"] == "closed" and r["evidence"] and r["closed_ms"] for r in closed)
    assert ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="active")) == []
    events = [e["kind"] for e in ledger.history(hall.hub.db, items["hotline"])]
    assert events == ["opened", "rectified", "closed"]


def test_search_never_matches_a_raters_private_text(hall: Driver) -> None:
    _bad(hall)
    hit = ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="all", q="私密原话"))
    assert len(ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="all", q="服务态度差"))) == 1
    assert hit == []
    assert len(ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="all", q="张三"))) == 1


def test_overdue_items_are_flagged_and_counted(hall: Driver) -> None:
    hall.now = at(10, 0, day=DAY)
    item_id = hall.ok("ledger.add", {"source": "inspection", "title": "督查：着装", "due_workdays": 1}, "manager-boss")["item_id"]
    assert hall.ok("system.tick", {}, "system-1", now=at(17, 0, day=date(2026, 11, 24)))["overdue_items"] == 0
    assert hall.ok("system.tick", {}, "system-1", now=at(17, 31, day=date(2026, 11, 24)))["overdue_items"] == 1
    assert hall.ok("system.tick", {}, "system-1", now=at(17, 40, day=date(2026, 11, 24)))["overdue_items"] == 0
    found = ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="overdue"))
    assert [r["id"] for r in found if not r["is_case"]] == [item_id]
    hall.ok("ledger.close", {"item_id": item_id, "evidence": "已规范着装"}, "manager-boss")
    n = ledger.counts(ledger.entries(hall.hub.db, hall.hub.config, hall.now, ledger.Filter(show="all")))
    assert n["overdue"] == 1 and n["overdue_open"] == 0 and n["closed"] == 1    # closed late: still counted


def test_an_appeal_is_refused_to_its_raiser(hall: Driver) -> None:
    bad = _bad(hall)
    hall.ok("case.appeal", {"case_id": bad, "reason": "群众误按"}, "manager-boss")
    hall.refused("own_appeal", "case.decide", {"case_id": bad, "upheld": True}, "manager-boss")
    assert cases.get(hall.hub.db, bad)["appeal"] == "pending"
    hall.ok("case.decide", {"case_id": bad, "upheld": False, "note": "证据不足"}, "manager-chief")
    assert cases.get(hall.hub.db, bad)["appeal"] == "rejected"


def test_history_names_people_and_devices_in_chinese_and_keeps_the_callback_outcome(hall: Driver) -> None:
    bad = _bad(hall)
    hall.ok("case.callback", {"case_id": bad, "note": "电话", "reached": False}, "manager-boss")
    v = cases.view(hall.hub.db, cases.get(hall.hub.db, bad), reveal_private=False, config=hall.hub.config)
    assert [e["actor"] for e in v["events"]] == ["1号窗口评价器", "管理员 boss"]
    assert v["callbacks"][0]["reached"] == 0 and v["callbacks"][0]["satisfied"] is None
    stored = rows(hall.hub.db, "SELECT * FROM case_callbacks")
    assert len(stored) == 1 and stored[0]["words"] == ""
