"""The live floor as ONE typed snapshot, made by one coordinator and read by every floor reader.

Home Assistant's DataUpdateCoordinator is the model: `FloorCoordinator.current()` returns the
`FloorSnapshot` of the state's current sequence number, computing it at most once per sequence
number (memoised; every reader of the same sequence number gets the same object) and again when it
is older than `MAX_AGE_S` (waits age, nodes go silent). The readers: `/api/floor`
(`hall_server.web.public_state.api_floor`), `/floor`, `/floor/data` and `/floor/events`
(`hall_server.web.pages.floor_page`). Nothing else assembles the floor.

Lazy rather than eager (computed on the writer's thread after each commit): the writer pays nothing
when nobody watches, and a burst of commits between two looks costs one computation, not one each.
The coordinator is told of each commit (`changed`, a hub delta sink) and passes the word on to its
listeners (the event stream), which then ask for the new snapshot.

Source: the published state keys (`window/<n>`, `queue/<c>`, `floor`, `mgr/floor`: their values
are written by `hall_server.domain.floor` in the writer's transaction) of ONE state snapshot, the
snapshot's sequence number with them; today's per-window counts (`rollup`) and the alerts
(`hall_server.domain.alerts`) from the store; device presence from the bus.

Public and private: `public` (windows, queues, the `floor` summary) is what anyone may see, through
the allowlist of `hall_server.web.public_state`; `manager` (today's rating and case counts, the
per-window figures, devices, alerts) is for logged-in managers only (R6).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.alerts import Aged, Alert, floor_alerts, minutes_since
from hall_server.domain.common import rows
from hall_server.domain.floor import (
    window_name,
    MGR_FLOOR, ManagerSummary, PublicSummary, QueueValue, StaffCard, floor_summary, manager_summary,
)
from hall_server.domain.hours import day_of

MAX_AGE_S = 1.0               # a snapshot of an unchanged state is made again after this long (waits age)
DEVICE_KINDS = ("terminal", "kiosk")


@dataclass(frozen=True)
class Device:
    node: str
    alive: bool
    silent_s: float | None


@dataclass(frozen=True)
class WindowFloor:
    """One window as `window/<n>` publishes it, with today's figures and its devices (managers')."""

    window: int
    name: str
    state: str                 # closed / idle / calling / serving / paused
    staff: StaffCard | None
    ticket: str | None
    job: str | None            # the 办件's public id: managers only
    since_ms: int
    pause_reason: str | None
    rating_open: bool
    rating_expires_ms: int | None
    served_today: int
    rated_today: int
    good_today: int
    devices: tuple[Device, ...]


@dataclass(frozen=True)
class FloorSnapshot:
    seq: int                   # the state's sequence number the keys were read at
    at_ms: int                 # the hall's time of the computation (waits and alerts are as of then)
    windows: tuple[WindowFloor, ...]
    queues: tuple[QueueValue, ...]
    summary: PublicSummary       # `floor` (hall_server.domain.floor)
    manager: ManagerSummary      # `mgr/floor`
    alerts: tuple[Alert, ...]


class FloorSource(Protocol):
    """What the coordinator reads (the web's `Backend` is one)."""

    config: HallConfig | None

    def snapshot(self, prefix: str = "") -> tuple[int, dict[str, Any]]: ...

    def reader(self) -> sqlite_utils.Database: ...

    def presence(self) -> dict[str, dict[str, Any]]: ...


def _staff(value: Any) -> StaffCard | None:
    if not isinstance(value, Mapping) or not value.get("staff_no"):
        return None
    return StaffCard(str(value["staff_no"]), value.get("name") or "", value.get("department") or "",
                     int(value.get("stars") or 0), value.get("promise") or "", value.get("photo") or "")


def _devices(presence: Mapping[str, Mapping[str, Any]], window: int) -> tuple[Device, ...]:
    out = []
    for kind in DEVICE_KINDS:
        p = presence.get(f"{kind}-{window}")
        if p is not None:
            out.append(Device(f"{kind}-{window}", bool(p.get("alive")), p.get("silent_s")))
    return tuple(out)


def _windows(state: Mapping[str, Any], config: HallConfig | None, figures: Mapping[int, Mapping[str, Any]],
             presence: Mapping[str, Mapping[str, Any]]) -> tuple[WindowFloor, ...]:
    numbers = [w.number for w in config.windows] if config is not None else sorted(
        int(k.split("/")[1]) for k in state if k.startswith("window/") and k.split("/")[1].isdigit())
    out = []
    for n in numbers:
        w = state.get(f"window/{n}") or {}
        fig = figures.get(n) or {}
        out.append(WindowFloor(
            window=n, name=w.get("name") or window_name(config, n), state=w.get("state") or "closed",
            staff=_staff(w.get("staff")), ticket=w.get("ticket"), job=w.get("job"), since_ms=w.get("since_ms") or 0,
            pause_reason=w.get("pause_reason"), rating_open=w.get("rating") == "open",
            rating_expires_ms=w.get("rating_expires_ms") if w.get("rating") == "open" else None,
            served_today=fig.get("finished") or 0, rated_today=fig.get("rated") or 0, good_today=fig.get("good") or 0,
            devices=_devices(presence, n)))
    return tuple(out)


def _queues(state: Mapping[str, Any], config: HallConfig | None) -> tuple[QueueValue, ...]:
    out = []
    for c in (config.categories if config is not None else ()):
        q = state.get(f"queue/{c.code}") or {}
        out.append(QueueValue(c.code, q.get("name") or c.name, q.get("waiting") or 0, q.get("priority_waiting") or 0,
                              q.get("oldest_queued_ms"), q.get("last_called")))
    return tuple(out)


def _typed(cls: Any, value: Any, fallback: Callable[[], Any]) -> Any:
    """The summary key's value as `cls` (the type its writer publishes); computed from the store
    when the key was never published."""
    if not isinstance(value, Mapping) or any(f not in value for f in cls.__dataclass_fields__):
        return fallback()
    return cls(**{f: value[f] for f in cls.__dataclass_fields__})


def build_snapshot(seq: int, state: Mapping[str, Any], db: sqlite_utils.Database, config: HallConfig | None,
                   now_ms: int, presence: Mapping[str, Mapping[str, Any]]) -> FloorSnapshot:
    """The floor of one state snapshot (`seq`, `state`): the only place the floor is assembled."""
    day = day_of(now_ms, config)
    figures = {r["window"]: r for r in rows(
        db, "SELECT window, SUM(finished) AS finished, SUM(rated) AS rated, SUM(l3 + l4 + l5) AS good "
            "FROM rollup WHERE day = ? GROUP BY window", [day])}
    windows = _windows(state, config, figures, presence)
    queues = _queues(state, config)
    summary = _typed(PublicSummary, state.get("floor"), lambda: floor_summary(db, config, now_ms))
    manager = _typed(ManagerSummary, state.get(MGR_FLOOR), lambda: manager_summary(db, config, now_ms))
    alerts = floor_alerts(
        db, config, now_ms,
        [Aged(str(w.window), w.name, minutes_since(now_ms, w.since_ms), w.state == "paused") for w in windows],
        [Aged(q.category, q.name, minutes_since(now_ms, q.oldest_queued_ms), q.waiting > 0) for q in queues],
        presence)
    return FloorSnapshot(seq, now_ms, windows, queues, summary, manager, alerts)


Listener = Callable[[], None]


class FloorCoordinator:
    """Makes the floor snapshot at most once per state sequence number (and per `max_age_s`)."""

    def __init__(self, source: FloorSource, clock_ms: Callable[[], int], max_age_s: float = MAX_AGE_S,
                 monotonic: Callable[[], float] = time.monotonic, seq: Callable[[], int] | None = None) -> None:
        self.source = source
        self.seq = seq or (lambda: source.snapshot("floor")[0])    # the state's sequence number, cheaply
        self.clock_ms = clock_ms
        self.max_age_s = max_age_s
        self.monotonic = monotonic
        self.computed = 0                      # how many snapshots were made (tests, bench)
        self._lock = threading.Lock()           # one computation at a time
        self._listeners_lock = threading.Lock()
        self._snap: FloorSnapshot | None = None
        self._made_s = 0.0
        self._listeners: list[Listener] = []

    def _fresh(self, seq: int) -> FloorSnapshot | None:
        snap = self._snap
        if snap is not None and snap.seq == seq and self.monotonic() - self._made_s < self.max_age_s:
            return snap
        return None

    def peek(self) -> FloorSnapshot | None:
        """The memoised snapshot if it is still the current one, else None (never computes)."""
        return self._fresh(self.seq())

    def current(self) -> FloorSnapshot:
        """The snapshot of the current state: the memoised one while the state has not changed."""
        seq = self.seq()
        snap = self._fresh(seq)
        if snap is not None:
            return snap
        with self._lock:                       # one computation; the other readers wait and share it
            snap = self._fresh(seq)
            if snap is not None:
                return snap
            seq, state = self.source.snapshot()
            snap = build_snapshot(seq, state, self.source.reader(), self.source.config, self.clock_ms(),
                                  self.source.presence())
            self._snap, self._made_s = snap, self.monotonic()
            self.computed += 1
            return snap

    def listen(self, listener: Listener) -> None:
        """`listener()` is called (on the writer's thread: it must only hand the word on) after each
        commit that changed the state."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def changed(self, deltas: list[tuple[int, str, Any]]) -> None:
        """The hub's delta sink: the state changed (a new snapshot will be made when asked)."""
        for listener in list(self._listeners):
            listener()


_COORDINATORS: "weakref.WeakKeyDictionary[Any, FloorCoordinator]" = weakref.WeakKeyDictionary()
_COORDINATORS_LOCK = threading.Lock()


def coordinator_for(source: FloorSource, clock_ms: Callable[[], int],
                    delta_sinks: list[Callable[[list[tuple[int, str, Any]]], None]] | None = None,
                    seq: Callable[[], int] | None = None) -> FloorCoordinator:
    """THE coordinator of `source` (one per backend, however many apps and sites read it): made on
    first use with `clock_ms` and `seq` (the state's sequence number), and added to `delta_sinks`
    (the hub's: called after each commit)."""
    with _COORDINATORS_LOCK:
        coordinator = _COORDINATORS.get(source)
        if coordinator is None:
            coordinator = FloorCoordinator(source, clock_ms, seq=seq)
            _COORDINATORS[source] = coordinator
            if delta_sinks is not None:
                delta_sinks.append(coordinator.changed)
        return coordinator
