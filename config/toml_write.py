"""Write parsed TOML documents back as TOML text (the inverse of `config.toml_read` for the data a
hall folder holds): strings, integers, floats, booleans, dates, times, arrays, tables and arrays of
tables. Used by `python -m hall_server config export` to write the store's hall back as a folder.

A table inside an array-of-tables element is written inline (`keypad = {port = "…", address = 3}`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class NotTomlable(ValueError):
    """A value TOML cannot hold (None, NaN, an object): names its key path."""


def dumps(doc: Mapping[str, Any]) -> str:
    """The TOML text of one document (a map of keys to values)."""
    lines: list[str] = []
    _table(doc, (), lines, header=False)
    return "\n".join(lines).strip("\n") + "\n"


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _path(parts: tuple[str, ...]) -> str:
    return ".".join(_key(p) for p in parts)


def _string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return out.replace("\x7f", "\\u007f")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(doc: Mapping[str, Any], prefix: tuple[str, ...], lines: list[str], header: bool, array: bool = False) -> None:
    if header:
        lines.append("")
        lines.append(f"[[{_path(prefix)}]]" if array else f"[{_path(prefix)}]")
    tables: list[tuple[str, Any]] = []
    for name, value in doc.items():
        if isinstance(value, Mapping) or _is_table_array(value):
            tables.append((name, value))
        else:
            lines.append(f"{_key(name)} = {_value(value, prefix + (name,))}")
    for name, value in tables:
        if isinstance(value, Mapping):
            _table(value, prefix + (name,), lines, header=True)
        else:
            for item in value:
                _table(item, prefix + (name,), lines, header=True, array=True)


def _value(value: Any, where: tuple[str, ...]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotTomlable(f"{_path(where)}: {value} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, where) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v, where + (k,))}" for k, v in value.items()) + "}"
    raise NotTomlable(f"{_path(where)}: {type(value).__name__} cannot be written as TOML")
