"""Which nodes the bus hears: when each was last seen, which are alive (heard within `silence_s`).

The bus thread marks nodes seen; the HTTP side reads `report()` from its own threads.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class Presence:
    def __init__(self, silence_s: float) -> None:
        self.silence_s = silence_s
        self._lock = threading.Lock()
        self._last_seen: dict[str, float] = {}
        self._alive: set[str] = set()

    def seen(self, node: str, now_s: float) -> bool:
        """Mark `node` heard now; True if it was not alive before (it came)."""
        with self._lock:
            self._last_seen[node] = now_s
            if node in self._alive:
                return False
            self._alive.add(node)
            return True

    def gone(self, now_s: float) -> list[str]:
        """The nodes not heard for `silence_s`, now no longer alive."""
        with self._lock:
            gone = [n for n in self._alive if now_s - self._last_seen.get(n, 0.0) > self.silence_s]
            for n in gone:
                self._alive.discard(n)
        return gone

    def report(self) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            return {n: {"alive": n in self._alive, "silent_s": round(now - t, 1)} for n, t in self._last_seen.items()}
