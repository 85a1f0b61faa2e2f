"""What the hall server can store: plain JSON-able data, checked at the edge before any handler runs.

A message body reaches the writer as decoded msgpack, which can carry things the store cannot keep
(the audit's `detail` is JSON text, state values go to pages as JSON): bytes, msgpack extension
types, NaN and infinities, integers beyond SQLite's 64 bits, maps nested past any real message.
Such a body is a permanent refusal (`bad_request`: the sender drops it), never an "internal, retry"
that an honest client would resend forever.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 16                       # no message of the hall nests deeper than a handful of levels
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
_PATH_CHARS = 200


class NotPlain(ValueError):
    """A value that is not plain JSON-able data; `path` says where (e.g. `body.detail.raw`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path[:_PATH_CHARS]
        self.reason = reason


def check_plain(value: Any, root: str = "body") -> None:
    """Raise NotPlain unless `value` is made only of maps with text keys, lists, text, finite
    numbers in 64 bits, true/false and null, nested at most MAX_DEPTH deep. Iterative: a hostile
    nesting cannot exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, root, 0)]
    while stack:
        item, path, depth = stack.pop()
        if item is None or isinstance(item, (str, bool)):
            continue
        if isinstance(item, int):
            if not INT_MIN <= item <= INT_MAX:
                raise NotPlain(path, "integer out of the 64-bit range")
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise NotPlain(path, "not a finite number")
            continue
        if isinstance(item, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                raise NotPlain(path, f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, sub in item.items():
                    if not isinstance(key, str):
                        raise NotPlain(path, "a map key that is not text")
                    stack.append((sub, f"{path}.{key}"[:_PATH_CHARS], depth + 1))
            else:
                stack.extend((sub, f"{path}[{i}]"[:_PATH_CHARS], depth + 1) for i, sub in enumerate(item))
            continue
        raise NotPlain(path, f"{_kind(item)} cannot be stored")


def _kind(item: Any) -> str:
    if isinstance(item, (bytes, bytearray, memoryview)):
        return "binary data"
    name = type(item).__name__
    return "an extension type" if name == "ExtType" else f"a value of type {name}"
