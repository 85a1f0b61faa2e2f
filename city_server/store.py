"""The city's store on PostgreSQL (psycopg 3): schema migrations recorded in the database, tables
partitioned by month, every key led by the hall's code.

Distribution plan (Citus, for a province): `jobs`, `ratings`, `attendance`, `cases`,
`case_events`, `pushbacks`, `day_figures` and `hall_cursor` are distributed by `hall` (every primary key and every join
includes it, so a hall's rows live on one worker and the city's queries are per-hall
aggregations pushed down to the workers); `halls` is a reference table (small, read everywhere); `accounts`, `sessions` and `web_secret`
stay on the coordinator (local tables: the web side's own).
Monthly partitions stay as they are under Citus (distributed partitioned tables).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date

import psycopg

from city_server import rollup

Migration = Callable[[psycopg.Connection], None]
PARTITIONED = ("jobs", "ratings", "attendance")


def _m1(conn: psycopg.Connection) -> None:
    x = conn.execute
    x("""CREATE TABLE halls (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_sha256 TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    # How far each hall's outbox has been applied: a resent batch is applied at most once.
    x("""CREATE TABLE hall_cursor (
        hall TEXT PRIMARY KEY REFERENCES halls (code),
        upto BIGINT NOT NULL DEFAULT 0,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    x("""CREATE TABLE jobs (
        hall TEXT NOT NULL, id BIGINT NOT NULL, day DATE NOT NULL,
        pub TEXT NOT NULL, "window" INTEGER NOT NULL, staff_no TEXT NOT NULL, department TEXT NOT NULL,
        service_code TEXT, job_no TEXT, started_ms BIGINT NOT NULL, finished_ms BIGINT,
        handle_ms BIGINT, wait_ms BIGINT, overdue BOOLEAN NOT NULL, promised_min INTEGER,
        PRIMARY KEY (hall, id, day)
    ) PARTITION BY RANGE (day)""")
    x("""CREATE TABLE ratings (
        hall TEXT NOT NULL, id BIGINT NOT NULL, day DATE NOT NULL,
        job_id BIGINT NOT NULL, round SMALLINT NOT NULL, level SMALLINT NOT NULL, channel SMALLINT NOT NULL,
        tags JSONB NOT NULL, text TEXT NOT NULL, is_default BOOLEAN NOT NULL, at_ms BIGINT NOT NULL,
        "window" INTEGER NOT NULL, staff_no TEXT NOT NULL, service_code TEXT,
        PRIMARY KEY (hall, id, day)
    ) PARTITION BY RANGE (day)""")
    x("""CREATE TABLE attendance (
        hall TEXT NOT NULL, id BIGINT NOT NULL, day DATE NOT NULL,
        session INTEGER NOT NULL, kind TEXT NOT NULL, "window" INTEGER NOT NULL, staff_no TEXT NOT NULL,
        at_ms BIGINT NOT NULL, minutes INTEGER NOT NULL,
        PRIMARY KEY (hall, id, day)
    ) PARTITION BY RANGE (day)""")
    x("""CREATE TABLE cases (
        hall TEXT NOT NULL, id BIGINT NOT NULL, day DATE NOT NULL,
        kind TEXT NOT NULL, rating_id BIGINT, job_id BIGINT, "window" INTEGER, staff_no TEXT,
        opened_ms BIGINT NOT NULL, callback_due_ms BIGINT NOT NULL, rectify_due_ms BIGINT NOT NULL,
        callback_ms BIGINT, rectified_ms BIGINT, status TEXT NOT NULL, appeal TEXT NOT NULL,
        excluded BOOLEAN NOT NULL, callback_overdue INTEGER NOT NULL, rectify_overdue INTEGER NOT NULL,
        pushed_back_note TEXT, pushed_back_at TIMESTAMPTZ,
        PRIMARY KEY (hall, id)
    )""")
    x("CREATE INDEX cases_status ON cases (hall, status)")
    x("""CREATE TABLE case_events (
        hall TEXT NOT NULL, id BIGINT NOT NULL, case_id BIGINT NOT NULL, at_ms BIGINT NOT NULL,
        kind TEXT NOT NULL, note TEXT NOT NULL,
        PRIMARY KEY (hall, id)
    )""")


def _m2(conn: psycopg.Connection) -> None:
    x = conn.execute
    # The city's own people: password hashes (scrypt, config.pins' format), never the passwords.
    x("""CREATE TABLE accounts (
        name TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('city_manager', 'city_viewer')),
        password_hash TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""")
    # A session is a random id in a signed cookie; the city keeps its SHA-256 until logout or expiry.
    x("""CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
        expires_at TIMESTAMPTZ NOT NULL
    )""")
    x("CREATE TABLE web_secret (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), secret BYTEA NOT NULL)")
    x("INSERT INTO web_secret (secret) VALUES (%s)", [secrets.token_bytes(32)])
    # 督办 notes a city manager wrote on a hall's case, until the hall has fetched them.
    x("""CREATE TABLE pushbacks (
        hall TEXT NOT NULL REFERENCES halls (code), id BIGSERIAL, case_id BIGINT NOT NULL,
        note TEXT NOT NULL, by_account TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now(),
        delivered_at TIMESTAMPTZ,
        PRIMARY KEY (hall, id)
    )""")
    x("CREATE INDEX pushbacks_pending ON pushbacks (hall) WHERE delivered_at IS NULL")


def _m3(conn: psycopg.Connection) -> None:
    conn.execute(rollup.TABLE)
    for sql in rollup.BACKFILL:
        conn.execute(sql)


MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "halls, cursors, and the forwarded records partitioned by month", _m1),
    (2, "the city's accounts, sessions, web secret and 督办 notes", _m2),
    (3, "day_figures: the daily figures per hall, window and staff member, kept by the ingest", _m3),
]


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply what is missing, each migration in its own transaction; returns the versions applied."""
    conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())""")
    conn.commit()
    done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    applied = []
    for version, name, fn in MIGRATIONS:
        if version in done:
            continue
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7316)")      # one migrator at a time
            if conn.execute("SELECT 1 FROM schema_migrations WHERE version = %s", [version]).fetchone():
                continue
            fn(conn)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", [version, name])
        applied.append(version)
    return applied


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def ensure_partitions(conn: psycopg.Connection, months: set[date]) -> None:
    """The monthly partitions of the partitioned tables for these months (first days)."""
    missing = []
    for first in sorted(months):
        name = f"jobs_{first:%Y_%m}"
        if conn.execute("SELECT to_regclass(%s)", [name]).fetchone()[0] is None:
            missing.append(first)
    if missing:
        conn.execute("SELECT pg_advisory_xact_lock(7317)")          # two halls' first rows of a month
    for first in missing:
        lo, hi = month_bounds(first)
        for table in PARTITIONED:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table}_{lo:%Y_%m} PARTITION OF {table} "
                         f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')")
