"""The node's durable outbox: a message is on disk before the person is told "done".

One SQLite file per node. `put` commits (fsync) and returns the envelope; puts from several
threads that arrive during a commit share the next one (group commit). The client sends
what is pending and deletes a message only when the hall server has acknowledged it.
The sender sequence number lives here too, so it survives restarts.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from hallnet.messages import Envelope, encode


class _Put:
    """One caller's messages waiting for the group commit."""

    __slots__ = ("items", "envs", "error", "done")

    def __init__(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        self.items = items
        self.envs: list[Envelope] = []
        self.error: BaseException | None = None
        self.done = False


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
        self.commits = 0              # transactions (fsyncs) those took: group commit makes it fewer
        self._group = threading.Condition()
        self._waiting: list[_Put] = []
        self._committing = False

    def put(self, type_: str, body: dict[str, Any]) -> Envelope:
        """Store one message durably; raises MalformedMessage (too large) before storing anything."""
        return self.put_many([(type_, body)])[0]

    def put_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[Envelope]:
        """Store messages durably, in order, and return their envelopes only once they are on disk.

        Group commit: callers that arrive while a commit is running wait for it, then the first of
        them commits everything waiting in one transaction (one fsync) on behalf of all. A caller
        whose message cannot be encoded gets its own error; the others are stored."""
        mine = _Put(items)
        group: list[_Put] = []
        with self._group:
            self._waiting.append(mine)
            while not mine.done:
                if not self._committing:             # lead: commit everything waiting, ours included
                    self._committing = True
                    group, self._waiting = self._waiting, []
                    break
                self._group.wait()
        if group:
            try:
                self._commit(group)
            finally:
                with self._group:
                    self._committing = False
                    self._group.notify_all()
        if mine.error is not None:
            raise mine.error
        return mine.envs

    def _commit(self, group: list["_Put"]) -> None:
        """One transaction for the whole group; every member is marked done (stored or failed)."""
        with self._lock:
            try:
                seq = self._conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0]
                rows: list[tuple[str, str, bytes, int]] = []
                stored: list[_Put] = []
                for put in group:
                    try:
                        envs = [Envelope(type=type_, node=self.node, seq=seq + k + 1, body=body)
                                for k, (type_, body) in enumerate(put.items)]
                        put_rows = [(env.id, env.type, encode(env), env.ts_ms) for env in envs]
                    except Exception as exc:          # too large or not encodable: this caller's error alone
                        put.error = exc
                        continue
                    seq += len(envs)
                    put.envs = envs
                    rows.extend(put_rows)
                    stored.append(put)
                if rows:
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
                    self.puts += len(rows)
                    self.commits += 1
            except BaseException as exc:              # nothing of the group is stored
                for put in group:
                    if put.error is None:
                        put.envs = []
                        put.error = exc
                raise
            finally:
                for put in group:
                    put.done = True

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
