"""The city's figures for a month, per hall, over the forwarded records — the same definitions as
the hall's own (hall_server.domain.figures): 好评率 = (5+4+3) / rated, 参评率 = rated / finished
(first-round ratings, system defaults never count), both by the month its 办件 were finished
(read from `day_figures`, city_server.rollup);
差评回复率 / 回访整改率 of the 差评 cases opened in the month; overdue case steps counted."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from city_server.store import month_bounds


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def month_ranking(conn: psycopg.Connection, month: date) -> list[dict[str, Any]]:
    """Every hall's figures for the month of `month`, best 好评率 first (halls with no data last)."""
    lo, hi = month_bounds(month)
    sql = """
    WITH f AS (SELECT hall, sum(finished) AS finished, sum(overdue_jobs) AS overdue_jobs, sum(rated) AS rated,
                      sum(good) AS good, sum(bad) AS bad
               FROM day_figures WHERE day >= %(lo)s AND day < %(hi)s GROUP BY hall),
         c AS (SELECT hall, count(*) AS cases, count(callback_ms) AS called_back, count(rectified_ms) AS rectified,
                      sum(callback_overdue + rectify_overdue) AS overdue_steps,
                      count(*) FILTER (WHERE status <> 'closed') AS open_cases
               FROM cases WHERE kind = 'bad_rating' AND day >= %(lo)s AND day < %(hi)s GROUP BY hall)
    SELECT h.code AS hall, h.name, coalesce(f.finished, 0)::int AS finished,
           coalesce(f.overdue_jobs, 0)::int AS overdue_jobs,
           coalesce(f.rated, 0)::int AS rated, coalesce(f.good, 0)::int AS good, coalesce(f.bad, 0)::int AS bad,
           coalesce(c.cases, 0) AS cases, coalesce(c.called_back, 0) AS called_back,
           coalesce(c.rectified, 0) AS rectified, coalesce(c.overdue_steps, 0) AS overdue_steps,
           coalesce(c.open_cases, 0) AS open_cases
    FROM halls h LEFT JOIN f ON f.hall = h.code LEFT JOIN c ON c.hall = h.code
    """
    with conn.cursor(row_factory=dict_row) as cur:
        out = [dict(x) for x in cur.execute(sql, {"lo": lo, "hi": hi})]
    for x in out:
        x["good_rate"] = _ratio(x["good"], x["rated"])
        x["participation_rate"] = _ratio(x["rated"], x["finished"])
        x["callback_rate"] = _ratio(x["called_back"], x["cases"])
        x["rectify_rate"] = _ratio(x["rectified"], x["cases"])
    out.sort(key=lambda x: (x["good_rate"] is None, -(x["good_rate"] or 0), x["hall"]))
    return out
