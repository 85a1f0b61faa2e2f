"""Read one hall TOML file without ever letting it crash or stall the loader.

`tomllib` is safe against malformed text (it raises `TOMLDecodeError`) but not against text that is
well formed and absurd:

- arrays or inline tables nested a few hundred deep raise `RecursionError`;
- a dotted key or table header with thousands of parts (`a.a.a.…`) takes quadratic time
  (16,000 parts: 10 s; a 1 MB file would take hours);
- an integer of more than 4,300 decimal digits raises a plain `ValueError`;
- a huge file is read whole into memory, and a device or a FIFO may never end or block.

So before parsing, the file must be a regular file, its size is capped at `MAX_FILE_BYTES` and one linear pass over the text
(strings and comments skipped) caps bracket nesting and the parts of a dotted key at `MAX_NESTING`;
after parsing, the nesting of the result (tables and arrays together) is capped the same way. Every
failure becomes a problem "file: message" for the loader to report with the others. A hall file
needs four levels at most, and the biggest demo file is 9 KB (2 MiB holds thousands of 事项 or
staff). The worst well-formed 2 MiB file still takes tomllib about 5 s: slow, but it ends.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NESTING = 16

_SEPARATORS = frozenset("=,[]{}\n")
_OPENERS = frozenset("[{")
_CLOSERS = frozenset("]}")


class UnreadableToml(Exception):
    """The file cannot be read as TOML; the message is the problem to show after "file: "."""


def read_toml(path: Path) -> dict[str, Any]:
    """Parse `path`; raise FileNotFoundError when it is absent, UnreadableToml for anything else."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):     # a folder, a device, a FIFO that would block
            raise UnreadableToml("not a regular file")
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableToml(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise UnreadableToml(f"too large: a hall file may have at most {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UnreadableToml(f"not UTF-8 text (line {line}); save the file as UTF-8") from None
    return parse_toml(text)


def parse_toml(text: str) -> dict[str, Any]:
    """Parse TOML text within the limits above; raise UnreadableToml with the problem."""
    line = _too_deep_line(text)
    if line is not None:
        raise UnreadableToml(_too_deep(line))
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UnreadableToml(f"invalid TOML: {exc}") from None
    except ValueError as exc:          # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        reason = str(exc).split(";")[0]
        raise UnreadableToml(f"invalid TOML: a value cannot be read ({reason})") from None
    except RecursionError:             # not expected after the scan; kept as the last line of defence
        raise UnreadableToml(_too_deep(None)) from None
    if _depth(doc) > MAX_NESTING:
        raise UnreadableToml(_too_deep(None))
    return doc


def _too_deep(line: int | None) -> str:
    where = f" (line {line})" if line is not None else ""
    return (f"tables, arrays and dotted keys nested more than {MAX_NESTING} levels deep{where}; "
            "a hall file needs only a few")


def _depth(doc: Any) -> int:
    """The deepest nesting of tables and arrays in a parsed document, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > MAX_NESTING:
                return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _too_deep_line(text: str) -> int | None:
    """The line where brackets nest, or dots chain a key, more than MAX_NESTING deep; else None.

    Strings and comments are skipped. Dots are counted between separators (= , [ ] { } newline), so
    `a.b.c = 1.5` counts 2 then 1; a float or a date-time holds at most one dot.
    """
    i, n, line, depth, dots = 0, len(text), 1, 0, 0
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        if c in _SEPARATORS:
            dots = 0
            if c in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    return line
            elif c in _CLOSERS:
                depth = max(depth - 1, 0)
            i += 1
        elif c == ".":
            dots += 1
            if dots > MAX_NESTING:
                return line
            i += 1
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            i, line = _skip_string(text, i, line)
        else:
            i += 1
    return None


def _skip_string(text: str, i: int, line: int) -> tuple[int, int]:
    """Index just past the string starting at `i`, and the line count after it. An unterminated
    string ends at the end of its line (one-line kinds) or of the text; tomllib reports it."""
    quote = text[i]
    n = len(text)
    if text.startswith(quote * 3, i):              # multi-line: ends at 3 quotes (up to 5 in a run)
        i += 3
        while i < n:
            c = text[i]
            if c == "\\" and quote == '"':
                if i + 1 < n and text[i + 1] == "\n":
                    line += 1
                i += 2
                continue
            if c == "\n":
                line += 1
            elif c == quote:
                run = 1
                while i + run < n and text[i + run] == quote:
                    run += 1
                if run >= 3:
                    return i + run, line
                i += run
                continue
            i += 1
        return n, line
    i += 1
    while i < n:
        c = text[i]
        if c == "\\" and quote == '"' and text[i + 1:i + 2] != "\n":
            i += 2
            continue
        if c == quote:
            return i + 1, line
        if c == "\n":
            return i, line                          # the newline is counted by the caller
        i += 1
    return n, line
