"""Rate limits of the city's public writes: token buckets per key (an address, a hall, an account),
the hall's own limiter (`hallnet.rate_limit.RateLimiter`), counted with `hit` (every attempt, a
refused one too) and holding at most `MAX_KEYS` keys each."""

from __future__ import annotations

from hallnet.rate_limit import RateLimiter

MAX_KEYS = 10_000


def limiter(limit: int, period_s: float) -> RateLimiter:
    return RateLimiter(limit, period_s, MAX_KEYS)
