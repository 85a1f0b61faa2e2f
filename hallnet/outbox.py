"""The node's durable outbox: a message is on disk before the person is told "done".

One SQLite file per node. `put` commits (fsync) and returns the envelope; the client sends
what is pending and deletes a message only when the hall server has acknowledged it.
The sender sequence number lives here too, so it survives restarts.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from hallnet.messages import Envelope, encode


class Outbox:
    def __init__(self, path: Path | str, node: str, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.node = node
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute(f"PRAGMA synchronous = {synchronous}")
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, "
            "type TEXT NOT NULL, frame BLOB NOT NULL, created_ms INTEGER NOT NULL)"
        )
        self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('seq', 0)")

    def put(self, type_: str, body: dict[str, Any]) -> Envelope:
        """Store one message durably; raises MalformedMessage (too large) before storing anything."""
        return self.put_many([(type_, body)])[0]

    def put_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[Envelope]:
        with self._lock:
            seq = self._conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0]
            envs, rows = [], []
            for type_, body in items:
                seq += 1
                env = Envelope(type=type_, node=self.node, seq=seq, body=body)
                rows.append((env.id, env.type, encode(env), env.ts_ms))
                envs.append(env)
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO outbox (id, type, frame, created_ms) VALUES (?, ?, ?, ?)", rows
                )
                self._conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", [seq])
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return envs

    def pending(self, after_n: int = 0, limit: int = 1000) -> list[tuple[int, str, bytes]]:
        """Stored messages in order: (n, id, frame) with n > after_n."""
        with self._lock:
            return self._conn.execute(
                "SELECT n, id, frame FROM outbox WHERE n > ? ORDER BY n LIMIT ?", [after_n, limit]
            ).fetchall()

    def delete(self, ids: list[str]) -> None:
        if not ids:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
            self._conn.execute("COMMIT")

    def last_seq(self) -> int:
        """The sequence number of the last message ever stored (sent or not)."""
        with self._lock:
            return self._conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0]

    def count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
