"""Issue 15: manual assessment entries (组织考评 / 自我考评) beside the data, patrol findings as
组织考评, 末位 for staff as well as windows, and the annual roll-up of twelve months."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from config.schema import Assessment, HallConfig
from hall_server.domain import assessment_manual

from .conftest import Driver, at, make_config


@pytest.fixture
def config(pin_hash: str) -> HallConfig:
    """One 优质服务窗口 and one 标兵 a month, so that with two served windows the other is 末位."""
    base = make_config(pin_hash)
    return dataclasses.replace(base, hall=dataclasses.replace(base.hall, assessment=Assessment(top_windows=1, top_staff=1)))


def test_entries_patrols_staff_bottom_and_the_year(hall: Driver) -> None:
    for window, staff_no in ((1, "1001"), (3, "1003")):
        hall.ok("window.sign_in", {"staff_no": staff_no, "pin": "1234"}, f"terminal-{window}")
    hall.serve(1)
    hall.serve(3, "B", "B001")
    hall.ok("patrol.record", {"kind": "undercover", "announced": False, "window": 1, "findings": ["phone", "shirk"]},
            "manager-boss")
    hall.ok("assessment.entry", {"month": "2026-11", "kind": "org", "target": "window", "window": 3, "points": 1.5,
                                 "reason": "群众来信表扬"}, "manager-boss")
    hall.ok("assessment.entry", {"month": "2026-11", "kind": "self", "target": "staff", "staff_no": "1003",
                                 "points": -1, "reason": "自查：着装"}, "manager-boss")
    hall.refused("bad_request", "assessment.entry", {"month": "2026-11", "kind": "org", "target": "window",
                                                     "points": -1, "reason": "x"}, "manager-boss")   # no window named
    hall.refused("bad_request", "assessment.entry", {"month": "2026-13", "kind": "org", "target": "window",
                                                     "window": 1, "points": -1, "reason": "x"}, "manager-boss")
    hall.refused("forbidden", "assessment.entry", {"month": "2026-11", "kind": "org", "target": "window",
                                                   "window": 1, "points": -1, "reason": "x"}, "terminal-1")
    m = assessment_manual.monthly(hall.hub.db, hall.hub.config, "2026-11")
    w1 = next(w for w in m["windows"] if w["key"] == 1)
    w3 = next(w for w in m["windows"] if w["key"] == 3)
    assert w1["org_points"] == -7.0 and w1["total"] == w1["data_score"] - 7
    assert [e["source"] for e in w1["org_entries"]] == ["patrol", "patrol"]
    assert w3["org_points"] == 1.5 and w3["total"] == w3["data_score"] + 1.5
    s1 = next(s for s in m["staff"] if s["key"] == "1001")
    s3 = next(s for s in m["staff"] if s["key"] == "1003")
    assert s1["org_points"] == -7.0 and s3["self_points"] == -1.0
    assert m["bottom_windows"] == [1] and m["bottom_staff"] == ["1001"]
    assert m["top_windows"] == [3] and m["top_staff"] == ["1003"]

    hall.now = at(10, 0, day=date(2026, 12, 1))
    hall.serve(3, "B", "B001")
    y = assessment_manual.annual(hall.hub.db, hall.hub.config, 2026)
    r3 = next(r for r in y["windows"] if r["key"] == 3)
    assert set(r3["months"]) == {"2026-11", "2026-12"}
    assert r3["total"] == round((r3["months"]["2026-11"] + r3["months"]["2026-12"]) / 2, 2)
    r1 = next(r for r in y["windows"] if r["key"] == 1)
    assert set(r1["months"]) == {"2026-11"} and y["windows"][-1]["key"] == 1
