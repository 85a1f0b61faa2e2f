"""The traffic simulator's day: an event queue on the demo clock, and the plan of one hall day
(staff signing in and out, lunch and short absences, citizens arriving along a daily curve).

`Schedule` is a part of `demo.traffic.simulation.Traffic`; the people it plans for act in
`demo.traffic.people`.
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable
from zoneinfo import ZoneInfo

from config.schema import HallConfig
from demo.traffic.roster import MANAGER_NODE, week_roster
from hallnet.client import HallClient, NotDelivered
from hallnet.clock import Clock
from hallnet.vocabulary import Msg

if TYPE_CHECKING:
    from demo.traffic.people import Desk

log = logging.getLogger("traffic")

MIN_MS = 60_000
LOAD = 0.85            # arrivals over the day as a share of what the staffed windows can serve
HANDLE_FACTOR = 0.55   # a 办件 takes its promised time × E[min(1.4, lognormal(-0.7, 0.45))] (people._start)
OVERHEAD_MIN = 1.7     # per citizen: calling, walking up, starting, the clerk's next call
PEAK_GAIN = 1.37       # the thinning hump keeps 73 % of its candidates: its peak is 1.37 × the mean
PAUSE_REASONS_SHORT = ("临时离开", "业务咨询")


@dataclass(order=True)
class Event:
    at_ms: int
    n: int
    action: Callable[[], None] = field(compare=False)


class Schedule:
    """The event queue and the day's plan (a mixin of `Traffic`, which sets these attributes)."""

    config: HallConfig
    clock: Clock
    tz: ZoneInfo
    rng: random.Random
    arrivals_per_window_day: float | None
    load: float
    clients: dict[str, HallClient]
    desks: dict[int, Desk]
    rostered_weeks: set[str]
    counts: dict[str, int]
    log_file: IO[str] | None
    _events: list[Event]
    _n: int
    _stop: threading.Event

    def at(self, when_ms: int, action: Callable[[], None]) -> None:
        self._n += 1
        heapq.heappush(self._events, Event(when_ms, self._n, action))

    def after(self, delay_ms: float, action: Callable[[], None]) -> None:
        self.at(self.clock() + int(delay_ms), action)

    def run(self, until_ms: int | None = None, resume_log: Path | None = None) -> None:
        for c in self.clients.values():
            c.start()
        if resume_log is not None:
            self._resume_after_restart(resume_log)
        self._plan_day(self.clock(), resuming=resume_log is not None)
        if resume_log is not None:
            self._wake_idle_desks()
        while not self._stop.is_set() and self._events:
            ev = self._events[0]
            if until_ms is not None and ev.at_ms > until_ms:
                break
            wait_ms = (ev.at_ms - self.clock()) / self.clock.speed
            if wait_ms > 0:
                self._stop.wait(min(wait_ms / 1000, 0.5))
                continue
            heapq.heappop(self._events)
            try:
                ev.action()
            except NotDelivered as exc:
                self.counts["undelivered"] += 1
                log.warning("not delivered in time (still queued): %s", exc)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for c in self.clients.values():
            c.stop()
        if self.log_file:
            self.log_file.close()

    def _local(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, self.tz)

    def _ms(self, dt: datetime) -> int:
        return int(dt.timestamp() * 1000)

    def _plan_day(self, now_ms: int, resuming: bool = False) -> None:
        """Schedule one hall day: today's if it has not ended, else tomorrow's; then the next.
        `resuming` (a restart mid-day): what is past is not done again."""
        sessions = self.config.hall.sessions
        day = self._local(now_ms).date()
        end = datetime.combine(day, sessions[-1].end, self.tz)
        if self._ms(end) < now_ms:
            day = day + timedelta(days=1)
        roster = week_roster(self.config, {n: d.staff_no for n, d in self.desks.items()}, day)
        if roster["monday"] not in self.rostered_weeks:                  # the week's 排班, as a manager enters it
            self.rostered_weeks.add(roster["monday"])
            self._call(MANAGER_NODE, Msg.ROSTER_SET_WEEK, roster)
        opens = [datetime.combine(day, s.start, self.tz) for s in sessions]
        closes = [datetime.combine(day, s.end, self.tz) for s in sessions]
        rng = self.rng

        def at(when_ms: int, action: Callable[[], None]) -> None:
            if not (resuming and when_ms < now_ms):
                self.at(when_ms, action)

        for desk in self.desks.values():
            sign_in = opens[0] - timedelta(minutes=rng.uniform(2, 15))
            if rng.random() < 0.15:
                sign_in = opens[0] + timedelta(minutes=rng.uniform(1, 20))      # 迟到
            self.at(max(now_ms, self._ms(sign_in)), lambda d=desk: self._sign_in(d))
            for start, end_ in zip(closes[:-1], opens[1:]):                       # lunch
                at(self._ms(start), lambda d=desk: self._pause(d, "午休"))
                at(self._ms(end_ + timedelta(minutes=rng.uniform(-5, 8))), lambda d=desk: self._resume(d))
            for _ in range(rng.choice((0, 1, 1, 2))):                           # a short absence
                s = rng.randrange(len(sessions))
                t = opens[s] + (closes[s] - opens[s]) * rng.uniform(0.1, 0.8)
                minutes = 40 if rng.random() < 0.08 else rng.uniform(3, 12)       # sometimes 离岗
                at(self._ms(t), lambda d=desk: self._pause(d, rng.choice(PAUSE_REASONS_SHORT)))
                at(self._ms(t + timedelta(minutes=minutes)), lambda d=desk: self._resume(d))
            sign_out = closes[-1] + timedelta(minutes=rng.uniform(0, 8))
            if rng.random() < 0.1:
                sign_out = closes[-1] - timedelta(minutes=rng.uniform(5, 20))     # 早退
            self.at(self._ms(sign_out), lambda d=desk: self._sign_out(d))
        for open_, close in zip(opens, closes):
            self._plan_arrivals(max(now_ms, self._ms(open_) - 10 * MIN_MS), self._ms(close) - 15 * MIN_MS)
        self.at(self._ms(closes[-1]) + 30 * MIN_MS, lambda: self._plan_day(self.clock()))
        log.info("planned %s: %d staffed windows", day, len(self.desks))

    def capacity_per_min(self) -> dict[str, float]:
        """Citizens per minute the staffed windows can serve, by category (a window serving several
        categories shares its time among them)."""
        cap: dict[str, float] = {}
        for desk in self.desks.values():
            cats = desk.window.categories
            promised = [s.promised_min for s in self.config.services if s.category in cats]
            mean_min = (sum(promised) / len(promised) if promised else 10.0) * HANDLE_FACTOR + OVERHEAD_MIN
            for c in cats:
                cap[c] = cap.get(c, 0.0) + 1.0 / mean_min / len(cats)
        return cap

    def _arrivals_per_min(self) -> float:
        """The mean arrival rate over the open hours: the hall's capacity × `load` (a hall that keeps
        up, with a queue at the morning and afternoon peaks), or `arrivals_per_window_day` if given."""
        if self.arrivals_per_window_day is not None:
            day_min = sum((datetime.combine(datetime.min, s.end) - datetime.combine(datetime.min, s.start)).seconds
                          / 60 for s in self.config.hall.sessions)
            return self.arrivals_per_window_day * len(self.config.windows) / day_min
        return self.load * sum(self.capacity_per_min().values())

    def _plan_arrivals(self, start_ms: int, end_ms: int) -> None:
        """Poisson arrivals whose rate peaks early in each session (about 1.2 × capacity at the
        peak with the default load, below it the rest of the session)."""
        if end_ms <= start_ms:
            return
        candidates_per_min = self._arrivals_per_min() * PEAK_GAIN
        if candidates_per_min <= 0:
            return
        t = start_ms
        span = end_ms - start_ms
        while True:
            t += int(self.rng.expovariate(candidates_per_min) * MIN_MS)
            if t >= end_ms:
                break
            x = (t - start_ms) / span                          # thinning: a hump early in the session
            if self.rng.random() < 0.35 + 0.65 * max(0.0, 1 - abs(x - 0.3) / 0.7):
                self.at(t, self._arrive)
