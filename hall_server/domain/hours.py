"""Local time of the hall: days, hours and opening sessions (R10). Store in UTC, reason in local."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from config.schema import HallConfig, Session


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


def session_at(ms: int, config: HallConfig) -> tuple[int, int, int] | None:
    """(session index, start_ms, end_ms) of the opening session containing `ms`, or None."""
    dt = local(ms, config)
    for i, s in enumerate(config.hall.sessions):
        start = local_ms(dt.date(), s.start, config)
        end = local_ms(dt.date(), s.end, config)
        if start <= ms < end:
            return i, start, end
    return None


def session_bounds(d: date, config: HallConfig) -> list[tuple[int, int, int]]:
    return [(i, local_ms(d, s.start, config), local_ms(d, s.end, config)) for i, s in enumerate(config.hall.sessions)]


def session_minutes(config: HallConfig) -> int:
    return sum(
        (datetime.combine(date.today(), s.end) - datetime.combine(date.today(), s.start)) // timedelta(minutes=1)
        for s in config.hall.sessions
    )
