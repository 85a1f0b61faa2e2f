"""Load a hall configuration folder into a `HallConfig`, reporting every problem at once.

A hall folder holds five UTF-8 TOML files (every key is listed in `config/REFERENCE.md`):

  hall.toml      [hall] name, region_code, department_code, timezone, screen_dpi, public_url
                 [[hall.sessions]] start, end ("HH:MM", in order, not overlapping)
                 [thresholds], [rating], [assessment], [export], [network], [calendar], [bus], [printing],
                 [calling] (config.read_calling: the announcement and its voice pack): optional,
                 every key has a default
  windows.toml   [[windows]] number, name, categories, kiosk,
                 keypad = {port, address, baud} (optional), printer = {port, baud} (optional)
  services.toml  [[categories]] code, name
                 [[services]] code, name, category, promised_min, department
  staff.toml     [[staff]] staff_no, name, department, photo, pin_hash, stars, promise
  tags.toml      version; [[tags]] code, text, levels, added_in, removed_in

Each file is read by `config.toml_read` (size, nesting and number limits before and after tomllib),
so absurd TOML is a problem like any other, never a traceback or a stall.

`load_hall` never stops at the first problem: it checks every file and raises one `ConfigError`
listing all of them as "file: key.path: message" (array indexes count from 0). Unknown keys are
problems too, so a typo never silently falls back to a default.

The reading itself: `config.reader` (typed getters that collect problems), `config.read_hall`
(hall.toml) and `config.read_lists` (services, windows, staff and tags).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config.errors import ConfigError, Problem
from config.read_calling import read_calling
from config.read_hall import read_hall
from config.read_lists import read_services, read_staff, read_tags, read_windows
from config.reader import File, Table, quote
from config.schema import HALL_FILES, HallConfig
from config.toml_read import UnreadableToml, read_toml


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
    try:
        return read_toml(path)
    except FileNotFoundError:
        problems.append(Problem(path.name, "", "missing file"))
    except UnreadableToml as exc:
        problems.append(Problem(path.name, "", str(exc)))
    return None


# -- the five files ---------------------------------------------------------------------------

def _build(folder: Path, docs: Mapping[str, Mapping[str, Any] | None],
           problems: list[Problem], seen: set[tuple[str, str]]) -> HallConfig:
    files = {name: File(name, problems, seen) for name in HALL_FILES}
    roots: dict[str, Table | None] = {}
    for name, file in files.items():
        if name not in docs:
            file.problem("", "missing file")
        data = docs.get(name)
        roots[name] = None if data is None else Table(file, data, "", "")

    def read(name: str, reader: Any, *args: Any) -> Any:
        root = roots[name]
        return None if root is None else reader(root, *args)

    hall = read("hall.toml", read_hall)
    categories, services, category_paths = read("services.toml", read_services) or ((), (), None)
    known = None if category_paths is None else set(category_paths)
    windows = read("windows.toml", read_windows, known)
    # Judge which categories are served only from a windows.toml without problems of its own.
    if windows is not None and category_paths is not None and not files["windows.toml"].count:
        served = {code for w in windows for code in w.categories}
        for code, path in category_paths.items():
            if code not in served:
                files["services.toml"].problem(f"{path}.code", f"no window serves category {quote(code)}")
    staff = read("staff.toml", read_staff, folder)
    tags = read("tags.toml", read_tags)
    calling = read("hall.toml", read_calling, folder, categories, windows)   # after services and windows

    for file in files.values():
        file.finish()
    if problems:
        order = {name: i for i, name in enumerate(HALL_FILES)}
        raise ConfigError(sorted(problems, key=lambda p: order.get(p.file, -1)))
    return HallConfig(folder=folder, hall=hall, windows=windows, categories=categories,
                      services=services, staff=staff, tags=tags, calling=calling)
