"""The published hall state: a key → value map with a hall-wide sequence number (Clone pattern).

Kept in memory for snapshots and persisted in the `state` table in the same transaction as the
change, so a restarted server continues the same sequence and the same map.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import msgpack
import sqlite_utils


@dataclass
class SnapshotParts:
    """A snapshot cut into parts of at most `max_part_bytes` (keys + values, msgpack), in key order."""

    seq: int
    parts: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # keys whose value alone is over the limit


def packed_size(key: str, value: Any) -> int:
    return len(msgpack.packb(key, use_bin_type=True)) + len(msgpack.packb(value, use_bin_type=True))


class StateMap:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}      # packed size of key + value, computed on demand
        self._seq = 0

    @classmethod
    def load(cls, db: sqlite_utils.Database) -> "StateMap":
        state = cls()
        state._seq = db.execute("SELECT seq FROM state_seq WHERE id = 1").fetchone()[0]
        for key, blob in db.execute("SELECT key, value FROM state"):
            state._values[key] = msgpack.unpackb(blob, raw=False)
        return state

    @property
    def seq(self) -> int:
        return self._seq

    def snapshot(self, prefix: str = "") -> tuple[int, dict[str, Any]]:
        with self._lock:
            if not prefix:
                return self._seq, dict(self._values)
            return self._seq, {k: v for k, v in self._values.items() if k.startswith(prefix)}

    def snapshot_parts(self, prefix: str, max_part_bytes: int, *, exclude_prefix: str = "") -> SnapshotParts:
        """The state under `prefix` (less keys under `exclude_prefix`) split by bytes, so that no part
        is bigger than `max_part_bytes`. A value too big for any part (stored before the limits
        existed) is left out and named in `skipped`; there is always at least one part."""
        with self._lock:
            out = SnapshotParts(seq=self._seq)
            part: dict[str, Any] = {}
            size = 0
            for key, value in self._values.items():
                if not key.startswith(prefix) or (exclude_prefix and key.startswith(exclude_prefix)):
                    continue
                item = self._sizes.get(key)
                if item is None:
                    item = self._sizes[key] = packed_size(key, value)
                if item > max_part_bytes:
                    out.skipped.append(key)
                    continue
                if part and size + item > max_part_bytes:
                    out.parts.append(part)
                    part, size = {}, 0
                part[key] = value
                size += item
            out.parts.append(part)
            return out

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(key, default)

    def write(self, db: sqlite_utils.Database, changes: list[tuple[str, Any]]) -> list[tuple[int, str, Any]]:
        """Persist `changes` inside the caller's open transaction; returns the numbered deltas.

        The in-memory map is untouched: the caller passes the deltas to `commit` once the
        transaction has committed, so a rolled-back batch leaves memory and disk alike.
        """
        deltas: list[tuple[int, str, Any]] = []
        seq = self._seq
        last: dict[str, Any] = {}
        for key, value in changes:      # one batch = one commit: only each key's last value is news
            last.pop(key, None)
            last[key] = value
        for key, value in last.items():
            seq += 1
            if value is None:
                db.execute("DELETE FROM state WHERE key = ?", [key])
            else:
                db.execute(
                    "INSERT INTO state (key, value, seq) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, seq = excluded.seq",
                    [key, msgpack.packb(value, use_bin_type=True), seq],
                )
            deltas.append((seq, key, value))
        if deltas:
            db.execute("UPDATE state_seq SET seq = ? WHERE id = 1", [seq])
        return deltas

    def commit(self, deltas: list[tuple[int, str, Any]]) -> None:
        """Take committed deltas into the in-memory map."""
        with self._lock:
            for seq, key, value in deltas:
                self._sizes.pop(key, None)
                if value is None:
                    self._values.pop(key, None)
                else:
                    self._values[key] = value
                self._seq = seq
