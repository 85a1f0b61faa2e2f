"""R8 figures and R10 monthly assessment, from the rollup; consistent with a naive GROUP BY."""

from datetime import date

from hall_server.domain import assessment, figures
from hall_server.domain.common import rows

from .conftest import Driver, at


def _day(hall: Driver) -> None:
    hall.now = at(9, 0)
    hall.sign_in(1, "1001")
    hall.sign_in(2, "1002")
    levels = [5, 5, 4, 3, 1, None]
    for i, level in enumerate(levels):
        fin = hall.serve(1, service="S001", minutes=20 if i == 0 else 5)   # first one overdue (15 min promised)
        if level is not None:
            body = {"level": level, "tags": ["N01"] if level < 3 else []}
            hall.ok("rating.submit", body, "kiosk-1")
    hall.serve(2, service="S002", minutes=3)
    hall.ok("rating.submit", {"level": 2, "tags": ["N02"]}, "kiosk-2")
    hall.ok("window.sign_out", {}, "terminal-2", now=at(10, 30))


def test_report_by_window_rates(hall: Driver) -> None:
    _day(hall)
    rep = {r["key"]: r for r in figures.report(hall.hub.db, hall.hub.config, "2026-11-23", "2026-11-23", "window")}
    w1 = rep[1]
    assert (w1["finished"], w1["rated"], w1["l5"], w1["l1"], w1["overdue"]) == (6, 5, 2, 1, 1)
    assert w1["good_rate"] == 0.8 and w1["bad_rate"] == 0.2
    assert w1["participation_rate"] == round(5 / 6, 4) and w1["unrated_rate"] == round(1 - 5 / 6, 4)
    assert w1["mean_level"] == 3.6
    assert rep[2]["bad_rate"] == 1.0
    naive = {r["key"]: r for r in figures.naive_report_by_window(hall.hub.db, "2026-11-01", "2026-11-30")}
    for k in ("finished", "rated", "l1", "l2", "l3", "l4", "l5", "level_sum", "overdue", "handle_ms", "wait_ms"):
        assert naive[1][k] == w1[k], k


def test_cuts(hall: Driver) -> None:
    _day(hall)
    db, cfg = hall.hub.db, hall.hub.config
    assert {r["key"] for r in figures.report(db, cfg, "2026-11-01", "2026-11-30", "department")} == {"人社局", "医保局"}
    assert [r["key"] for r in figures.report(db, cfg, "2026-11-01", "2026-11-30", "month")] == ["2026-11"]
    assert [r["key"] for r in figures.report(db, cfg, "2026-11-01", "2026-11-30", "week")] == ["2026-11-23"]
    assert {r["key"] for r in figures.report(db, cfg, "2026-11-01", "2026-11-30", "service")} == {"S001", "S002"}
    assert [r["key"] for r in figures.report(db, cfg, "2026-11-01", "2026-11-30", "hour")] == [9]
    hm = figures.heatmap(db, "2026-11-01", "2026-11-30")
    assert hm["finished"][0][hm["hours"].index(9)] > 0          # Monday
    att = {r["key"]: r for r in figures.attendance(db, "2026-11-23", "2026-11-23", "window")}
    assert att[2]["early"] == 1


def test_monthly_assessment(hall: Driver) -> None:
    _day(hall)
    hall.ok("system.tick", {}, "system-1", now=at(9, 40))     # windows 3 and 4: 空岗
    m = assessment.monthly(hall.hub.db, hall.hub.config, "2026-11")
    by = {w["key"]: w for w in m["windows"]}
    a = hall.hub.config.hall.assessment
    assert by[1]["score"] == a.base_score - a.deduct_per_bad - a.deduct_per_overdue
    assert by[2]["score"] == a.base_score - a.deduct_per_bad - a.deduct_per_late
    assert by[3]["score"] == a.base_score - a.deduct_half_day_away
    assert m["top_windows"][0] == 2 or m["top_windows"][0] == 1
    assert m["bottom_windows"] == [by_min(m)]
    assert {s["key"] for s in m["staff"]} == {"1001", "1002"}


def by_min(m):
    return min(m["windows"], key=lambda w: (w["score"], -(w["good_rate"] or 0), -w["finished"], -w["key"]))["key"]


def test_no_finished_job_no_title(hall: Driver) -> None:
    """A window or staff member without a finished 办件 in the month is never 优质服务窗口 / 标兵 / 末位."""
    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.ok("rating.submit", {"level": 1, "tags": ["N01"]}, "kiosk-1")        # window 1: 100 − 差评
    hall.sign_in(2, "1002")
    hall.serve(2)
    hall.ok("rating.submit", {"level": 5}, "kiosk-2")                          # window 2: 100
    hall.ok("system.tick", {}, "system-1", now=at(9, 40))     # windows 3 and 4: 空岗, below window 1's score
    hall.sign_in(3, "1003")                                   # late, then served nobody
    m = assessment.monthly(hall.hub.db, hall.hub.config, "2026-11")
    by = {w["key"]: w for w in m["windows"]}
    assert by[3]["finished"] == 0 and by[3]["score"] < by[1]["score"]        # idle, lowest score…
    assert m["bottom_windows"] == [1]                                          # …yet not 末位
    assert m["top_windows"] == [2, 1]                                          # 3 and 4 are never named
    staff = {s["key"]: s for s in m["staff"]}
    assert staff["1003"]["finished"] == 0 and "1003" not in m["top_staff"]
    assert m["top_staff"] == ["1002", "1001"]
    empty = assessment.monthly(hall.hub.db, hall.hub.config, "2026-10")     # nobody served at all
    assert empty["top_windows"] == [] and empty["top_staff"] == [] and empty["bottom_windows"] == []


def test_an_idle_window_never_ranks_above_one_that_served(hall: Driver) -> None:
    """An idle month keeps the base score, which is not earned: it ranks after every window that served."""
    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.ok("rating.submit", {"level": 1, "tags": ["N01"]}, "kiosk-1")        # window 1: 100 − 差评 (below the base)
    m = assessment.monthly(hall.hub.db, hall.hub.config, "2026-11")
    ranks = {w["key"]: w["rank"] for w in m["windows"]}
    idle = [w["key"] for w in m["windows"] if not w["finished"]]
    assert idle and all(ranks[1] < ranks[k] for k in idle)
    assert m["windows"][0]["key"] == 1
