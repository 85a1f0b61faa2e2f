"""Load a hall configuration folder into a `HallConfig`, reporting every problem at once.

A hall folder holds five UTF-8 TOML files (every key is listed in `config/REFERENCE.md`):

  hall.toml      [hall] name, region_code, department_code, timezone, screen_dpi, public_url
                 [[hall.sessions]] start, end ("HH:MM", in order, not overlapping)
                 [thresholds], [rating], [assessment], [export], [network], [bus]: optional, every key has a default
  windows.toml   [[windows]] number, name, categories, kiosk,
                 keypad = {port, address, baud} (optional), printer = {port, baud} (optional)
  services.toml  [[categories]] code, name
                 [[services]] code, name, category, promised_min, department
  staff.toml     [[staff]] staff_no, name, department, photo, pin_hash, stars, promise
  tags.toml      version; [[tags]] code, text, levels, added_in, removed_in

`load_hall` never stops at the first problem: it checks every file and raises one `ConfigError`
listing all of them as "file: key.path: message" (array indexes count from 0). Unknown keys are
problems too, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import fields
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

from config.errors import ConfigError, Problem
from config.pins import BadPinHash, parse_pin_hash
from config.schema import (
    HALL_FILES, Assessment, BusLimits, Category, ExportPolicy, Hall, HallConfig, IPNetwork, Keypad, Network, Printer, RatingPolicy, Service,
    Session, Staff, Tag, TagList, Thresholds, Window,
)

T = TypeVar("T")

KEYPAD_BAUDS = (9600, 19200, 38400)
PRINTER_BAUDS = (9600, 19200, 38400, 57600, 115200)
KEYPAD_TEXT_BYTES = 237   # SHOW_STAFF: name + department in GB18030 must fit one EKP-2 frame (L <= 250)

_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_REGION_CODE = re.compile(r"[0-9]{6}")
_CODE = re.compile(r"[!-~]{1,64}")
_STAFF_NO = re.compile(r"[!-~]{1,8}")
_CATEGORY_CODE = re.compile(r"[A-Z]{1,2}")
_TAG_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
RESERVED_TAGS = ("KEYPAD",)   # set by the server for a keypad 差评 (no tags on a keypad); see ratings.py
_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/[!-~]*)?")
_CODE_RULE = "must be 1 to 64 printable ASCII characters without spaces"

# Allowed ranges of the optional sections, whose types and defaults come from config.schema.
_RANGES: dict[str, tuple[float, float | None]] = {
    # [thresholds]
    "wait_alert_min": (1, 480), "pause_limit_min": (1, 480), "recall_cap": (1, 20),
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
}

_REQUIRED: Any = object()
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "table"}


def load_hall(folder: Path | str) -> HallConfig:
    """Read and validate the hall folder; raise ConfigError listing every problem found."""
    return _load(Path(folder), set())


def build_hall(folder: Path | str, docs: Mapping[str, Mapping[str, Any] | None]) -> HallConfig:
    """Validate already parsed TOML documents (file name -> data), e.g. built in a test.

    A file name missing from `docs` is reported as a missing file; a None value is skipped
    silently (its problem was reported elsewhere). Photos are looked up under `folder`.
    """
    return _build(Path(folder).resolve(), docs, [], set())


def key_paths(folder: Path | str) -> set[tuple[str, str]]:
    """Every (file, key path) the loader asks for while loading `folder`, arrays written as
    `windows[].keypad.port`. With a complete folder this is the full list of keys to document."""
    seen: set[tuple[str, str]] = set()
    try:
        _load(Path(folder), seen)
    except ConfigError:
        pass
    return seen


def _load(folder: Path, seen: set[tuple[str, str]]) -> HallConfig:
    if not folder.is_dir():
        raise ConfigError([Problem(str(folder), "", "no such folder")])
    folder = folder.resolve()
    problems: list[Problem] = []
    docs = {name: _read_toml(folder / name, problems) for name in HALL_FILES}
    return _build(folder, docs, problems, seen)


def _read_toml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    def problem(message: str) -> None:
        problems.append(Problem(path.name, "", message))

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return problem("missing file")
    except OSError as exc:
        return problem(f"cannot read: {exc.strerror}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return problem(f"not UTF-8 text (line {line}); save the file as UTF-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return problem(f"invalid TOML: {exc}")


# -- typed reading with problem collection ------------------------------------------------------

def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _show(value: Any) -> str:
    """How a TOML value is named in messages: its TOML type and, if short, the value."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {_quote(value)}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return f"date/time {value}"


def _is(value: Any, kind: type) -> bool:
    if isinstance(value, bool):           # TOML true is not the integer 1
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


class _File:
    """One file being checked: where its problems go and which keys were asked for."""

    def __init__(self, name: str, problems: list[Problem], seen: set[tuple[str, str]]) -> None:
        self.name, self.problems, self.seen = name, problems, seen
        self.tables: list[_Table] = []
        self.count = 0

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.name, key, message))
        self.count += 1

    def finish(self) -> None:
        for table in self.tables:
            table.report_unknown()


class _Table:
    """One TOML table at a key path. Getters return the value, the default when the key is
    absent, or None after reporting a problem."""

    def __init__(self, file: _File, data: Mapping[str, Any], path: str, doc: str) -> None:
        self.file, self.data, self.path, self.doc = file, data, path, doc
        self.asked: list[str] = []
        file.tables.append(self)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def bad(self, name: str, message: str) -> None:
        self.file.problem(self.key(name), message)

    def value(self, name: str, kind: type, default: Any = _REQUIRED) -> Any:
        self.asked.append(name)
        self.file.seen.add((self.file.name, f"{self.doc}.{name}" if self.doc else name))
        if name not in self.data:
            if default is _REQUIRED:
                self.bad(name, "missing required key")
                return None
            return default
        value = self.data[name]
        if _is(value, kind):
            return float(value) if kind is float else value
        hint = " (put it in quotes)" if kind is str and _is(value, float) else ""
        self.bad(name, f"expected {_TYPE_NAMES[kind]}, got {_show(value)}{hint}")
        return None

    def text(self, name: str, default: Any = _REQUIRED, pattern: re.Pattern[str] | None = None,
             rule: str = "") -> str | None:
        """A string; when required it must not be blank; with a pattern it must match it."""
        value = self.value(name, str, default)
        if value is None or name not in self.data:
            return value
        if default is _REQUIRED and not value.strip():
            self.bad(name, "must not be empty")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.bad(name, f"{rule}, got {_quote(value)}")
            return None
        return value

    def integer(self, name: str, low: int, high: int | None = None, default: Any = _REQUIRED) -> int | None:
        return self._in_range(name, self.value(name, int, default), low, high)

    def number(self, name: str, low: float, high: float | None = None, default: Any = _REQUIRED) -> float | None:
        return self._in_range(name, self.value(name, float, default), low, high)

    def _in_range(self, name: str, value: Any, low: float, high: float | None) -> Any:
        if value is None or name not in self.data:
            return value
        if high is None and not value >= low:
            self.bad(name, f"must be at least {low}, got {value}")
        elif high is not None and not low <= value <= high:
            self.bad(name, f"must be between {low} and {high}, got {value}")
        else:
            return value
        return None

    def choice(self, name: str, choices: tuple[int, ...], default: Any = _REQUIRED) -> int | None:
        value = self.value(name, int, default)
        if value is not None and value not in choices:
            self.bad(name, f"must be one of {', '.join(map(str, choices))}, got {value}")
            return None
        return value

    def flag(self, name: str, default: bool) -> bool | None:
        return self.value(name, bool, default)

    def items(self, name: str, kind: type) -> list[Any] | None:
        """A required, non-empty array whose items are all of one type."""
        value = self.value(name, list)
        if value is None:
            return None
        if not value:
            self.bad(name, "must not be empty")
            return None
        wrong = [(i, v) for i, v in enumerate(value) if not _is(v, kind)]
        for i, item in wrong:
            self.bad(f"{name}[{i}]", f"expected {_TYPE_NAMES[kind]}, got {_show(item)}")
        return None if wrong else list(value)

    def table(self, name: str, required: bool = False) -> _Table | None:
        """A sub-table; None when it is absent (and optional) or wrong."""
        value = self.value(name, dict, _REQUIRED if required else None)
        return None if value is None else self._child(value, name, name)

    def section(self, name: str) -> _Table:
        """An optional sub-table whose keys all have defaults: absent means empty."""
        return self._child(self.value(name, dict, {}) or {}, name, name)

    def tables(self, name: str) -> list[_Table]:
        """A required, non-empty array of tables ([[name]] in TOML)."""
        value = self.value(name, list)
        if value is not None and not value:
            self.bad(name, "must not be empty")
        out = []
        for i, item in enumerate(value or ()):
            if isinstance(item, dict):
                out.append(self._child(item, f"{name}[{i}]", f"{name}[]"))
            else:
                self.bad(f"{name}[{i}]", f"expected table, got {_show(item)}")
        return out

    def _child(self, data: Mapping[str, Any], name: str, doc_name: str) -> _Table:
        doc = f"{self.doc}.{doc_name}" if self.doc else doc_name
        return _Table(self.file, data, self.key(name), doc)

    def report_unknown(self) -> None:
        for name in self.data:
            if name not in self.asked:
                close = difflib.get_close_matches(name, self.asked, n=1)
                self.bad(name, "unknown key" + (f'; did you mean "{close[0]}"?' if close else ""))


def _unique(table: _Table, name: str, value: Any, owners: dict[Any, str], what: str) -> None:
    """Report `value` if an earlier table already had it; remember who had it first."""
    if value is None:
        return
    if value in owners:
        shown = _quote(value) if isinstance(value, str) else str(value)
        table.bad(name, f"duplicate {what} {shown} (also {owners[value]})")
    else:
        owners[value] = table.path


def _repeated(values: list[Any]) -> list[Any]:
    return [v for i, v in enumerate(values) if v in values[:i]]


# -- the five files ---------------------------------------------------------------------------

def _build(folder: Path, docs: Mapping[str, Mapping[str, Any] | None],
           problems: list[Problem], seen: set[tuple[str, str]]) -> HallConfig:
    files = {name: _File(name, problems, seen) for name in HALL_FILES}
    roots: dict[str, _Table | None] = {}
    for name, file in files.items():
        if name not in docs:
            file.problem("", "missing file")
        data = docs.get(name)
        roots[name] = None if data is None else _Table(file, data, "", "")

    def read(name: str, reader: Any, *args: Any) -> Any:
        root = roots[name]
        return None if root is None else reader(root, *args)

    hall = read("hall.toml", _read_hall)
    categories, services, category_paths = read("services.toml", _read_services) or ((), (), None)
    known = None if category_paths is None else set(category_paths)
    windows = read("windows.toml", _read_windows, known)
    # Judge which categories are served only from a windows.toml without problems of its own.
    if windows is not None and category_paths is not None and not files["windows.toml"].count:
        served = {code for w in windows for code in w.categories}
        for code, path in category_paths.items():
            if code not in served:
                files["services.toml"].problem(f"{path}.code", f"no window serves category {_quote(code)}")
    staff = read("staff.toml", _read_staff, folder)
    tags = read("tags.toml", _read_tags)

    for file in files.values():
        file.finish()
    if problems:
        order = {name: i for i, name in enumerate(HALL_FILES)}
        raise ConfigError(sorted(problems, key=lambda p: order.get(p.file, -1)))
    return HallConfig(folder=folder, hall=hall, windows=windows, categories=categories,
                      services=services, staff=staff, tags=tags)


def _defaults(table: _Table, cls: type[T]) -> T:
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


def _read_hall(root: _Table) -> Hall | None:
    table = root.table("hall", required=True)
    thresholds = _defaults(root.section("thresholds"), Thresholds)
    rating = _defaults(root.section("rating"), RatingPolicy)
    assessment = _defaults(root.section("assessment"), Assessment)
    export = _read_export(root.section("export"))
    network = _read_network(root.section("network"))
    bus = _defaults(root.section("bus"), BusLimits)
    if table is None:
        return None
    name = table.text("name")
    region_code = table.text("region_code", pattern=_REGION_CODE, rule="must be 6 digits")
    department_code = table.text("department_code", pattern=_CODE, rule=_CODE_RULE)
    timezone = table.text("timezone", "Asia/Shanghai")
    if timezone is not None and not _is_zone(timezone):
        table.bad("timezone", f"unknown time zone {_quote(timezone)}")
    public_url = table.text("public_url", "", pattern=_PUBLIC_URL,
                            rule='must be "" or an address such as "http://192.168.1.10:8080"')
    return Hall(name=name, region_code=region_code, department_code=department_code,
                timezone=timezone, sessions=_read_sessions(table), thresholds=thresholds,
                rating=rating, assessment=assessment,
                screen_dpi=table.integer("screen_dpi", 72, 640, default=160),
                public_url=(public_url or "").rstrip("/"), export=export, network=network, bus=bus)


def _read_network(table: _Table) -> Network:
    return Network(trusted_proxies=_networks(table, "trusted_proxies"),
                   staff_networks=_networks(table, "staff_networks"))


def _networks(table: _Table, name: str) -> tuple[IPNetwork, ...]:
    """An optional array of CIDR blocks such as "10.0.0.0/8" or "fd00::/8" (a bare address is /32)."""
    value = table.value(name, list, [])
    out: list[IPNetwork] = []
    for i, item in enumerate(value or ()):
        if not isinstance(item, str):
            table.bad(f"{name}[{i}]", f"expected string, got {_show(item)}")
            continue
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            table.bad(f"{name}[{i}]", f'must be an address block such as "10.0.0.0/8", got {_quote(item)}')
    return tuple(out)


def _read_export(table: _Table) -> ExportPolicy:
    sink = table.text("sink", "")
    if sink and not (sink.startswith(("http://", "https://")) and len(sink) > 8
                     or sink.startswith("folder:") and sink.removeprefix("folder:").strip()):
        table.bad("sink", f'must be "", "folder:PATH" or an http(s):// address, got {_quote(sink)}')
        sink = None
    every_s = table.integer("every_s", 1, 86400, default=60)
    return ExportPolicy(sink=sink or "", every_s=every_s if every_s is not None else 60)


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # e.g. "Asia" is a folder
        return False
    return True


def _read_sessions(hall: _Table) -> tuple[Session, ...]:
    out = []
    previous_end: time | None = None
    for table in hall.tables("sessions"):
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


def _clock(table: _Table, name: str) -> time | None:
    value = table.text(name, pattern=_HHMM, rule='must be a time "HH:MM" from 00:00 to 23:59')
    return None if value is None else time(int(value[:2]), int(value[3:]))


def _read_services(root: _Table) -> tuple[tuple[Category, ...], tuple[Service, ...], dict[str, str]]:
    categories, codes = [], {}
    for table in root.tables("categories"):
        code = table.text("code", pattern=_CATEGORY_CODE, rule="must be 1 or 2 uppercase letters A-Z")
        _unique(table, "code", code, codes, "category code")
        categories.append(Category(code=code, name=table.text("name")))
    services, service_codes = [], {}
    for table in root.tables("services"):
        code = table.text("code", pattern=_CODE, rule=_CODE_RULE)
        _unique(table, "code", code, service_codes, "service code")
        name = table.text("name")
        category = table.text("category")
        if category is not None and category not in codes:
            table.bad("category", f"unknown category {_quote(category)}")
        services.append(Service(code=code, name=name, category=category,
                                promised_min=table.integer("promised_min", 1, 1440),
                                department=table.text("department", "")))
    return tuple(categories), tuple(services), codes


def _read_windows(root: _Table, known_categories: set[str] | None) -> tuple[Window, ...]:
    windows, numbers = [], {}
    keypads: list[tuple[_Table, Keypad]] = []
    printers: list[tuple[_Table, Printer]] = []
    for table in root.tables("windows"):
        number = table.integer("number", 1, 999)
        _unique(table, "number", number, numbers, "window number")
        name = table.text("name")
        categories = table.items("categories", str) or []
        for code in _repeated(categories):
            table.bad("categories", f"category {_quote(code)} listed twice")
        for code in categories:
            if known_categories is not None and code not in known_categories:
                table.bad("categories", f"unknown category {_quote(code)}")
        keypad = printer = None
        if (sub := table.table("keypad")) is not None:
            keypad = Keypad(port=sub.text("port"), address=sub.integer("address", 1, 32),
                            baud=sub.choice("baud", KEYPAD_BAUDS, default=9600))
            keypads.append((sub, keypad))
        if (sub := table.table("printer")) is not None:
            printer = Printer(port=sub.text("port"), baud=sub.choice("baud", PRINTER_BAUDS, default=9600))
            printers.append((sub, printer))
        windows.append(Window(number=number, name=name, categories=tuple(categories), keypad=keypad,
                              printer=printer, kiosk=table.flag("kiosk", True)))
    _check_ports(keypads, printers)
    return tuple(windows)


def _check_ports(keypads: list[tuple[_Table, Keypad]], printers: list[tuple[_Table, Printer]]) -> None:
    """Keypads may share a port (an RS-485 bus) at one baud rate with distinct addresses;
    a printer needs a port of its own."""
    owners: dict[str, tuple[str, int]] = {}        # port -> (first user's key path, its baud)
    addresses: dict[tuple[str, int], str] = {}
    for table, keypad in keypads:
        if keypad.port is None:
            continue
        where = (keypad.port, keypad.address)
        if keypad.address is not None and where in addresses:
            table.bad("address", f"address {keypad.address} on port {_quote(keypad.port)} "
                                 f"is already used by {addresses[where]}")
        elif keypad.address is not None:
            addresses[where] = table.path
        first = owners.setdefault(keypad.port, (table.path, keypad.baud))
        if keypad.baud is not None and first[1] is not None and keypad.baud != first[1]:
            table.bad("baud", f"{first[0]} uses {first[1]} on the same port, got {keypad.baud}")
    for table, printer in printers:
        if printer.port is None:
            continue
        if printer.port in owners:
            table.bad("port", f"port {_quote(printer.port)} is already used by {owners[printer.port][0]}")
        else:
            owners[printer.port] = (table.path, printer.baud)


def _read_staff(root: _Table, folder: Path) -> tuple[Staff, ...]:
    staff, numbers = [], {}
    for table in root.tables("staff"):
        staff_no = table.text("staff_no", pattern=_STAFF_NO,
                              rule="must be 1 to 8 printable ASCII characters without spaces")
        _unique(table, "staff_no", staff_no, numbers, "staff number")
        name = table.text("name")
        department = table.text("department")
        if name is not None and department is not None:
            size = len(name.encode("gb18030", "replace")) + len(department.encode("gb18030", "replace"))
            if size > KEYPAD_TEXT_BYTES:
                table.bad("name", f"name and department take {size} bytes in GB18030, "
                                  f"the keypad shows at most {KEYPAD_TEXT_BYTES}")
        photo = _photo(table, folder)
        pin_hash = table.text("pin_hash")
        if pin_hash is not None:
            try:
                parse_pin_hash(pin_hash)
            except BadPinHash as exc:
                table.bad("pin_hash", f"not a PIN hash ({exc}); make one with: python -m config hash-pin")
        staff.append(Staff(staff_no=staff_no, name=name, department=department, photo=photo,
                           pin_hash=pin_hash, stars=table.integer("stars", 0, 5, default=3),
                           promise=table.text("promise", "")))
    return tuple(staff)


def _photo(table: _Table, folder: Path) -> Path | None:
    relative = table.text("photo", None)
    if relative is None:
        return None
    path = Path(relative)
    if path.is_absolute():
        table.bad("photo", f"must be a path relative to the hall folder, got {_quote(relative)}")
    elif path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        table.bad("photo", f"must be a .png or .jpg file, got {_quote(relative)}")
    elif not os.path.isfile(folder / path):        # False also for unusable names
        table.bad("photo", f"file not found: {_quote(relative)}")
    else:
        return (folder / path).resolve()
    return None


def _read_tags(root: _Table) -> TagList:
    problems_before = root.file.count
    version = root.integer("version", 1)
    tags, codes = [], {}
    for table in root.tables("tags"):
        code = table.text("code", pattern=_TAG_CODE, rule="must be 1 to 32 ASCII letters, digits, _ or -")
        if code in RESERVED_TAGS:
            table.bad("code", f"{_quote(code)} is reserved (the server records it for a keypad 差评)")
        _unique(table, "code", code, codes, "tag code")
        text = table.text("text")
        levels = table.items("levels", int) or []
        for level in levels:
            if not 1 <= level <= 5:
                table.bad("levels", f"levels must be between 1 and 5, got {level}")
        for level in _repeated(levels):
            table.bad("levels", f"level {level} listed twice")
        added_in = table.integer("added_in", 1, default=1)
        removed_in = table.integer("removed_in", 1, default=None)
        if version is not None and added_in is not None and added_in > version:
            table.bad("added_in", f"must not be after the current version {version}, got {added_in}")
        if removed_in is not None and added_in is not None and removed_in <= added_in:
            table.bad("removed_in", f"must be after added_in {added_in}, got {removed_in}")
        elif removed_in is not None and version is not None and removed_in > version:
            table.bad("removed_in", f"must not be after the current version {version}, got {removed_in}")
        tags.append(Tag(code=code, text=text, levels=tuple(levels), added_in=added_in, removed_in=removed_in))
    tag_list = TagList(version=version, tags=tuple(tags))
    if root.file.count == problems_before:      # only judge a list whose tags all read well
        for level in (1, 2):
            if not tag_list.for_level(level):
                root.bad("tags", f"no current tag for level {level}; a bad rating needs at least one")
    return tag_list
