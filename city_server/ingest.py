"""Applying one hall's batch: in one transaction, after the hall's cursor (so a batch resent after
a lost answer, or after the city died mid-batch, is applied once), upserting each record under the
hall's code (COPY into a temporary table, then one INSERT … ON CONFLICT per kind: bench/city.py),
then moving the cursor. Partitions for new months are made on the way."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date

import msgspec
import psycopg

from city_server import rollup
from city_server.records import Attendance, Case, CaseEvent, Job, Rating
from city_server.store import ensure_partitions

_COLUMNS: dict[type, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # type: (table, columns after hall, the primary key's columns after hall)
    Job: ("jobs", ("id", "day", "pub", "window", "staff_no", "department", "service_code", "job_no", "started_ms",
                   "finished_ms", "handle_ms", "wait_ms", "overdue", "promised_min"), ("id", "day")),
    Rating: ("ratings", ("id", "day", "job_id", "round", "level", "channel", "tags", "text", "is_default", "at_ms",
                         "window", "staff_no", "service_code"), ("id", "day")),
    Attendance: ("attendance", ("id", "day", "session", "kind", "window", "staff_no", "at_ms", "minutes"),
                 ("id", "day")),
    Case: ("cases", ("id", "day", "kind", "rating_id", "job_id", "window", "staff_no", "opened_ms", "callback_due_ms",
                     "rectify_due_ms", "callback_ms", "rectified_ms", "status", "appeal", "excluded",
                     "callback_overdue", "rectify_overdue"), ("id",)),
    CaseEvent: ("case_events", ("id", "case_id", "at_ms", "kind", "note"), ("id",)),
}

def _q(cols: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in cols)     # quoted: "window" is a reserved word in PostgreSQL


# Each kind's rows go into a temporary table by COPY, then into the table in one upsert that keeps,
# per key, the batch's last row (a case changed three times is listed three times; the last wins).
_UPSERT = {
    kind: (f"INSERT INTO {table} (hall, {_q(cols)}) SELECT DISTINCT ON (hall, {_q(key)}) hall, {_q(cols)} "
           f"FROM _in_{table} ORDER BY hall, {_q(key)}, _ord DESC ON CONFLICT (hall, {_q(key)}) DO UPDATE SET "
           + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c not in key))
    for kind, (table, cols, key) in _COLUMNS.items()
}
_ROLLUP = {Job: rollup.JOBS, Rating: rollup.RATINGS}       # the day's figures, before the upsert
_ORDER = {Job: 0, Rating: 1, Attendance: 2, Case: 3, CaseEvent: 4}     # a batch's 办件 before their ratings
_STAGE = {kind: f"CREATE TEMP TABLE IF NOT EXISTS _in_{table} (LIKE {table}, _ord INTEGER NOT NULL) "
                "ON COMMIT DELETE ROWS" for kind, (table, _cols, _key) in _COLUMNS.items()}
# COPY takes each record's fields in the struct's own order (msgspec.structs.astuple), as text:
# PostgreSQL parses a day's ISO text itself; tags go as JSON text.
_COPY = {kind: f"COPY _in_{table} (hall, {_q(kind.__struct_fields__)}, _ord) FROM STDIN"
         for kind, (table, _cols, _key) in _COLUMNS.items()}
assert all(set(kind.__struct_fields__) == set(cols) for kind, (_t, cols, _k) in _COLUMNS.items())
_TAGS_AT = Rating.__struct_fields__.index("tags")


def _row(hall: str, rec: msgspec.Struct, order: int) -> tuple[object, ...]:
    values = msgspec.structs.astuple(rec)
    if type(rec) is Rating:
        values = (*values[:_TAGS_AT], msgspec.json.encode(values[_TAGS_AT]).decode(), *values[_TAGS_AT + 1:])
    return (hall, *values, order)


@dataclass(frozen=True)
class Applied:
    applied: int          # records written now
    skipped: int          # already applied before (a resent batch)
    upto: int             # the hall's cursor after this batch


# What this process knows exists, noted only after the transaction that made it committed (a
# rolled-back CREATE leaves nothing): months with partitions, and each connection's staging tables.
_PARTITIONED_MONTHS: dict[tuple[str, int, str], set[date]] = {}
_STAGED: "weakref.WeakKeyDictionary[psycopg.Connection, set[type]]" = weakref.WeakKeyDictionary()


def apply(conn: psycopg.Connection, hall: str, entries: list[tuple[int, str, msgspec.Struct]]) -> Applied:
    staged = _STAGED.setdefault(conn, set())
    known = _PARTITIONED_MONTHS.setdefault((conn.info.host, conn.info.port, conn.info.dbname), set())
    with conn.transaction():
        row = conn.execute("SELECT upto FROM hall_cursor WHERE hall = %s FOR UPDATE", [hall]).fetchone()
        upto = int(row[0]) if row else 0
        fresh = [(seq, rec) for seq, _stream, rec in entries if seq > upto]
        months = {date.fromisoformat(m + "-01") for m in {getattr(rec, "day")[:7] for _seq, rec in fresh
                                                           if isinstance(rec, (Job, Rating, Attendance))}}
        months -= known
        if months:
            ensure_partitions(conn, months)
        by_kind: dict[type, list[tuple[object, ...]]] = {}
        for order, (_seq, rec) in enumerate(fresh):
            by_kind.setdefault(type(rec), []).append(_row(hall, rec, order))
        made = set(by_kind) - staged
        with conn.cursor() as cur:
            for kind, params in sorted(by_kind.items(), key=lambda kv: _ORDER[kv[0]]):
                if kind in made:
                    cur.execute(_STAGE[kind])
                with cur.copy(_COPY[kind]) as copy:
                    for values in params:
                        copy.write_row(values)
                if kind in _ROLLUP:
                    # The staging table has no statistics: without this the planner may hash the whole
                    # month's 办件 for a thousand probes (bench/city.py: 2.5× slower ingest).
                    cur.execute("SET LOCAL enable_hashjoin = off")
                    cur.execute("SET LOCAL enable_mergejoin = off")
                    cur.execute(_ROLLUP[kind])
                cur.execute(_UPSERT[kind])
        if fresh:
            upto = fresh[-1][0]
            conn.execute("INSERT INTO hall_cursor (hall, upto) VALUES (%s, %s) ON CONFLICT (hall) DO UPDATE "
                         "SET upto = EXCLUDED.upto, updated_at = now()", [hall, upto])
    known.update(months)
    staged.update(made)
    return Applied(len(fresh), len(entries) - len(fresh), upto)
