"""Rate limits of the city's public writes: token buckets per key (an address, a hall, an account)."""

from __future__ import annotations

import threading
import time


class Bucket:
    """At most `limit` hits per key per `period_s` (token buckets; bounded memory)."""

    def __init__(self, limit: int, period_s: float, max_keys: int = 10_000) -> None:
        self.limit, self.rate, self.max_keys = limit, limit / period_s, max_keys
        self._keys: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._keys.get(key, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - at) * self.rate)
            if len(self._keys) >= self.max_keys and key not in self._keys:
                self._keys.clear()
            self._keys[key] = (max(0.0, tokens - 1), now)
            return tokens >= 1.0
