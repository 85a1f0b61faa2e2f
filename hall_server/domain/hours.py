"""Local time of the hall: days, hours and opening sessions (R10). Store in UTC, reason in local.

The sessions by the clock only (`weekday_sessions`: hall.toml `[hours]` for the weekday, else
`[[hall.sessions]]`); whether a day is open at all is the calendar's (`workdays.open_slots`).
A session's number is its half of the day (0 上午, 1 下午: `config.schema.half_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from config.schema import HallConfig, Session, half_of


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(config: HallConfig | None) -> ZoneInfo:
    return _zone(config.hall.timezone if config is not None else "Asia/Shanghai")


def local(ms: int, config: HallConfig | None) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).astimezone(zone(config))


def day_of(ms: int, config: HallConfig | None) -> str:
    return local(ms, config).date().isoformat()


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def local_ms(d: date, t: time, config: HallConfig | None) -> int:
    """UTC epoch ms of a local date and time in the hall's zone."""
    return to_ms(datetime.combine(d, t, tzinfo=zone(config)))


def sessions(config: HallConfig) -> tuple[Session, ...]:
    return config.hall.sessions


@dataclass(frozen=True)
class Slot:
    """One session of one day: its half (0 上午, 1 下午) and its bounds in UTC ms."""

    half: int
    start_ms: int
    end_ms: int


def weekday_sessions(d: date, config: HallConfig) -> tuple[Session, ...]:
    """The sessions of `d` by its weekday (`[hours]`, else `hall.sessions`), open day or not."""
    return config.hall.hours.for_weekday(d.weekday(), config.hall.sessions)


def slots(d: date, sessions: tuple[Session, ...], config: HallConfig) -> tuple[Slot, ...]:
    return tuple(Slot(half_of(sessions, i), local_ms(d, s.start, config), local_ms(d, s.end, config))
                 for i, s in enumerate(sessions))


def session_at(ms: int, config: HallConfig) -> tuple[int, int, int] | None:
    """(half, start_ms, end_ms) of the weekday's session containing `ms`, or None (by the clock only)."""
    d = local(ms, config).date()
    for slot in slots(d, weekday_sessions(d, config), config):
        if slot.start_ms <= ms < slot.end_ms:
            return slot.half, slot.start_ms, slot.end_ms
    return None


def session_bounds(d: date, config: HallConfig) -> list[tuple[int, int, int]]:
    """(half, start_ms, end_ms) of each of the weekday's sessions (by the clock only)."""
    return [(s.half, s.start_ms, s.end_ms) for s in slots(d, weekday_sessions(d, config), config)]


def session_minutes(config: HallConfig) -> int:
    return sum(
        (datetime.combine(date.today(), s.end) - datetime.combine(date.today(), s.start)) // timedelta(minutes=1)
        for s in config.hall.sessions
    )
