"""Small helpers shared by the domain modules: the configured hall, which window a node is, and
`row` / `rows`, the first or every row of a `db.query()` (sqlite-utils) as dicts."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import sqlite_utils

from config.schema import HallConfig, Window
from hall_server.domain.errors import BadRequest, Forbidden, UnknownWindow
from hall_server.domain.context import Context
from hallnet.vocabulary import NodeKind

# Node kinds (the prefix of the authenticated node id), short names for hallnet.vocabulary.NodeKind.
TERMINAL = NodeKind.TERMINAL
KIOSK = NodeKind.KIOSK
GATEWAY = NodeKind.GATEWAY
DISPENSER = NodeKind.DISPENSER
WEB = NodeKind.WEB
QR = NodeKind.QR
BIZSYS = NodeKind.BIZSYS
MANAGER = NodeKind.MANAGER
SYSTEM = NodeKind.SYSTEM

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")


def window_cfg(config: HallConfig, number: Any) -> Window:
    if not isinstance(number, int) or isinstance(number, bool):
        raise BadRequest("window must be a number", field="window")
    try:
        return config.window(number)
    except KeyError:
        raise UnknownWindow(f"no window {number}", window=number) from None


def node_window(node: str) -> int | None:
    """`terminal-3` → 3; None when the id has no number."""
    _, _, rest = node.partition("-")
    return int(rest) if rest.isdigit() else None


def window_of(ctx: Context, body: dict[str, Any]) -> Window:
    """The window a command (a body map) is for; see `window_at`."""
    return window_at(ctx, body["window"] if "window" in body else None, named="window" in body)


def window_at(ctx: Context, window: Any, named: bool | None = None) -> Window:
    """The window a command is for: a terminal or kiosk is bound to its own window (it may name
    it, no other); other nodes (gateway, web, business system) must name it."""
    named = window is not None if named is None else named
    if ctx.node_kind in (TERMINAL, KIOSK):
        own = node_window(ctx.node)
        if own is None:
            raise Forbidden(f"{ctx.node} is not bound to a window")
        if named and window != own:
            raise Forbidden(f"{ctx.node} may only act for window {own}", window=own)
        return window_cfg(ctx.config, own)
    if not named:
        raise BadRequest("missing field 'window'", field="window")
    return window_cfg(ctx.config, window)


def opt_str(body: dict[str, Any], key: str, max_len: int, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadRequest(f"field {key!r} must be a string", field=key)
    if len(value) > max_len:
        raise BadRequest(f"field {key!r} is longer than {max_len} characters", field=key, max_len=max_len)
    if "\x00" in value:
        raise BadRequest(f"field {key!r} contains a NUL character", field=key)
    return value


def opt_int(body: dict[str, Any], key: str, lo: int, hi: int, default: int | None = None) -> int | None:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise BadRequest(f"field {key!r} must be a whole number from {lo} to {hi}", field=key, min=lo, max=hi)
    return value


def req_int(body: dict[str, Any], key: str, lo: int, hi: int) -> int:
    if key not in body:
        raise BadRequest(f"missing field {key!r}", field=key)
    value = opt_int(body, key, lo, hi)
    assert value is not None
    return value


def phone(body: dict[str, Any]) -> str:
    value = opt_str(body, "phone", 20)
    if value and not _PHONE.match(value):
        raise BadRequest("field 'phone' is not a phone number", field="phone")
    return value


def mask_phone(value: str) -> str:
    """R6: 13812345678 → 138****5678."""
    digits = value.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def public_id() -> str:
    """A stable, unguessable public id (80 random bits, hex) for a row, e.g. a 办件 in a QR URL.
    Random rather than derived from the message id: the sender chooses message ids. (A resent
    message does not run again, it gets its stored result, so the id stays the same.)"""
    return secrets.token_hex(10)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def row(ctx_or_db: Context | sqlite_utils.Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    """The first row of a query as a dict (`db.query`), or None."""
    db = ctx_or_db.db if isinstance(ctx_or_db, Context) else ctx_or_db
    return next(db.query(sql, params), None)


def rows(ctx_or_db: Context | sqlite_utils.Database, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Every row of a query as dicts (`db.query`)."""
    db = ctx_or_db.db if isinstance(ctx_or_db, Context) else ctx_or_db
    return list(db.query(sql, params or []))
