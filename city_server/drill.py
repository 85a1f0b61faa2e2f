"""What the city's pages read besides the ranking (city_server.figures): one hall's month per
window, one window's month per staff member (the same definitions as the ranking), every hall's
open and overdue 差评 cases, and the 督办 notes a city manager pushes back to a hall."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

from city_server.figures import _ratio
from city_server.store import month_bounds

MAX_NOTE = 500


class PushBackError(ValueError):
    """A 督办 the city refuses: no such case, a case not overdue, an empty or too long note."""


def _grouped(conn: psycopg.Connection, hall: str, month: date, by: str, window: int | None) -> list[dict[str, Any]]:
    assert by in ("window", "staff_no")
    lo, hi = month_bounds(month)
    col = '"window"' if by == "window" else "staff_no"
    only = 'AND "window" = %(w)s' if window is not None else ""
    sql = f"""
    WITH j AS (SELECT {col} AS k, sum(finished)::int AS finished, sum(overdue_jobs)::int AS overdue_jobs,
                      sum(handle_ms_sum)::float8 / nullif(sum(handled), 0) AS handle_ms,
                      sum(rated)::int AS rated, sum(good)::int AS good, sum(bad)::int AS bad
               FROM day_figures WHERE hall = %(h)s AND day >= %(lo)s AND day < %(hi)s {only} GROUP BY 1
               HAVING sum(finished) > 0),
         c AS (SELECT {col} AS k, count(*) AS cases, count(callback_ms) AS called_back, count(rectified_ms) AS rectified,
                      sum(callback_overdue + rectify_overdue) AS overdue_steps
               FROM cases WHERE hall = %(h)s AND kind = 'bad_rating' AND day >= %(lo)s AND day < %(hi)s {only}
               GROUP BY 1)
    SELECT j.k AS key, j.finished, coalesce(j.overdue_jobs, 0) AS overdue_jobs, j.handle_ms,
           j.rated, j.good, j.bad,
           coalesce(c.cases, 0) AS cases, coalesce(c.called_back, 0) AS called_back,
           coalesce(c.rectified, 0) AS rectified, coalesce(c.overdue_steps, 0) AS overdue_steps
    FROM j LEFT JOIN c ON c.k = j.k ORDER BY j.k"""
    with conn.cursor(row_factory=dict_row) as cur:
        out = [dict(x) for x in cur.execute(sql, {"h": hall, "lo": lo, "hi": hi, "w": window})]
    for x in out:
        x["good_rate"] = _ratio(x["good"], x["rated"])
        x["participation_rate"] = _ratio(x["rated"], x["finished"])
        x["callback_rate"] = _ratio(x["called_back"], x["cases"])
        x["rectify_rate"] = _ratio(x["rectified"], x["cases"])
        x["handle_min"] = None if x["handle_ms"] is None else round(float(x["handle_ms"]) / 60000, 1)
    return out


def by_window(conn: psycopg.Connection, hall: str, month: date) -> list[dict[str, Any]]:
    return _grouped(conn, hall, month, "window", None)


def by_staff(conn: psycopg.Connection, hall: str, month: date, window: int) -> list[dict[str, Any]]:
    return _grouped(conn, hall, month, "staff_no", window)


def hall_name(conn: psycopg.Connection, hall: str) -> str | None:
    row = conn.execute("SELECT name FROM halls WHERE code = %s", [hall]).fetchone()
    return str(row[0]) if row else None


def open_cases(conn: psycopg.Connection, now_ms: int | None = None) -> list[dict[str, Any]]:
    """Every hall's 差评 cases not closed, overdue first (a step late, or past its due time now)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    sql = """
    SELECT c.hall, h.name AS hall_name, c.id, c.day, c."window", c.staff_no, c.status, c.opened_ms,
           c.callback_due_ms, c.rectify_due_ms, c.callback_ms, c.rectified_ms, c.pushed_back_note, c.pushed_back_at,
           (c.callback_overdue + c.rectify_overdue > 0
            OR (c.callback_ms IS NULL AND c.callback_due_ms < %(now)s)
            OR (c.rectified_ms IS NULL AND c.rectify_due_ms < %(now)s)) AS overdue
    FROM cases c JOIN halls h ON h.code = c.hall
    WHERE c.kind = 'bad_rating' AND c.status <> 'closed' AND NOT c.excluded
    ORDER BY overdue DESC, c.opened_ms, c.hall, c.id LIMIT 1000"""
    with conn.cursor(row_factory=dict_row) as cur:
        return [dict(x) for x in cur.execute(sql, {"now": now_ms})]


def push_back(conn: psycopg.Connection, hall: str, case_id: int, note: str, account: str,
              now_ms: int | None = None) -> int:
    """督办: a note on an overdue case, kept on the case and queued for the hall; returns its id."""
    note = note.strip()
    if not note:
        raise PushBackError("empty")
    if len(note) > MAX_NOTE:
        raise PushBackError("long")
    case = next((c for c in open_cases(conn, now_ms) if c["hall"] == hall and c["id"] == case_id), None)
    if case is None:
        raise PushBackError("missing")
    if not case["overdue"]:
        raise PushBackError("not_overdue")
    with conn.transaction():
        conn.execute("UPDATE cases SET pushed_back_note = %s, pushed_back_at = now() WHERE hall = %s AND id = %s",
                     [note, hall, case_id])
        row = conn.execute("INSERT INTO pushbacks (hall, case_id, note, by_account) VALUES (%s, %s, %s, %s) "
                           "RETURNING id", [hall, case_id, note, account]).fetchone()
    return int(row[0])


def pending_notes(conn: psycopg.Connection, hall: str) -> list[dict[str, Any]]:
    """The hall's 督办 notes it has not confirmed, oldest first (`GET /hall/notes`)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return [{"id": x["id"], "case_id": x["case_id"], "note": x["note"],
                 "at_ms": int(x["at"].timestamp() * 1000)}
                for x in cur.execute("SELECT id, case_id, note, at FROM pushbacks WHERE hall = %s "
                                     "AND delivered_at IS NULL ORDER BY id LIMIT 200", [hall])]


def confirm_notes(conn: psycopg.Connection, hall: str, upto_id: int) -> int:
    """The hall has applied its notes up to `upto_id` (`POST /hall/notes/ack`)."""
    cur = conn.execute("UPDATE pushbacks SET delivered_at = now() WHERE hall = %s AND id <= %s "
                       "AND delivered_at IS NULL", [hall, upto_id])
    return cur.rowcount
