"""hall.toml: [hall] with its [[hall.sessions]], and the optional sections [thresholds], [rating],
[assessment], [export], [network], [calendar], [bus] and [printing] (every key has a default in
config.schema)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import zoneinfo
from dataclasses import fields
from datetime import date, datetime, time
from typing import TypeVar

from config.read_hours import MAX_SESSIONS, read_hours
from config.read_supervision import read_notify, read_patrol
from config.reader import CODE, CODE_RULE, Table, quote, show
from config.schema import (
    BusLimits,
    Assessment, CityLink, ExportPolicy, Hall, HallCalendar, IPNetwork, Network, PrintingPolicy, RatingPolicy,
    ScreenSettings, Session,
    Thresholds,
)

T = TypeVar("T")

_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_REGION_CODE = re.compile(r"[0-9]{6}")
_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/[!-~]*)?")

# Allowed ranges of the optional sections, whose types and defaults come from config.schema.
_RANGES: dict[str, tuple[float, float | None]] = {
    # [thresholds]
    "wait_alert_min": (1, 480), "pause_limit_min": (1, 480), "recall_cap": (1, 20),
    "default_handle_min": (1, 240),
    "late_grace_min": (0, 120), "bad_alert_window_min": (5, 1440), "bad_alert_percent": (1, 100),
    "bad_alert_min_count": (1, 1000),
    # [rating]: open_s matches the keypad's START_RATING timeout range
    "open_s": (5, 180), "qr_valid_days": (1, 365), "default_level": (1, 5),
    # [assessment]
    "base_score": (0, 1000), "deduct_per_bad": (0, 100), "deduct_per_overdue": (0, 100),
    "deduct_half_day_away": (0, 100), "deduct_per_late": (0, 100), "bonus_per_praise": (0, 100),
    "bonus_praise_threshold": (0, 100000), "top_windows": (0, 100), "top_staff": (0, 100),
    "bottom": (0, 100),
    # [bus]
    "node_messages_per_s": (1, 10000), "node_burst": (1, 1000000), "gateway_messages_per_s": (1, 100000),
    "gateway_burst": (1, 1000000), "snapshot_interval_ms": (0, 60000),
    # [printing]
    "stuck_after_s": (5, 3600),
}


def _defaults(table: Table, cls: type[T]) -> T:
    """A section whose keys all have defaults in config.schema; ranges from _RANGES."""
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if isinstance(f.default, bool):
            value = table.flag(f.name, f.default)
        elif isinstance(f.default, float):
            value = table.number(f.name, *_RANGES[f.name], default=f.default)
        else:
            value = table.integer(f.name, *_RANGES[f.name], default=f.default)  # type: ignore[arg-type]
        values[f.name] = value
    return cls(**values)


def read_hall(root: Table) -> Hall | None:
    table = root.table("hall", required=True)
    thresholds = _defaults(root.section("thresholds"), Thresholds)
    rating = _defaults(root.section("rating"), RatingPolicy)
    assessment = _defaults(root.section("assessment"), Assessment)
    export = _read_export(root.section("export"))
    city = _read_city(root.section("city"))
    network = _read_network(root.section("network"))
    bus = _defaults(root.section("bus"), BusLimits)
    printing = _defaults(root.section("printing"), PrintingPolicy)
    calendar = _read_calendar(root.section("calendar"))
    hours = read_hours(root.section("hours"))
    screen = _read_screen(root.section("screen"))
    patrol, notify = read_patrol(root.section("patrol")), read_notify(root.section("notify"))   # issue 15
    if table is None:
        return None
    name = table.text("name")
    region_code = table.text("region_code", pattern=_REGION_CODE, rule="must be 6 digits")
    department_code = table.text("department_code", pattern=CODE, rule=CODE_RULE)
    timezone = table.text("timezone", "Asia/Shanghai")
    if timezone is not None and not _is_zone(timezone):
        table.bad("timezone", f"unknown time zone {quote(timezone)}")
    public_url = table.text("public_url", "", pattern=_PUBLIC_URL,
                            rule='must be "" or an address such as "http://192.168.1.10:8080"')
    return Hall(name=name, region_code=region_code, department_code=department_code,
                timezone=timezone, sessions=_read_sessions(table), thresholds=thresholds,
                rating=rating, assessment=assessment,
                screen_dpi=table.integer("screen_dpi", 72, 640, default=160),
                public_url=(public_url or "").rstrip("/"), export=export, city=city, network=network,
                calendar=calendar, bus=bus, hours=hours, screen=screen, patrol=patrol, notify=notify,
                printing=printing)


NOTICE_MAX_CHARS = 200


def _read_screen(table: Table) -> ScreenSettings:
    """[screen] notice: one line of plain text for the hall screen, at most NOTICE_MAX_CHARS."""
    notice = table.text("notice", "") or ""
    bad = next((ch for ch in notice if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        table.bad("notice", f"must be one line of plain text, got a control character U+{ord(bad):04X}")
        notice = ""
    elif len(notice) > NOTICE_MAX_CHARS:
        table.bad("notice", f"must be at most {NOTICE_MAX_CHARS} characters, got {len(notice)}")
        notice = ""
    return ScreenSettings(notice=notice.strip())


def _read_network(table: Table) -> Network:
    return Network(trusted_proxies=_networks(table, "trusted_proxies"),
                   staff_networks=_networks(table, "staff_networks"),
                   shared_networks=_networks(table, "shared_networks"))


def _networks(table: Table, name: str) -> tuple[IPNetwork, ...]:
    """An optional array of CIDR blocks such as "10.0.0.0/8" or "fd00::/8" (a bare address is /32)."""
    value = table.value(name, list, [])
    out: list[IPNetwork] = []
    for i, item in enumerate(value or ()):
        if not isinstance(item, str):
            table.bad(f"{name}[{i}]", f"expected string, got {show(item)}")
            continue
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            table.bad(f"{name}[{i}]", f'must be an address block such as "10.0.0.0/8", got {quote(item)}')
    return tuple(out)


CALENDAR_YEARS = (2000, 2100)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _read_calendar(table: Table) -> HallCalendar:
    """[calendar] holidays and workdays: real dates ("2027-01-01" or an unquoted TOML date), none
    repeated, none in both lists; a makeup working day must fall on a Saturday or Sunday."""
    holidays = _dates(table, "holidays")
    workdays = _dates(table, "workdays")
    for d, i in workdays.items():
        if d in holidays:
            table.bad(f"workdays[{i}]", f"{d} is also in holidays[{holidays[d]}]; a day is either off or on")
        elif d.weekday() < 5:
            table.bad(f"workdays[{i}]", f"{d} is a {d:%A}; list only Saturdays and Sundays worked as "
                                        "makeup working days (调休上班)")
    return HallCalendar(holidays=tuple(sorted(holidays)), workdays=tuple(sorted(workdays)))


def _dates(table: Table, name: str) -> dict[date, int]:
    """An optional array of dates; returns each good date with its index."""
    out: dict[date, int] = {}
    for i, item in enumerate(table.value(name, list, []) or ()):
        key = f"{name}[{i}]"
        if isinstance(item, str) and _ISO_DATE.fullmatch(item.strip()):
            try:
                item = date.fromisoformat(item.strip())
            except ValueError:
                table.bad(key, f"no such date {quote(item)}")
                continue
        if isinstance(item, datetime) or not isinstance(item, date):
            table.bad(key, f'expected a date such as "2027-01-01", got {show(item)}')
        elif not CALENDAR_YEARS[0] <= item.year <= CALENDAR_YEARS[1]:
            table.bad(key, f"year must be between {CALENDAR_YEARS[0]} and {CALENDAR_YEARS[1]}, got {item}")
        elif item in out:
            table.bad(key, f"{item} is listed twice (also {name}[{out[item]}])")
        else:
            out[item] = i
    return out


def _read_export(table: Table) -> ExportPolicy:
    sink = table.text("sink", "")
    if sink and not (sink.startswith(("http://", "https://")) and len(sink) > 8
                     or sink.startswith("folder:") and sink.removeprefix("folder:").strip()):
        table.bad("sink", f'must be "", "folder:PATH" or an http(s):// address, got {quote(sink)}')
        sink = None
    every_s = table.integer("every_s", 1, 86400, default=60)
    return ExportPolicy(sink=sink or "", every_s=every_s if every_s is not None else 60)


def _read_city(table: Table) -> CityLink | None:
    url = table.text("url", "")
    if url and not (url.startswith(("http://", "https://")) and len(url) > 8):
        table.bad("url", f'must be "" or an http(s):// address, got {quote(url)}')
        url = None
    hall = table.text("hall", "", pattern=CODE, rule=CODE_RULE)
    every_s = table.integer("every_s", 1, 3600, default=5)
    if url and not hall:
        table.bad("hall", "is needed with url: the code the city registered this hall under")
    if not url:
        return None
    return CityLink(url=url.rstrip("/"), hall=hall or "", every_s=every_s if every_s is not None else 5)


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # e.g. "Asia" is a folder
        return False
    return True


def _read_sessions(hall: Table) -> tuple[Session, ...]:
    out = []
    previous_end: time | None = None
    for i, table in enumerate(hall.tables("sessions")):
        if i == MAX_SESSIONS:
            hall.bad("sessions", f"at most {MAX_SESSIONS} sessions a day (上午 and 下午; the gap between "
                                 "them is the lunch break)")
        start, end = _clock(table, "start"), _clock(table, "end")
        if start is not None and end is not None and not start < end:
            table.bad("end", f"must be after start {start:%H:%M}, got {end:%H:%M}")
        elif start is not None and previous_end is not None and start < previous_end:
            table.bad("start", f"must not be before the previous session's end {previous_end:%H:%M}, "
                               f"got {start:%H:%M}")
        if end is not None:
            previous_end = end
        out.append(Session(start, end))
    return tuple(out)


def _clock(table: Table, name: str) -> time | None:
    value = table.text(name, pattern=_HHMM, rule='must be a time "HH:MM" from 00:00 to 23:59')
    return None if value is None else time(int(value[:2]), int(value[3:]))
