"""A node's mirror of the hall state: a key → value map and the last sequence number applied.

Fed by the client's I/O thread (snapshots in parts, then numbered deltas: the ZeroMQ guide's Clone
pattern); read from any thread. Each change is returned so the client can tell its `on_change`.
"""

from __future__ import annotations

import threading
from typing import Any

Changes = list[tuple[str, Any]]


class StateMirror:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._seq = -1                      # -1: no snapshot yet

    @property
    def seq(self) -> int:
        return self._seq

    def state(self, prefix: str = "") -> dict[str, Any]:
        with self._lock:
            return {k: v for k, v in self._state.items() if k.startswith(prefix)}

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._state.get(key, default)

    def apply_deltas(self, deltas: list[Any]) -> tuple[bool, Changes]:
        """Apply numbered deltas [seq, key, value]; False on a gap (then a snapshot is needed)."""
        changed: Changes = []
        with self._lock:
            for d in deltas:
                if not (isinstance(d, list) and len(d) == 3 and isinstance(d[0], int) and isinstance(d[1], str)):
                    continue
                seq, key, value = d
                if seq <= self._seq:
                    continue
                if seq != self._seq + 1:
                    return False, changed
                self._seq = seq
                if not key:
                    continue                # a server-private change: only its number reaches us
                if value is None:
                    self._state.pop(key, None)
                else:
                    self._state[key] = value
                changed.append((key, value))
        return True, changed

    def install(self, seq: int, values: dict[str, Any], buffered: list[Any]) -> tuple[bool, Changes]:
        """Take a full snapshot, then the deltas buffered since; False if those have a gap."""
        with self._lock:
            old = self._state
            self._state = dict(values)
            self._seq = seq
        changed = [(k, v) for k, v in values.items() if old.get(k) != v]
        changed += [(k, None) for k in old if k not in values]
        if not buffered:
            return True, changed
        ok, more = self.apply_deltas(sorted((d for d in buffered if isinstance(d, list) and d and isinstance(d[0], int)),
                                            key=lambda d: d[0]))
        return ok, changed + more
