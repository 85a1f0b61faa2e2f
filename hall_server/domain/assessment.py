"""R10 the monthly assessment: each window (and each staff member) starts at the base score;
configured deductions and bonuses (`config.schema.Assessment`); 优质服务窗口 (top windows),
优质服务标兵 (top staff) and 末位 (bottom windows).

  score = base − per_bad × 差评 (not appealed away) − per_overdue × overdue 办件
          − half_day_away × half-days with 离岗/空岗 (a half-day = one opening session)
          − per_late × (迟到 + 早退) + per_praise × max(0, 非常满意 − praise_threshold)

Attendance counts only as `attendance.counted` recounts it against the calendar, the roster and
leave (no weekend, holiday, lunch break, unscheduled session or approved leave is ever deducted).

Ties rank by 好评率, then by more 办件, then by number. A window or staff member with no finished
办件 in the month ranks after every one that served (its base score is not earned) and is never
named 优质服务窗口 / 标兵 nor 末位: an idle month is not a month of service.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.attendance import counted
from hall_server.domain.figures import derive, month_days, report


def _attendance(db: sqlite_utils.Database, config: HallConfig, start: str,
                end: str) -> tuple[dict[Any, int], dict[Any, int], dict[Any, int], dict[Any, int]]:
    """From the attendance events that count (`attendance.counted`: open days, scheduled sessions,
    not on leave): half-days with 离岗/空岗 per window, with 离岗 per staff, and 迟到+早退 per window
    and per staff."""
    w_half: dict[Any, set[str]] = defaultdict(set)
    s_half: dict[Any, set[str]] = defaultdict(set)
    w_late: dict[Any, int] = defaultdict(int)
    s_late: dict[Any, int] = defaultdict(int)
    for r in counted(db, config, start, end):
        mark = f"{r['day']}/{r['session']}"
        if r["kind"] in ("away", "vacant"):
            w_half[r["window"]].add(mark)
            if r["kind"] == "away":
                s_half[r["staff_no"]].add(mark)
        else:
            w_late[r["window"]] += 1
            s_late[r["staff_no"]] += 1
    return ({k: len(v) for k, v in w_half.items()}, {k: len(v) for k, v in s_half.items()}, w_late, s_late)


def _score(config: HallConfig, fig: dict[str, Any], half_days: int, late: int) -> dict[str, Any]:
    a = config.hall.assessment
    bad = fig["bad"] - fig["bad_excluded"]
    parts = {
        "bad": -a.deduct_per_bad * bad,
        "overdue": -a.deduct_per_overdue * fig["overdue"],
        "away": -a.deduct_half_day_away * half_days,
        "late": -a.deduct_per_late * late,
        "praise": a.bonus_per_praise * max(0, fig["l5"] - a.bonus_praise_threshold),
    }
    return {"score": round(a.base_score + sum(parts.values()), 2), "parts": parts, "bad_counted": bad,
            "away_half_days": half_days, "late_early": late}


def _empty(key: Any) -> dict[str, Any]:
    return derive({"key": key, **{c: 0 for c in ("finished", "rated", "l1", "l2", "l3", "l4", "l5", "level_sum",
                                                   "defaults", "overdue", "handle_ms", "wait_n", "wait_ms",
                                                   "wait_over", "bad_excluded")}})


def _rank(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items.sort(key=lambda r: (not r["finished"], -r["score"], -(r["good_rate"] or 0), -r["finished"], str(r["key"])))
    for i, r in enumerate(items, 1):
        r["rank"] = i
    return items


def monthly(db: sqlite_utils.Database, config: HallConfig, month: str) -> dict[str, Any]:
    start, end = month_days(month)
    by_window = {r["key"]: r for r in report(db, config, start, end, "window")}
    by_staff = {r["key"]: r for r in report(db, config, start, end, "staff")}
    w_away, s_away, w_late, s_late = _attendance(db, config, start, end)
    windows = []
    for w in config.windows:
        fig = by_window.get(w.number) or _empty(w.number)
        windows.append({**fig, "name": w.name, **_score(config, fig, w_away.get(w.number, 0), w_late.get(w.number, 0))})
    staff = []
    for s in config.staff:
        fig = by_staff.get(s.staff_no) or _empty(s.staff_no)
        staff.append({**fig, "name": s.name, "department": s.department,
                      **_score(config, fig, s_away.get(s.staff_no, 0), s_late.get(s.staff_no, 0))})
    a = config.hall.assessment
    windows, staff = _rank(windows), _rank([s for s in staff if s["finished"] or s["late_early"] or s["away_half_days"]])
    served_windows = [w for w in windows if w["finished"]]        # only these can be named (top or bottom)
    served_staff = [s for s in staff if s["finished"]]
    return {
        "month": month,
        "windows": windows,
        "staff": staff,
        "top_windows": [w["key"] for w in served_windows[: a.top_windows]],
        "top_staff": [s["key"] for s in served_staff[: a.top_staff]],
        "bottom_windows": [w["key"] for w in served_windows[-a.bottom:]] if a.bottom else [],
    }
