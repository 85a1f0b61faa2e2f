"""R8/R10 figures, read from the writer-maintained `rollup` / `rollup_hour` (see `rollup`) plus `cases` and
`attendance`. Every function takes a (read-only) connection; days are local YYYY-MM-DD, inclusive.

Rates (None when there is nothing to divide by):
  好评率 good_rate = (5+4+3) / rated        差评率 bad_rate = (2+1) / rated
  参评率 participation_rate = rated / finished (active ratings only: defaults never count)
  未评率 unrated_rate = 1 − 参评率          mean_level = Σ level / rated
  差评回复率 callback_rate, 回访整改率 rectify_rate (of 差评 cases), 整改满意率 followup_satisfied_rate
  (追评 at level ≥ 3 / 追评 given).
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.attendance import counted
from hall_server.domain.common import rows
from hall_server.domain.hours import local_ms
from hall_server.domain.errors import BadRequest

CUTS: dict[str, str] = {
    "hall": "'hall'",
    "window": "window",
    "staff": "staff_no",
    "service": "service_code",
    "department": "department",
    "day": "day",
    "week": "date(day, '-6 days', 'weekday 1')",   # the Monday of the week
    "month": "substr(day, 1, 7)",
    "hour": "hour",
}

# cuts that need neither staff nor 事项 read the smaller (day, hour, window) table
HOURLY = {"hall", "window", "day", "week", "month", "hour"}

SUMS = ("finished", "rated", "l1", "l2", "l3", "l4", "l5", "level_sum", "defaults", "overdue", "handle_ms",
        "wait_n", "wait_ms", "wait_over", "bad_excluded")


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def derive(r: dict[str, Any]) -> dict[str, Any]:
    rated, finished = r["rated"], r["finished"]
    bad = r["l1"] + r["l2"]
    part = _ratio(rated, finished)
    return {
        **r,
        "bad": bad,
        "good_rate": _ratio(r["l3"] + r["l4"] + r["l5"], rated),
        "bad_rate": _ratio(bad, rated),
        "participation_rate": part,
        "unrated_rate": None if part is None else round(1 - part, 4),
        "mean_level": _ratio(r["level_sum"], rated),
        "mean_wait_s": _ratio(r["wait_ms"], r["wait_n"] * 1000),
        "mean_handle_s": _ratio(r["handle_ms"], finished * 1000),
    }


def check_days(start_day: str, end_day: str) -> None:
    try:
        a, b = date.fromisoformat(start_day), date.fromisoformat(end_day)
    except (TypeError, ValueError):
        raise BadRequest("days must be YYYY-MM-DD") from None
    if b < a or (b - a).days > 3660:
        raise BadRequest("the period must run forward and be at most ten years")


def month_days(month: str) -> tuple[str, str]:
    try:
        first = date.fromisoformat(month + "-01")
    except (TypeError, ValueError):
        raise BadRequest("month must be YYYY-MM") from None
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first.isoformat(), last.isoformat()


def report(db: sqlite_utils.Database, config: HallConfig, start_day: str, end_day: str, by: str = "window") -> list[dict[str, Any]]:
    """Counts per level and the R8 rates, cut `by` one of CUTS."""
    if by not in CUTS:
        raise BadRequest(f"'by' must be one of {sorted(CUTS)}")
    check_days(start_day, end_day)
    key = CUTS[by]
    table = "rollup_hour" if by in HOURLY else "rollup"
    sums = ", ".join(f"SUM({c}) AS {c}" for c in SUMS)
    out = rows(db, f"SELECT {key} AS key, {sums} FROM {table} WHERE day BETWEEN ? AND ? GROUP BY 1 ORDER BY 1",
               [start_day, end_day])
    return [derive(r) for r in out]


def heatmap(db: sqlite_utils.Database, start_day: str, end_day: str) -> dict[str, Any]:
    """Hour of day × weekday (0 = Monday): 办件 finished, rated, 差评 and mean wait."""
    check_days(start_day, end_day)
    cells = rows(db, "SELECT (CAST(strftime('%w', day) AS INTEGER) + 6) % 7 AS weekday, hour, SUM(finished) AS finished, "
                     "SUM(rated) AS rated, SUM(l1 + l2) AS bad, SUM(wait_ms) AS wait_ms, SUM(wait_n) AS wait_n "
                     "FROM rollup_hour WHERE day BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY 1, 2", [start_day, end_day])
    hours = sorted({c["hour"] for c in cells})
    grid = {wd: {h: 0 for h in hours} for wd in range(7)}
    for c in cells:
        grid[c["weekday"]][c["hour"]] = c["finished"]
        c["mean_wait_s"] = _ratio(c.pop("wait_ms"), c.pop("wait_n") * 1000)
    return {"hours": hours, "finished": [[grid[wd][h] for h in hours] for wd in range(7)], "cells": cells}


def _ms_range(config: HallConfig, start_day: str, end_day: str) -> tuple[int, int]:
    a = local_ms(date.fromisoformat(start_day), time(0), config)
    b = local_ms(date.fromisoformat(end_day) + timedelta(days=1), time(0), config)
    return a, b


def case_rates(db: sqlite_utils.Database, config: HallConfig, start_day: str, end_day: str, by: str = "hall") -> list[dict[str, Any]]:
    """差评 cases opened in the period: 差评回复率, 回访整改率, 整改满意率, overdue counts, appeals."""
    keys = {"hall": "'hall'", "window": "c.window", "staff": "c.staff_no"}
    if by not in keys:
        raise BadRequest(f"'by' must be one of {sorted(keys)}")
    check_days(start_day, end_day)
    a, b = _ms_range(config, start_day, end_day)
    out = rows(db, f"""SELECT {keys[by]} AS key, COUNT(*) AS cases, COUNT(c.callback_ms) AS called_back,
        COUNT(c.rectified_ms) AS rectified, SUM(c.callback_overdue) AS callback_overdue,
        SUM(c.rectify_overdue) AS rectify_overdue, SUM(c.appeal = 'upheld') AS appeals_upheld,
        COUNT(f.id) AS followups, COALESCE(SUM(f.level >= 3), 0) AS followups_satisfied
        FROM cases c LEFT JOIN ratings f ON f.job_id = c.job_id AND f.round = 2
        WHERE c.kind = 'bad_rating' AND c.opened_ms >= ? AND c.opened_ms < ? GROUP BY 1 ORDER BY 1""", [a, b])
    for r in out:
        r["callback_rate"] = _ratio(r["called_back"], r["cases"])
        r["rectify_rate"] = _ratio(r["rectified"], r["cases"])
        r["followup_satisfied_rate"] = _ratio(r["followups_satisfied"], r["followups"])
    return out


def attendance(db: sqlite_utils.Database, start_day: str, end_day: str, by: str = "window",
               config: HallConfig | None = None) -> list[dict[str, Any]]:
    """迟到 late, 早退 early, 离岗 away, 空岗 vacant: counts and minutes. With the hall's `config`, only
    the events that count (`attendance.counted`: open days, scheduled sessions, not on leave)."""
    keys = {"window": "window", "staff": "staff_no", "day": "day"}
    if by not in keys:
        raise BadRequest(f"'by' must be one of {sorted(keys)}")
    check_days(start_day, end_day)
    if config is None:
        found = rows(db, "SELECT * FROM attendance WHERE day BETWEEN ? AND ?", [start_day, end_day])
    else:
        found = counted(db, config, start_day, end_day)
    out: dict[Any, dict[str, Any]] = {}
    for r in found:
        key = r[keys[by]]
        o = out.setdefault(key, {"key": key, "late": 0, "early": 0, "away": 0, "vacant": 0, "away_minutes": 0})
        o[r["kind"]] += 1
        if r["kind"] in ("away", "vacant"):
            o["away_minutes"] += r["minutes"]
    return [out[k] for k in sorted(out)]


def naive_report_by_window(db: sqlite_utils.Database, start_day: str, end_day: str) -> list[dict[str, Any]]:
    """The same figures as `report(by='window')` by a plain GROUP BY over the raw tables (for the
    benchmark and for a consistency test)."""
    out = rows(db, """SELECT j.window AS key, COUNT(*) AS finished, COUNT(r.id) AS rated,
        COALESCE(SUM(r.level = 1), 0) AS l1, COALESCE(SUM(r.level = 2), 0) AS l2, COALESCE(SUM(r.level = 3), 0) AS l3,
        COALESCE(SUM(r.level = 4), 0) AS l4, COALESCE(SUM(r.level = 5), 0) AS l5, COALESCE(SUM(r.level), 0) AS level_sum,
        SUM(j.overdue) AS overdue, SUM(j.handle_ms) AS handle_ms, COUNT(j.wait_ms) AS wait_n,
        COALESCE(SUM(j.wait_ms), 0) AS wait_ms
        FROM jobs j LEFT JOIN ratings r ON r.job_id = j.id AND r.round = 1 AND r.is_default = 0
        WHERE j.status = 'finished' AND j.day BETWEEN ? AND ? GROUP BY j.window ORDER BY j.window""",
               [start_day, end_day])
    return out
