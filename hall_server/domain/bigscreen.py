"""The 数据大屏 (issue 15, the manager's office screen): today at a glance, as plain data.

From the floor snapshot (`floor_snapshot.FloorSnapshot`: windows, queues, summary, alerts; made once
per state change and shared with the live floor) and from the rollups of today and of the month so
far (`rollup_hour`, small: one row per day, hour and window):

- flow: today's tickets taken and 办件 finished per hour;
- waits: mean wait today, tickets waiting now and those over the hall's limit, the longest queue;
- ratings: today's counts per level, 好评率, 参评率;
- floor: windows by state, and each window's state, staff name and today's served count;
- alerts: the snapshot's (the page words them);
- rankings: today's windows by 办件, and the month so far by 好评率 (at least `MIN_RATED` ratings;
  recomputed at most once every `MONTH_CACHE_S`).

Manager-only (R6: rating counts are not public). Only reads; cheap (a handful of indexed queries).
"""

from __future__ import annotations

import time
from datetime import date, time as dtime
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.common import rows
from hall_server.domain.figures import derive
from hall_server.domain.floor_snapshot import FloorSnapshot
from hall_server.domain.hours import day_of, local_ms

MONTH_CACHE_S = 60.0     # the month-so-far ranking is recomputed at most once a minute (it moves slowly)
MIN_RATED = 5            # a window needs this many ratings in the month to be ranked by 好评率
TOP_N = 10
SUMS = ("finished", "rated", "l1", "l2", "l3", "l4", "l5", "level_sum", "defaults", "overdue", "handle_ms",
        "wait_n", "wait_ms", "wait_over", "bad_excluded")


_month_cache: dict[tuple[str, str], tuple[float, dict[Any, dict[str, Any]]]] = {}


def _month_so_far(db: sqlite_utils.Database, month_start: str, day: str) -> dict[Any, dict[str, Any]]:
    """Each window's figures from the 1st to today, cached per (database file, day) for MONTH_CACHE_S:
    the big screen polls every few seconds and this is its one query over many rows."""
    path = next((r[2] for r in db.execute("PRAGMA database_list").fetchall() if r[1] == "main"), "") or str(id(db))
    key, now = (path, day), time.monotonic()
    held = _month_cache.get(key)
    if held is not None and now - held[0] < MONTH_CACHE_S:
        return held[1]
    found = {r["window"]: {**r, "good_rate": round(r["good"] / r["rated"], 4) if r["rated"] else None} for r in rows(
        db, "SELECT window, SUM(rated) AS rated, SUM(l3 + l4 + l5) AS good FROM rollup_hour "
            "WHERE day BETWEEN ? AND ? GROUP BY 1", [month_start, day])}    # covering index: migration 105
    if len(_month_cache) > 16:
        _month_cache.clear()
    _month_cache[key] = (now, found)
    return found


def _sums(where: str) -> str:
    return f"SELECT {{key}} AS key, {', '.join(f'SUM({c}) AS {c}' for c in SUMS)} FROM rollup_hour WHERE {where} GROUP BY 1"


def build(db: sqlite_utils.Database, config: HallConfig, snap: FloorSnapshot) -> dict[str, Any]:
    """Everything the big screen shows, as of the snapshot's time."""
    now_ms = snap.at_ms
    day = day_of(now_ms, config)
    month_start = day[:8] + "01"
    by_hour = {r["key"]: derive(r) for r in rows(db, _sums("day = ?").format(key="hour"), [day])}
    midnight_ms = local_ms(date.fromisoformat(day), dtime(0), config)
    taken_hours = {r["h"]: r["n"] for r in rows(
        db, "SELECT (taken_ms - ?) / 3600000 AS h, COUNT(*) AS n FROM tickets WHERE day = ? GROUP BY 1", [midnight_ms, day])}
    hours = sorted(set(by_hour) | set(taken_hours))
    today_rows = list(by_hour.values())
    total = {c: sum(r[c] or 0 for r in today_rows) for c in SUMS}
    today = derive({"key": "today", **total})
    month = _month_so_far(db, month_start, day)
    names = {w.window: w.name for w in snap.windows}
    month_rank = sorted((r for r in month.values() if r["rated"] >= MIN_RATED),
                        key=lambda r: (-(r["good_rate"] or 0), -r["rated"], r["window"]))
    states: dict[str, int] = {}
    for w in snap.windows:
        states[w.state] = states.get(w.state, 0) + 1
    queues = sorted(snap.queues, key=lambda q: -q.waiting)
    oldest = [q.oldest_queued_ms for q in snap.queues if q.waiting and q.oldest_queued_ms]
    return {
        "day": day,
        "at_ms": now_ms,
        "flow": {"hours": hours, "taken": [taken_hours.get(h, 0) for h in hours],
                 "finished": [by_hour[h]["finished"] if h in by_hour else 0 for h in hours],
                 "mean_wait_min": [round(by_hour[h]["mean_wait_s"] / 60, 1) if h in by_hour and by_hour[h]["mean_wait_s"]
                                   is not None else None for h in hours]},
        "today": {"taken": sum(taken_hours.values()), "finished": today["finished"], "rated": today["rated"],
                  "good_rate": today["good_rate"], "participation_rate": today["participation_rate"],
                  "bad": today["bad"], "levels": [today[f"l{n}"] for n in (5, 4, 3, 2, 1)],
                  "mean_wait_min": None if today["mean_wait_s"] is None else round(today["mean_wait_s"] / 60, 1),
                  "wait_over": today["wait_over"], "overdue": today["overdue"]},
        "waiting": {"now": snap.summary.waiting, "over_limit": snap.summary.waiting_over_limit,
                    "longest_min": None if not oldest else max(0, (now_ms - min(oldest)) // 60_000),
                    "queues": [{"name": q.name, "waiting": q.waiting} for q in queues[:8]]},
        "cases": {"open": snap.manager.open_cases, "overdue": snap.manager.overdue_cases},
        "floor": {"states": states,
                  "windows": [{"number": w.window, "name": w.name, "state": w.state,
                               "staff": w.staff.name if w.staff else "", "served": w.served_today}
                              for w in snap.windows]},
        "rank_today": [{"name": w.name, "served": w.served_today,
                        "good_rate": round(w.good_today / w.rated_today, 4) if w.rated_today else None}
                       for w in sorted(snap.windows, key=lambda w: (-w.served_today, w.window))[:TOP_N]
                       if w.served_today],
        "rank_month": [{"name": names.get(r["window"], f"{r['window']}号窗口"), "good_rate": r["good_rate"],
                        "rated": r["rated"]} for r in month_rank[:TOP_N]],
        "since": date.fromisoformat(month_start).isoformat(),
    }
