"""The citizen's estimated wait (issue 13): how long until a waiting ticket is called, said as a
range ("约 10–25 分钟"), from the people ahead, the windows open for its queue and how long a
handling takes today.

The estimate is a pure function (`handle_times`, `estimate`); `estimate_for` reads its inputs
from the store. The model, deliberately simple and explainable:

- A handling takes between a quick one (`low_ms`) and a slow one (`high_ms`): the 25th and 75th
  percentiles of today's finished 办件 of the category's 事项 (the latest `RECENT_JOBS` of them)
  once there are `MIN_SAMPLES` of them; before
  that, from the category's 事项: the median 承诺时限 (promised time, the most a handling may take)
  as a slow handling and half of it as a quick one; a category without 事项 uses the hall's
  `thresholds.default_handle_min` the same way.
- With `ahead` people in front and `windows` open windows serving the queue, the ticket is called
  once those ahead are done: at least `ahead × low / windows` (windows free as they finish), at
  most `(ahead + 1) × high / windows` (each window may also still be busy with the one it serves).
- No open window for the queue: no estimate (`min_minutes` / `max_minutes` are None); the page
  says that no window serves it at the moment.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from config.schema import HallConfig

MIN_SAMPLES = 3                 # today's finished 办件 needed before their times are used
RECENT_JOBS = 60                # … of which the latest this many count (today's recent pace)
OPEN_STATES = ("idle", "calling", "serving")     # window states that call tickets (not paused, not closed)
Source = Literal["today", "promised", "default"]


@dataclass(frozen=True)
class HandleTimes:
    """A quick and a slow handling of one category, and where the figures come from."""

    low_ms: int
    high_ms: int
    source: Source


@dataclass(frozen=True)
class WaitEstimate:
    ahead: int
    windows: int                    # open windows serving the ticket's queue
    min_minutes: int | None         # None: no open window, no estimate
    max_minutes: int | None
    source: Source


def handle_times(today_ms: Sequence[int], promised_min: Sequence[int], default_min: int) -> HandleTimes:
    """The quick and slow handling times from today's finished 办件 (`today_ms`, handling times in
    ms), else the category's 承诺时限 (`promised_min`), else the hall's default (minutes)."""
    done = sorted(ms for ms in today_ms if ms >= 0)
    if len(done) >= MIN_SAMPLES:
        q1, _, q3 = statistics.quantiles(done, n=4, method="inclusive")
        return HandleTimes(int(q1), max(int(q3), 1), "today")
    if promised_min:
        slow_ms = int(statistics.median(promised_min) * 60_000)
        return HandleTimes(slow_ms // 2, max(slow_ms, 1), "promised")
    slow_ms = max(default_min, 1) * 60_000
    return HandleTimes(slow_ms // 2, slow_ms, "default")


def estimate(ahead: int, windows: int, handle: HandleTimes) -> WaitEstimate:
    """The wait of a ticket with `ahead` people in front of it and `windows` open windows: whole
    minutes, the lower bound rounded down and the upper bound up (at least 1)."""
    ahead, windows = max(0, ahead), max(0, windows)
    if windows == 0:
        return WaitEstimate(ahead, 0, None, None, handle.source)
    low_ms = ahead * handle.low_ms / windows
    high_ms = (ahead + 1) * handle.high_ms / windows
    low_min = math.floor(low_ms / 60_000)
    high_min = max(math.ceil(high_ms / 60_000), low_min + 1, 1)
    return WaitEstimate(ahead, windows, low_min, high_min, handle.source)


# --- the inputs, from the store ------------------------------------------------------------------

def open_windows(db: Any, config: HallConfig, category: str, target_window: int | None = None) -> int:
    """Windows signed in and not paused that call tickets of `category` (or only `target_window`,
    for a ticket transferred to one window)."""
    if target_window is not None:
        numbers = [target_window]
    else:
        numbers = [w.number for w in config.windows if category in w.categories]
    if not numbers:
        return 0
    marks = ",".join("?" * len(numbers))
    return int(db.execute(f"SELECT COUNT(*) FROM windows WHERE number IN ({marks}) AND state IN "
                          f"({','.join('?' * len(OPEN_STATES))})", [*numbers, *OPEN_STATES]).fetchone()[0])


def today_handle_ms(db: Any, service_codes: Sequence[str], day: str, recent: int = RECENT_JOBS) -> list[int]:
    """Handling times (ms) of the latest `recent` 办件 finished on `day` with one of these 事项 (the
    category's): the pace of the last hours, not the morning's."""
    if not service_codes:
        return []
    marks = ",".join("?" * len(service_codes))
    return [r[0] for r in db.execute(
        f"SELECT handle_ms FROM jobs WHERE day = ? AND status = 'finished' AND service_code IN ({marks}) "
        "AND handle_ms IS NOT NULL ORDER BY finished_ms DESC LIMIT ?", [day, *service_codes, recent]).fetchall()]


def estimate_for(db: Any, config: HallConfig, category: str, day: str, ahead: int,
                 target_window: int | None = None) -> WaitEstimate:
    """The estimate of a ticket of `category` taken on `day` with `ahead` people in front."""
    services = [s for s in config.services if s.category == category]
    handle = handle_times(today_handle_ms(db, [s.code for s in services], day), [s.promised_min for s in services],
                          config.hall.thresholds.default_handle_min)
    return estimate(ahead, open_windows(db, config, category, target_window), handle)
