"""The node's durable outbox: a message is on disk before the person is told "done".

One SQLite file per node. `put` commits (fsync) and returns the envelope; puts from several
threads that arrive during a commit share the next one (group commit). The client sends
what is pending and deletes a message only when the hall server has acknowledged it.
The sender sequence number lives here too, so it survives restarts.

What this process stored is also kept in memory, in order, until the sender takes it (`next_rows`),
so the sender does not read back from the file what was just written; rows from an earlier run,
or more than FRESH_MAX_BYTES not yet taken, are read from the file. Puts and deletes take turns
on one lock of this process, never through SQLite's busy handler (which sleeps in steps of
milliseconds while the other holds the file).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from pathlib import Path
from typing import Any

from hallnet.messages import Envelope, encode

FRESH_MAX_BYTES = 16 * 1024 * 1024     # frames kept in memory for the sender; beyond, it reads the file

Row = tuple[int, str, bytes]           # (n, message id, frame)


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
        self._del.execute("PRAGMA busy_timeout = 5000")    # (another process only: this one takes turns on _lock)
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
        self._fresh: deque[Row] = deque()     # rows stored by this process, in order, not yet taken
        self._fresh_bytes = 0
        self._fresh_lock = threading.Lock()

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
                        last_n = self._conn.execute("SELECT last_insert_rowid()").fetchone()[0]
                        self._conn.execute("COMMIT")
                    except BaseException:
                        self._conn.execute("ROLLBACK")
                        raise
                    self._keep_fresh(last_n - len(rows) + 1, rows)
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

    def _keep_fresh(self, first_n: int, rows: list[tuple[str, str, bytes, int]]) -> None:
        """Keep a committed group's rows (numbered first_n… in one transaction) for `next_rows`."""
        with self._fresh_lock:
            fresh = self._fresh
            if fresh and fresh[-1][0] + 1 != first_n:       # not contiguous (cannot happen): start over
                fresh.clear()
                self._fresh_bytes = 0
            for k, (msg_id, _, frame, _) in enumerate(rows):
                if self._fresh_bytes + len(frame) > FRESH_MAX_BYTES:
                    fresh.clear()            # the sender is far behind: it reads these from the file
                    self._fresh_bytes = 0
                    return
                fresh.append((first_n + k, msg_id, frame))
                self._fresh_bytes += len(frame)

    def next_rows(self, after_n: int, limit: int) -> list[Row]:
        """The stored messages after `after_n`, in order, at most `limit`: from memory when they are
        there (stored by this process, contiguous from after_n + 1), else from the file."""
        with self._fresh_lock:
            fresh = self._fresh
            while fresh and fresh[0][0] <= after_n:
                self._fresh_bytes -= len(fresh.popleft()[2])
            if fresh and fresh[0][0] == after_n + 1:
                rows = [fresh.popleft() for _ in range(min(limit, len(fresh)))]
                self._fresh_bytes -= sum(len(r[2]) for r in rows)
                return rows
        return self.pending(after_n, limit)

    def pending(self, after_n: int = 0, limit: int = 1000) -> list[Row]:
        """Stored messages in order: (n, id, frame) with n > after_n."""
        with self._read_lock:
            return self._read.execute(
                "SELECT n, id, frame FROM outbox WHERE n > ? ORDER BY n LIMIT ?", [after_n, limit]
            ).fetchall()

    def delete(self, ids: list[str], *, wait: bool = True) -> bool:
        """Delete acknowledged messages. With wait=False, give up at once (False) if a put is storing
        (it holds the lock for its fsync); the caller tries again later."""
        if not ids:
            return True
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            with self._del_lock:
                self._del.execute("BEGIN IMMEDIATE")
                try:
                    self._del.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
                    self._del.execute("COMMIT")
                except BaseException:
                    self._del.execute("ROLLBACK")
                    raise
                return True
        finally:
            self._lock.release()

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
