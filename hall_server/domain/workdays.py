"""Working days on China's official calendar (R7), from the `chinese_calendar` package.

Public holidays are off and makeup working days (调休上班, e.g. Saturday 2026-10-10) are on. A due
date "within N working days" of a moment is the end (24:00 local) of the N-th working day after
that moment's local date. Years the package does not know yet fall back to Monday–Friday (logged):
a case opened in late December must still get a due date.
"""

from __future__ import annotations

import logging
from datetime import date, time, timedelta

import chinese_calendar

from config.schema import HallConfig
from hall_server.domain.hours import local, local_ms

log = logging.getLogger(__name__)
_warned: set[int] = set()


def is_workday(d: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        if d.year not in _warned:
            _warned.add(d.year)
            log.warning("chinese_calendar has no data for %d: counting Monday–Friday", d.year)
        return d.weekday() < 5


def add_workdays(d: date, n: int) -> date:
    """The n-th working day after `d` (n ≥ 1); `d` itself never counts."""
    if n < 1:
        raise ValueError("n must be at least 1")
    while n:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def due_ms(start_ms: int, working_days: int, config: HallConfig | None) -> int:
    """UTC ms of the end of the `working_days`-th working day after the local date of `start_ms`."""
    last = add_workdays(local(start_ms, config).date(), working_days)
    return local_ms(last + timedelta(days=1), time(0, 0), config)


def workdays_between(a: date, b: date) -> int:
    """Working days in (a, b]."""
    n, d = 0, a
    while d < b:
        d += timedelta(days=1)
        n += is_workday(d)
    return n


