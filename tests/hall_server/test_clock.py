from __future__ import annotations

import time

import pytest

from hallnet.clock import BadClock, Clock


def test_real_time_by_default() -> None:
    assert abs(Clock()() - time.time() * 1000) < 1000


def test_demo_clock_runs_faster_and_continues_across_restarts() -> None:
    anchor = time.time() - 10  # the demo started 10 s ago
    first = Clock.parse("2026-11-23T08:30+08:00", speed=60, anchor_s=anchor)
    restarted = Clock.parse("2026-11-23T08:30+08:00", speed=60, anchor_s=anchor)
    start_ms = 1795393800000  # 2026-11-23 08:30 +08:00
    assert abs(first() - (start_ms + 600_000)) < 60_000          # 10 real s × 60 = 10 simulated minutes
    assert abs(first() - restarted()) < 1000


@pytest.mark.parametrize("start, speed, message", [
    (None, 5.0, "needs --clock-start"),
    ("2026-11-23T08:30", 1.0, "UTC offset"),
    ("tomorrow", 1.0, "ISO time"),
    ("2026-11-23T08:30+08:00", 0.0, "above 0"),
])
def test_bad_clock_flags_say_what_is_wrong(start, speed, message) -> None:
    with pytest.raises(BadClock, match=message):
        Clock.parse(start, speed)
