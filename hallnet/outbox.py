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
        # Deletes go through a connection that does not fsync: a delete lost in a crash only means
        # the message is sent again, and the server acknowledges a duplicate without applying it.
        # The sender's I/O thread reads and deletes on connections of its own, so it never waits
        # behind a `put` that is in its fsync (WAL readers do not block on the writer).
        self._del = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._del.execute("PRAGMA synchronous = OFF")
        # Acknowledged messages may carry secrets (a sign-in PIN): overwrite them, don't just unlink.
        self._del.execute("PRAGMA secure_delete = ON")
        self._del_lock = threading.Lock()
        self._read = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._read_lock = threading.Lock()
        self.puts = 0                 # messages stored by this process (lets the sender skip idle queries)

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
            self.puts += len(envs)
            return envs

    def pending(self, after_n: int = 0, limit: int = 1000) -> list[tuple[int, str, bytes]]:
        """Stored messages in order: (n, id, frame) with n > after_n."""
        with self._read_lock:
            return self._read.execute(
                "SELECT n, id, frame FROM outbox WHERE n > ? ORDER BY n LIMIT ?", [after_n, limit]
            ).fetchall()

    def delete(self, ids: list[str], *, wait: bool = True) -> bool:
        """Delete acknowledged messages. With wait=False, give up at once (False) if a put holds the
        database; the caller tries again later."""
        if not ids:
            return True
        with self._del_lock:
            self._del.execute(f"PRAGMA busy_timeout = {5000 if wait else 0}")
            try:
                self._del.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                if wait:
                    raise
                return False
            self._del.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
            self._del.execute("COMMIT")
            return True

    def last_seq(self) -> int:
        """The sequence number of the last message ever stored (sent or not)."""
        with self._lock:
            return self._conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0]

    def count(self) -> int:
        with self._read_lock:
            return self._read.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        with self._lock, self._del_lock, self._read_lock:
            self._del.close()
            self._read.close()
            self._conn.close()
