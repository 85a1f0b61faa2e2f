"""A node's small durable SQLite file (the kiosk's kept taps, the gateway's print journal): opened
for use from several threads, autocommit, WAL with `synchronous = FULL`, so a write is on disk when
its statement returns. The outbox (`hallnet.outbox`) has its own, tuned opening."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_durable(path: Path, create_sql: str) -> sqlite3.Connection:
    """Open (creating the folder and the table with `create_sql`) the durable file at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(create_sql)
    return conn
