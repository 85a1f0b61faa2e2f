"""The four list files: services.toml ([[categories]], [[services]]), windows.toml ([[windows]]
with their keypad and printer), staff.toml ([[staff]]) and tags.toml ([[tags]])."""

from __future__ import annotations

import os
import re
from pathlib import Path

from config.pins import BadPinHash, parse_pin_hash
from config.reader import CODE, CODE_RULE, Table, quote, repeated, unique
from config.reserved_tags import RESERVED_TAGS  # set by the server itself (原因待回访); see reserved_tags.py
from config.schema import Category, Keypad, Printer, Service, Staff, Tag, TagList, Window

KEYPAD_BAUDS = (9600, 19200, 38400)
PRINTER_BAUDS = (9600, 19200, 38400, 57600, 115200)
KEYPAD_TEXT_BYTES = 237   # SHOW_STAFF: name + department in GB18030 must fit one EKP-2 frame (L <= 250)

_STAFF_NO = re.compile(r"[!-~]{1,8}")
_CATEGORY_CODE = re.compile(r"[A-Z]{1,2}")
_TAG_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def read_services(root: Table) -> tuple[tuple[Category, ...], tuple[Service, ...], dict[str, str]]:
    categories, codes = [], {}
    for table in root.tables("categories"):
        code = table.text("code", pattern=_CATEGORY_CODE, rule="must be 1 or 2 uppercase letters A-Z")
        unique(table, "code", code, codes, "category code")
        categories.append(Category(code=code, name=table.text("name")))
    services, service_codes = [], {}
    for table in root.tables("services"):
        code = table.text("code", pattern=CODE, rule=CODE_RULE)
        unique(table, "code", code, service_codes, "service code")
        name = table.text("name")
        category = table.text("category")
        if category is not None and category not in codes:
            table.bad("category", f"unknown category {quote(category)}")
        services.append(Service(code=code, name=name, category=category,
                                promised_min=table.integer("promised_min", 1, 1440),
                                department=table.text("department", "")))
    return tuple(categories), tuple(services), codes


def read_windows(root: Table, known_categories: set[str] | None) -> tuple[Window, ...]:
    windows, numbers = [], {}
    keypads: list[tuple[Table, Keypad]] = []
    printers: list[tuple[Table, Printer]] = []
    for table in root.tables("windows"):
        number = table.integer("number", 1, 999)
        unique(table, "number", number, numbers, "window number")
        name = table.text("name")
        categories = table.items("categories", str) or []
        for code in repeated(categories):
            table.bad("categories", f"category {quote(code)} listed twice")
        for code in categories:
            if known_categories is not None and code not in known_categories:
                table.bad("categories", f"unknown category {quote(code)}")
        keypad = printer = None
        if (sub := table.table("keypad")) is not None:
            keypad = Keypad(port=sub.text("port"), address=sub.integer("address", 1, 32),
                            baud=sub.choice("baud", KEYPAD_BAUDS, default=9600))
            keypads.append((sub, keypad))
        if (sub := table.table("printer")) is not None:
            printer = Printer(port=sub.text("port"), baud=sub.choice("baud", PRINTER_BAUDS, default=9600))
            printers.append((sub, printer))
        windows.append(Window(number=number, name=name, categories=tuple(categories), keypad=keypad,
                              printer=printer, kiosk=table.flag("kiosk", True),
                              open=table.flag("open", True)))
    _check_ports(keypads, printers)
    return tuple(windows)


def _check_ports(keypads: list[tuple[Table, Keypad]], printers: list[tuple[Table, Printer]]) -> None:
    """Keypads may share a port (an RS-485 bus) at one baud rate with distinct addresses;
    a printer needs a port of its own."""
    owners: dict[str, tuple[str, int]] = {}        # port -> (first user's key path, its baud)
    addresses: dict[tuple[str, int], str] = {}
    for table, keypad in keypads:
        if keypad.port is None:
            continue
        where = (keypad.port, keypad.address)
        if keypad.address is not None and where in addresses:
            table.bad("address", f"address {keypad.address} on port {quote(keypad.port)} "
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
            table.bad("port", f"port {quote(printer.port)} is already used by {owners[printer.port][0]}")
        else:
            owners[printer.port] = (table.path, printer.baud)


def read_staff(root: Table, folder: Path) -> tuple[Staff, ...]:
    staff, numbers = [], {}
    for table in root.tables("staff"):
        staff_no = table.text("staff_no", pattern=_STAFF_NO,
                              rule="must be 1 to 8 printable ASCII characters without spaces")
        unique(table, "staff_no", staff_no, numbers, "staff number")
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
                           promise=table.text("promise", ""), active=table.flag("active", True)))
    return tuple(staff)


def _photo(table: Table, folder: Path) -> Path | None:
    relative = table.text("photo", None)
    if relative is None:
        return None
    path = Path(relative)
    if path.is_absolute():
        table.bad("photo", f"must be a path relative to the hall folder, got {quote(relative)}")
    elif path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        table.bad("photo", f"must be a .png or .jpg file, got {quote(relative)}")
    elif not os.path.isfile(folder / path):        # False also for unusable names
        table.bad("photo", f"file not found: {quote(relative)}")
    else:
        return (folder / path).resolve()
    return None


def read_tags(root: Table) -> TagList:
    problems_before = root.file.count
    version = root.integer("version", 1)
    tags, codes = [], {}
    for table in root.tables("tags"):
        code = table.text("code", pattern=_TAG_CODE, rule="must be 1 to 32 ASCII letters, digits, _ or -")
        if code in RESERVED_TAGS:
            table.bad("code", f"{quote(code)} is reserved (the server records it for a 差评 whose reason "
                              "the call-back collects)")
        unique(table, "code", code, codes, "tag code")
        text = table.text("text")
        levels = table.items("levels", int) or []
        for level in levels:
            if not 1 <= level <= 5:
                table.bad("levels", f"levels must be between 1 and 5, got {level}")
        for level in repeated(levels):
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
