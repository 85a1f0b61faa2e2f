"""A token bucket per key with bounded memory: the rate limits of the hall's public web side
(`hall_server.web.limits`) and of the city server's writes (`city_server`), one implementation."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

MAX_KEYS = 20_000                               # per bucket table: about 2 MB each


class RateLimiter:
    """At most `limit` hits per key at once, refilled at `limit` per `period_s` (a token bucket per
    key). Memory is bounded: past `max_keys` keys the least recently seen is forgotten. Safe to
    share between threads (the city's handlers run in a thread pool)."""

    def __init__(self, limit: int, period_s: float, max_keys: int = MAX_KEYS) -> None:
        if limit < 1 or period_s <= 0 or max_keys < 1:
            raise ValueError("limit, period_s and max_keys must be positive")
        self.limit, self.period_s, self.max_keys = limit, period_s, max_keys
        self._rate_per_s = limit / period_s
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()   # key → (tokens, at_s)
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        held = self._buckets.get(key)
        if held is None:
            return float(self.limit)
        tokens, at = held
        return min(float(self.limit), tokens + max(0.0, now - at) * self._rate_per_s)

    def _forget_oldest(self) -> None:
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def wait_s(self, key: str, now: float | None = None) -> float:
        """0 when a hit would be allowed now, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = self._tokens(key, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate_per_s

    def consume(self, key: str, now: float | None = None) -> None:
        """Count a hit (even past the limit the bucket stays at zero, never below)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = max(0.0, self._tokens(key, now) - 1.0)
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
            self._forget_oldest()

    def copy(self, source: str, target: str) -> None:
        """`target` starts where `source` is (a new client cookie inherits its fingerprint's count)."""
        with self._lock:
            held = self._buckets.get(source)
            if held is not None:
                self._buckets[target] = held
                self._buckets.move_to_end(target)
                self._forget_oldest()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Whether a hit is allowed now; an allowed hit is counted."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self.wait_s(key, now) > 0:
                return False
            self.consume(key, now)
            return True

    def hit(self, key: str, now: float | None = None) -> bool:
        """Count an attempt, a refused one too, and say whether it is allowed: a caller that keeps
        trying stays refused until it stops (the city's key guesses, logins and writes)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            allowed = self.wait_s(key, now) == 0
            self.consume(key, now)
            return allowed
