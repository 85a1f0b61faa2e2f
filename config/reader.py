"""Typed reading of parsed TOML with problem collection, for `config.loader`.

A `File` collects the problems of one hall file and the key paths asked for (`key_paths`); a
`Table` reads one TOML table at a key path: each getter returns the value, the default when the
key is absent, or None after reporting a "file: key.path: message" problem. Keys nobody asked for
are reported by `File.finish` as unknown (with the closest known key).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from config.errors import Problem

REQUIRED: Any = object()
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array", dict: "table"}

# patterns shared by several files
CODE = re.compile(r"[!-~]{1,64}")
CODE_RULE = "must be 1 to 64 printable ASCII characters without spaces"


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def show(value: Any) -> str:
    """How a TOML value is named in messages: its TOML type and, if short, the value."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {quote(value)}"
    if isinstance(value, int):
        return "a very large integer" if _too_big(value) else f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return f"date/time {value}"


_TOO_BIG = f"integer too large (more than {2**63 - 1})"


def _too_big(value: Any) -> bool:
    """An integer no setting could mean (and too long to print: Python refuses over 4300 digits)."""
    return isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63


def _is(value: Any, kind: type) -> bool:
    if isinstance(value, bool):           # TOML true is not the integer 1
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


class File:
    """One file being checked: where its problems go and which keys were asked for."""

    def __init__(self, name: str, problems: list[Problem], seen: set[tuple[str, str]]) -> None:
        self.name, self.problems, self.seen = name, problems, seen
        self.tables: list[Table] = []
        self.count = 0

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.name, key, message))
        self.count += 1

    def finish(self) -> None:
        for table in self.tables:
            table.report_unknown()


class Table:
    """One TOML table at a key path. Getters return the value, the default when the key is
    absent, or None after reporting a problem."""

    def __init__(self, file: File, data: Mapping[str, Any], path: str, doc: str) -> None:
        self.file, self.data, self.path, self.doc = file, data, path, doc
        self.asked: list[str] = []
        file.tables.append(self)

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def bad(self, name: str, message: str) -> None:
        self.file.problem(self.key(name), message)

    def value(self, name: str, kind: type, default: Any = REQUIRED) -> Any:
        self.asked.append(name)
        self.file.seen.add((self.file.name, f"{self.doc}.{name}" if self.doc else name))
        if name not in self.data:
            if default is REQUIRED:
                self.bad(name, "missing required key")
                return None
            return default
        value = self.data[name]
        if _is(value, kind) and _too_big(value):
            self.bad(name, _TOO_BIG)
            return None
        if _is(value, kind):
            return float(value) if kind is float else value
        hint = " (put it in quotes)" if kind is str and _is(value, float) else ""
        self.bad(name, f"expected {_TYPE_NAMES[kind]}, got {show(value)}{hint}")
        return None

    def text(self, name: str, default: Any = REQUIRED, pattern: re.Pattern[str] | None = None,
             rule: str = "") -> str | None:
        """A string; when required it must not be blank; with a pattern it must match it."""
        value = self.value(name, str, default)
        if value is None or name not in self.data:
            return value
        if default is REQUIRED and not value.strip():
            self.bad(name, "must not be empty")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.bad(name, f"{rule}, got {quote(value)}")
            return None
        return value

    def integer(self, name: str, low: int, high: int | None = None, default: Any = REQUIRED) -> int | None:
        return self._in_range(name, self.value(name, int, default), low, high)

    def number(self, name: str, low: float, high: float | None = None, default: Any = REQUIRED) -> float | None:
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

    def choice(self, name: str, choices: tuple[int, ...], default: Any = REQUIRED) -> int | None:
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
        wrong = [(i, v) for i, v in enumerate(value) if not _is(v, kind) or _too_big(v)]
        for i, item in wrong:
            self.bad(f"{name}[{i}]", _TOO_BIG if _is(item, kind) else f"expected {_TYPE_NAMES[kind]}, got {show(item)}")
        return None if wrong else list(value)

    def table(self, name: str, required: bool = False) -> Table | None:
        """A sub-table; None when it is absent (and optional) or wrong."""
        value = self.value(name, dict, REQUIRED if required else None)
        return None if value is None else self._child(value, name, name)

    def section(self, name: str) -> Table:
        """An optional sub-table whose keys all have defaults: absent means empty."""
        return self._child(self.value(name, dict, {}) or {}, name, name)

    def tables(self, name: str) -> list[Table]:
        """A required, non-empty array of tables ([[name]] in TOML)."""
        value = self.value(name, list)
        if value is not None and not value:
            self.bad(name, "must not be empty")
        out = []
        for i, item in enumerate(value or ()):
            if isinstance(item, dict):
                out.append(self._child(item, f"{name}[{i}]", f"{name}[]"))
            else:
                self.bad(f"{name}[{i}]", f"expected table, got {show(item)}")
        return out

    def _child(self, data: Mapping[str, Any], name: str, doc_name: str) -> Table:
        doc = f"{self.doc}.{doc_name}" if self.doc else doc_name
        return Table(self.file, data, self.key(name), doc)

    def report_unknown(self) -> None:
        for name in self.data:
            if name not in self.asked:
                close = difflib.get_close_matches(name, self.asked, n=1)
                self.bad(name, "unknown key" + (f'; did you mean "{close[0]}"?' if close else ""))


def unique(table: Table, name: str, value: Any, owners: dict[Any, str], what: str) -> None:
    """Report `value` if an earlier table already had it; remember who had it first."""
    if value is None:
        return
    if value in owners:
        shown = quote(value) if isinstance(value, str) else str(value)
        table.bad(name, f"duplicate {what} {shown} (also {owners[value]})")
    else:
        owners[value] = table.path


def repeated(values: list[Any]) -> list[Any]:
    """Each value again after its first occurrence (linear: an array may hold 300,000 items)."""
    seen: set[Any] = set()
    out = []
    for v in values:
        if v in seen:
            out.append(v)
        seen.add(v)
    return out
