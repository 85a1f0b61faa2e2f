"""R10 the monthly assessment: each window (and each staff member) starts at the base score;
configured deductions and bonuses (`config.schema.Assessment`); 优质服务窗口 (top windows),
优质服务标兵 (top staff) and 末位 (bottom windows).

  score = base − per_bad × 差评 (not appealed away) − per_overdue × overdue 办件
          − half_day_away × half-days with 离岗/空岗 (a half-day = one opening session)
          − per_late × (迟到 + 早退) + per_praise × max(0, 非常满意 − praise_threshold)

Ties rank by 好评率, then by more 办件, then by number. A window or staff member with no finished
办件 in the month ranks after every one that served (its base score is not earned) and is never
named 优质服务窗口 / 标兵 nor 末位: an idle month is not a month of service.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.common import rows
from hall_server.domain.figures import derive, month_days, report


def _away_half_days(db: sqlite_utils.Database, start: str, end: str, col: str, kinds: tuple[str, ...]) -> dict[Any, int]:
    marks = ",".join("?" * len(kinds))
    return {r["key"]: r["n"] for r in rows(
        db, f"SELECT {col} AS key, COUNT(DISTINCT day || '/' || session) AS n FROM attendance "
            f"WHERE day BETWEEN ? AND ? AND kind IN ({marks}) GROUP BY 1", [start, end, *kinds])}


def _late(db: sqlite_utils.Database, start: str, end: str, col: str) -> dict[Any, int]:
    return {r["key"]: r["n"] for r in rows(
        db, f"SELECT {col} AS key, COUNT(*) AS n FROM attendance WHERE day BETWEEN ? AND ? "
            "AND kind IN ('late', 'early') GROUP BY 1", [start, end])}


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
    w_away = _away_half_days(db, start, end, "window", ("away", "vacant"))
    s_away = _away_half_days(db, start, end, "staff_no", ("away",))
    w_late, s_late = _late(db, start, end, "window"), _late(db, start, end, "staff_no")
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
