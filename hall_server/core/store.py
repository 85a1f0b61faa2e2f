"""The hall's SQLite store: one file per hall, WAL, migration sets applied when it is opened.

Migrations are `sqlite_utils.migrations.Migrations` sets handed to `open_store` / `migrate` by the
caller (the hub opens with `hall_server.core.migrations.HALL`); this module knows none of them. Each
migration's name starts with its number (`numbered`), so a database migrated by the older code,
which recorded bare numbers in `_migrations`, is recognised once and never migrated twice.

Only the bus's writer thread writes (one writer, group commits). Readers (HTTP, figures) open
their own connections with `open_reader`.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
import time
import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

log = logging.getLogger(__name__)

LEGACY_TABLE = "_migrations"      # the numbers the code before migration sets recorded


class StoreError(Exception):
    """The store cannot be opened or migrated."""


class StorageFault(Exception):
    """The disk refused a write: nothing of the batch is stored, the caller retries later.

    `code` goes on the wire (a reply with `retry: true`) and into the API's JSON errors;
    `status` is what `/api/health` says about the storage."""

    code = "storage_error"
    status = "error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{self.code}: {detail}" if detail else self.code)
        self.detail = detail
        self.message = f"storage {self.status.replace('_', '-')}: not stored, retry later"


class StorageFull(StorageFault):
    """The disk (or the database's size limit) is full."""

    code = "storage_full"
    status = "full"


class StorageReadOnly(StorageFault):
    """The data folder or the database file has become read-only."""

    code = "storage_read_only"
    status = "read_only"


_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 8, 10, 13
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def storage_fault(exc: BaseException) -> StorageFault | None:
    """The storage fault behind `exc` (an SQLite or OS error), or None when it is something else (a bug)."""
    if isinstance(exc, StorageFault):
        return exc
    if isinstance(exc, sqlite3.Error):
        primary = getattr(exc, "sqlite_errorcode", 0) & 0xFF      # extended codes keep the primary in the low byte
        if primary == _SQLITE_FULL:
            return StorageFull(str(exc))
        if primary == _SQLITE_READONLY:
            return StorageReadOnly(str(exc))
        if primary == _SQLITE_IOERR:
            return StorageFault(str(exc))
        return None
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _FULL_ERRNOS:
            return StorageFull(os.strerror(exc.errno))
        if exc.errno in _READ_ONLY_ERRNOS:
            return StorageReadOnly(os.strerror(exc.errno))
        if exc.errno == errno.EIO:
            return StorageFault(os.strerror(exc.errno))
    return None


class StorageWatch:
    """The store's health as the one writer last saw it: ok / full / read_only / error, and the age
    of the last successful commit. A fault is logged once per `log_every_s` (with how many writes
    were refused meanwhile), not once per message; the recovery is logged once."""

    def __init__(self, log_every_s: float = 10.0) -> None:
        self.log_every_s = log_every_s
        self._lock = threading.Lock()
        self.status = "ok"
        self.detail = ""
        self.since_s = time.monotonic()
        self.last_commit_s: float | None = None
        self._logged_s = float("-inf")
        self._held = 0

    def committed(self, wrote: bool = True) -> None:
        """A batch committed; `wrote`: it changed rows (an empty commit proves nothing about the disk)."""
        now = time.monotonic()
        with self._lock:
            recovered, was, held = wrote and self.status != "ok", self.status, self._held
            if recovered:
                self.status, self.detail, self.since_s, self._held = "ok", "", now, 0
                self._logged_s = float("-inf")
            self.last_commit_s = now
        if recovered:
            log.warning("storage writable again (was %s; %d more refused writes since the last report)", was, held)

    def failed(self, fault: StorageFault) -> None:
        now = time.monotonic()
        with self._lock:
            changed = fault.status != self.status
            if changed:
                self.status, self.since_s = fault.status, now
            self.detail = (fault.detail or fault.code)[:200]
            due = changed or now - self._logged_s >= self.log_every_s
            held = self._held
            if due:
                self._logged_s, self._held = now, 0
            else:
                self._held += 1
        if due:
            log.error("storage %s: %s; nothing of the batch stored, senders retry%s", fault.status, self.detail,
                      f" ({held} more refused writes since the last report)" if held else "")

    def report(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            return {"status": self.status, "since_s": round(now - self.since_s, 1), "detail": self.detail,
                    "last_commit_s": None if self.last_commit_s is None else round(now - self.last_commit_s, 3)}


def check_writable(folder: Path | str, db_name: str = "hall.db") -> None:
    """Raise StoreError (one line) unless the data folder and its database files can be written.

    Creates the folder if needed, creates and removes a probe file (a read-only mount refuses even
    root), then opens the database and its WAL files, if present, for writing."""
    folder = Path(folder)
    probe = folder / f".write-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"probe")
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
        for name in (db_name, f"{db_name}-wal", f"{db_name}-shm"):
            if (folder / name).exists():
                os.close(os.open(folder / name, os.O_RDWR))
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        where = f" ({exc.filename}: {reason})" if exc.filename and Path(exc.filename) != folder else f" ({reason})"
        raise StoreError(f"data folder {folder} is not writable{where}: nothing could be stored; "
                         "make it writable and start again") from None


def numbered(number: int, description: str) -> str:
    """A migration's name: its number, four digits, then what it does ("0045 domain: ...")."""
    return f"{number:04d} {description}"


def migration_number(name: str) -> int:
    """The number a migration's name starts with."""
    head = name.split(" ", 1)[0]
    if not head.isdigit():
        raise StoreError(f"migration {name!r} does not start with its number")
    return int(head)


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


def open_store(path: Path | str, migrations: Sequence[Migrations]) -> sqlite_utils.Database:
    """Open (creating if needed) the hall database for writing and apply the sets' pending migrations."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = _connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # a commit is on disk before we acknowledge it
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open the database: {exc}") from None
    db = sqlite_utils.Database(conn)
    migrate(db, migrations)
    return db


def open_reader(path: Path | str) -> sqlite_utils.Database:
    """A read-only connection for queries beside the writer (WAL readers never block it)."""
    return sqlite_utils.Database(_connect(Path(path), readonly=True))


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migrations]) -> list[int]:
    """Apply the sets' migrations not yet recorded, set by set, each in its own transaction.

    Returns the numbers of those applied, in the order applied."""
    _adopt_legacy(db, migrations)
    applied: list[int] = []
    for sets in migrations:
        pending = [m.name for m in sets.pending(db)]
        sets.apply(db)
        for name in pending:
            log.info("migration %s applied", name)
        applied.extend(migration_number(name) for name in pending)
    return applied


def applied_numbers(db: sqlite_utils.Database) -> list[int]:
    """The numbers of every migration recorded in the database, ascending."""
    if not db[Migrations.migrations_table].exists():
        return []
    return sorted(migration_number(row["name"]) for row in db.query(
        f"SELECT name FROM {Migrations.migrations_table}"))


def _adopt_legacy(db: sqlite_utils.Database, migrations: Sequence[Migrations]) -> None:
    """Record, in the sets' table, the migrations an older server recorded by number in `_migrations`,
    then drop that table: what it applied is not applied again. A number no set knows (a database
    from a newer server) raises StoreError and changes nothing."""
    if not db[LEGACY_TABLE].exists():
        return
    done = {row["number"]: row["applied_ms"] for row in db.query(f"SELECT number, applied_ms FROM {LEGACY_TABLE}")}
    known = {migration_number(m.name): (sets, m.name) for sets in migrations for m in sets.pending(db)}
    for sets in migrations:
        for recorded in sets.applied(db):
            known.setdefault(migration_number(recorded.name), (sets, recorded.name))
    unknown = sorted(set(done) - set(known))
    if unknown:
        raise StoreError(f"the database records migrations {unknown} that this server does not know: "
                         "it was written by a newer version")
    with db.atomic():
        for sets in migrations:
            sets.ensure_migrations_table(db)
        recorded = {(r["migration_set"], r["name"]) for r in db.query(
            f"SELECT migration_set, name FROM {Migrations.migrations_table}")}
        for number, applied_ms in sorted(done.items()):
            sets, name = known[number]
            if (sets.name, name) in recorded:
                continue
            at = datetime.datetime.fromtimestamp(applied_ms / 1000, datetime.timezone.utc)
            db[Migrations.migrations_table].insert({"migration_set": sets.name, "name": name, "applied_at": str(at)})
        db.execute(f"DROP TABLE {LEGACY_TABLE}")
    log.info("adopted %d migrations recorded by number (%s)", len(done), LEGACY_TABLE)
