"""Working days on China's official calendar (R7), and the due dates counted on it.

Where each date's answer comes from, in order (`WorkCalendar.is_workday`):

1. the hall's own lists (hall.toml `[calendar]`): a listed holiday is off, a listed makeup working
   day (调休上班) is on. They override the chinese-calendar package for every date they name.
2. the `chinese_calendar` package, for the years it has data for (2004–2026 in 1.11.0).
3. a year **covered by the hall** (at least one holiday of that year listed): Monday–Friday for
   any other date; the hall copied that year's official notice, so nothing is guessed.
4. nothing official: Monday–Friday, logged once per year. Such a day is *not official*.

Open days of the hall (`open_sessions`, `open_slots`): a working day by the above (a makeup working
day keeps `[[hall.sessions]]`), or a weekend day that hall.toml `[hours]` lists and that is not a
public holiday; its sessions are the weekday's `[hours]`, else `[[hall.sessions]]`. Attendance counts
nothing on any other day. A year without official data never stops the hall (Monday–Friday, logged,
and `missing_years` lets a manager page warn); `require_official` raises `NoCalendarData` for code
that must not guess.

A due date "within N working days" of a moment passes at the end of the N-th working day after
that moment's local date. The end of a working day is 下班: the end of the hall's last session
that day (《民法典》第二百零三条: with business hours, the deadline is when business stops);
without a hall configuration (tests, tools) it is 24:00.

What the store keeps (`cases`, migration 40):
- `callback_due_ms` / `rectify_due_ms`: UTC epoch ms of the instant the deadline passes (after it,
  the step is overdue). For display, `due_day()` turns it back into the local working day it ends
  ("2027-01-08 下班前"); a legacy 24:00 value (00:00 of the next day) maps to the same day.
- `callback_due_provisional` / `rectify_due_provisional`: 1 when the count passed a day that is
  not official (source 4), so the date may move once the official arrangement is known.
- `due_calendar`: the `fingerprint` of the calendar that computed them (package version and years,
  the hall's lists).

Recomputing: `cases.recompute_due` runs on every `system.tick` and recomputes, a batch at a time,
the provisional (or legacy, fingerprint "") due dates whose fingerprint differs from the current
calendar's. Package upgrades and hall.toml edits take effect at a restart, so in practice the
first ticks after a restart with new data fix every such case, and the mark disappears; a case
that stays provisional is not recomputed again until the calendar changes. Cases still open from
before migration 40 are recomputed once (to the 下班 deadline); cases closed before it keep the
dates and flags they were closed with.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache

import chinese_calendar

from config.schema import HallCalendar, HallConfig, Session
from hall_server.domain.hours import Slot, local, local_ms, slots, weekday_sessions

log = logging.getLogger(__name__)
PACKAGE_PROBE_YEARS = range(2000, 2101)
_warned: set[int] = set()


class NoCalendarData(Exception):
    """China's official holiday arrangement for `year` is not known: the chinese-calendar package has
    no data for it and hall.toml `[calendar]` lists no holiday in it."""

    def __init__(self, year: int) -> None:
        super().__init__(f"no official holiday arrangement for {year}: the chinese-calendar package lacks it; "
                         f"list the year's holidays and makeup working days in hall.toml [calendar]")
        self.year = year


@dataclass(frozen=True)
class Due:
    """A computed deadline: the instant it passes, the local working day it ends, and whether the
    count relied on a guessed (Monday–Friday) day."""

    at_ms: int
    day: date
    provisional: bool


@lru_cache(maxsize=1)
def package_years() -> frozenset[int]:
    """The years the installed chinese_calendar has data for."""
    years = set()
    for year in PACKAGE_PROBE_YEARS:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            continue
        years.add(year)
    return frozenset(years)


class WorkCalendar:
    """The official calendar as this hall knows it: its own lists first, then the package."""

    def __init__(self, hall: HallCalendar) -> None:
        self.holidays = frozenset(hall.holidays)
        self.workdays = frozenset(hall.workdays)
        self.hall_years = hall.covered_years
        self._package_years = package_years()
        self.official_years = self.hall_years | self._package_years
        version = getattr(chinese_calendar, "__version__", "?")
        text = repr((version, sorted(package_years()), hall.holidays, hall.workdays))
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()[:16]

    def is_official(self, d: date) -> bool:
        """Whether the answer for `d` comes from official data (the hall's lists or the package)."""
        return d in self.holidays or d in self.workdays or d.year in self.official_years

    def is_workday(self, d: date) -> bool:
        if d in self.holidays:
            return False
        if d in self.workdays:
            return True
        if d.year in self._package_years:
            return bool(chinese_calendar.is_workday(d))
        if d.year not in self.hall_years and d.year not in _warned:
            _warned.add(d.year)
            log.warning("no official calendar for %d (chinese_calendar lacks it and hall.toml [calendar] "
                        "lists no holiday in it): counting Monday–Friday, due dates provisional", d.year)
        return d.weekday() < 5

    def require_official(self, year: int) -> None:
        """Raise NoCalendarData unless `year`'s arrangement is known (package or hall.toml)."""
        if year not in self.official_years:
            raise NoCalendarData(year)

    def is_public_holiday(self, d: date) -> bool:
        """Whether `d` is off by the State Council's arrangement (法定节假日 and the days around it), as
        opposed to a plain weekend or a working day."""
        if d in self.holidays:
            return True
        if d in self.workdays or d.year not in self._package_years:
            return False
        off, name = chinese_calendar.get_holiday_detail(d)
        return bool(off and name is not None)

    def add_workdays(self, d: date, n: int) -> tuple[date, bool]:
        """The n-th working day after `d` (n ≥ 1; `d` itself never counts), and whether a day
        passed on the way was not official."""
        if n < 1:
            raise ValueError("n must be at least 1")
        provisional = False
        while n:
            d += timedelta(days=1)
            provisional = provisional or not self.is_official(d)
            if self.is_workday(d):
                n -= 1
        return d, provisional


@lru_cache(maxsize=16)
def _calendar(hall: HallCalendar) -> WorkCalendar:
    return WorkCalendar(hall)


def calendar_for(config: HallConfig | None) -> WorkCalendar:
    return _calendar(config.hall.calendar if config is not None else HallCalendar())


def is_workday(d: date, config: HallConfig | None = None) -> bool:
    return calendar_for(config).is_workday(d)


def add_workdays(d: date, n: int, config: HallConfig | None = None) -> date:
    """The n-th working day after `d` (n ≥ 1); `d` itself never counts."""
    return calendar_for(config).add_workdays(d, n)[0]


def open_sessions(d: date, config: HallConfig) -> tuple[Session, ...]:
    """The hall's sessions on `d`, () when the hall is closed that day (see the module's docstring)."""
    calendar = calendar_for(config)
    if calendar.is_workday(d):
        if d.weekday() >= 5:                      # 调休上班: a working day like any other
            return config.hall.sessions
        return weekday_sessions(d, config)
    if d.weekday() >= 5 and config.hall.hours.weekdays[d.weekday()] and not calendar.is_public_holiday(d):
        return weekday_sessions(d, config)
    return ()


def open_slots(d: date, config: HallConfig) -> tuple[Slot, ...]:
    """The open sessions of `d` as (half, start_ms, end_ms) slots; () on a closed day."""
    return slots(d, open_sessions(d, config), config)


def open_slot_at(ms: int, config: HallConfig) -> Slot | None:
    """The open session containing the instant `ms`, or None (closed day, lunch break, after hours)."""
    for slot in open_slots(local(ms, config).date(), config):
        if slot.start_ms <= ms < slot.end_ms:
            return slot
    return None


def missing_years(config: HallConfig | None, years: list[int] | range) -> list[int]:
    """Those of `years` without an official arrangement (a manager-visible warning, never an error)."""
    calendar = calendar_for(config)
    return [y for y in years if y not in calendar.official_years]


def calendar_warnings(config: HallConfig | None, now_ms: int) -> list[str]:
    """One line per year (this one and the next) without an official arrangement, for the server's
    log at start; the roster pages show the same to managers."""
    year = local(now_ms, config).year
    return [str(NoCalendarData(y)) for y in missing_years(config, [year, year + 1])]


def closing_time(config: HallConfig | None) -> time | None:
    """下班: the end of the hall's last session; None without a configuration (then 24:00)."""
    if config is None or not config.hall.sessions:
        return None
    return max(s.end for s in config.hall.sessions)


def end_of_day_ms(d: date, config: HallConfig | None) -> int:
    """UTC ms of the end of local working day `d`: 下班, or 24:00 without sessions."""
    if config is None or not config.hall.sessions:
        return local_ms(d + timedelta(days=1), time(0, 0), config)
    sessions = open_sessions(d, config) or config.hall.sessions     # that day's own hours (e.g. a short Friday)
    return local_ms(d, max(s.end for s in sessions), config)


def due(start_ms: int, working_days: int, config: HallConfig | None) -> Due:
    """The deadline `working_days` working days after the local date of `start_ms`."""
    day, provisional = calendar_for(config).add_workdays(local(start_ms, config).date(), working_days)
    return Due(at_ms=end_of_day_ms(day, config), day=day, provisional=provisional)


def due_ms(start_ms: int, working_days: int, config: HallConfig | None) -> int:
    """UTC ms of the end (下班) of the `working_days`-th working day after the local date of `start_ms`."""
    return due(start_ms, working_days, config).at_ms


def due_day(at_ms: int, config: HallConfig | None) -> date:
    """The local working day a stored due instant ends (a 24:00 deadline is 00:00 of the next day)."""
    return local(at_ms - 1, config).date()


def workdays_between(a: date, b: date, config: HallConfig | None = None) -> int:
    """Working days in (a, b]."""
    calendar = calendar_for(config)
    n, d = 0, a
    while d < b:
        d += timedelta(days=1)
        n += calendar.is_workday(d)
    return n
