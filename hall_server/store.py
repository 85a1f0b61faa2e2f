"""The hall's SQLite store: one file per hall, WAL, numbered migrations recorded in the database.

Only the bus's writer thread writes (one writer, group commits). Readers (HTTP, figures) open
their own connections with `open_reader`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

log = logging.getLogger(__name__)

Migrate = Callable[[sqlite_utils.Database], None]


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    apply: Migrate


MIGRATIONS: list[Migration] = []


class StoreError(Exception):
    """The store cannot be opened or migrated."""


def migration(number: int, name: str) -> Callable[[Migrate], Migrate]:
    """Register a numbered migration. Numbers are unique and applied in order, once per database."""

    def register(fn: Migrate) -> Migrate:
        if any(m.number == number for m in MIGRATIONS):
            raise StoreError(f"migration {number} registered twice")
        MIGRATIONS.append(Migration(number, name, fn))
        MIGRATIONS.sort(key=lambda m: m.number)
        return fn

    return register


def append_only(db: sqlite_utils.Database, table: str) -> None:
    """Forbid UPDATE and DELETE on a table: corrections are new rows."""
    for op in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def open_store(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the hall database for writing and bring it to the newest migration."""
    import hall_server.migrations  # noqa: F401  (registers the migrations)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = _connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # a commit is on disk before we acknowledge it
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    db = sqlite_utils.Database(conn)
    migrate(db)
    return db


def open_reader(path: Path | str) -> sqlite_utils.Database:
    """A read-only connection for queries beside the writer (WAL readers never block it)."""
    return sqlite_utils.Database(_connect(Path(path), readonly=True))


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply the registered migrations not yet recorded; each in its own transaction. Returns those applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT number FROM _migrations").fetchall()}
    applied = []
    for m in MIGRATIONS:
        if m.number in done:
            continue
        with db.atomic():  # one transaction per migration; rolled back on error
            m.apply(db)
            db.execute(
                "INSERT INTO _migrations (number, name, applied_ms) VALUES (?, ?, CAST(strftime('%s','now') AS INTEGER) * 1000)",
                [m.number, m.name],
            )
        log.info("migration %d %s applied", m.number, m.name)
        applied.append(m.number)
    return applied
