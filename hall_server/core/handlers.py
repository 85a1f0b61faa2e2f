"""How the bus applies a node's message: a registry of handlers, one per message type.

The writer calls a handler inside the open group transaction (a savepoint per message):

    @handler("queue.take")
    def take(ctx: Context, body: dict) -> dict: ...

A handler validates its body (raise `BadRequest`), applies the domain rule (raise a named
`DomainError` subclass to refuse), writes through `ctx.db`, publishes state changes with
`ctx.publish(key, value)` and returns the result body. A refusal is recorded like a success, so a
resent message gets the same answer. Any other exception rolls the message back and the sender
is told to retry later: nothing is lost, nothing half-applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
import sqlite_utils

from config.schema import HallConfig


class DomainError(Exception):
    """A rule refused the request. `code` is stable (clients translate it); the message is for logs."""

    code = "refused"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details      # machine-readable facts for the UI, e.g. tries_left=3


class BadRequest(DomainError):
    code = "bad_request"


class TooLarge(BadRequest):
    """A body or a state value over its size limit: refused, nothing of it stored."""

    code = "too_large"


class TooManyKeys(BadRequest):
    """A node would publish more state keys (devices) than a node may hold."""

    code = "too_many_keys"


# What one node may store: every published value fits in a frame with room to spare, so no
# snapshot part or delta frame can ever exceed the wire limit, whatever the state holds.
MAX_STATE_VALUE_BYTES = 64 * 1024
MAX_DEVICES_PER_NODE = 64
MAX_DEVICE_DETAIL_BYTES = 2048
MAX_REPORT_BYTES = 32 * 1024


class UnknownType(DomainError):
    code = "unknown_type"


class Forbidden(DomainError):
    """This kind of node may not send this message (e.g. a staff terminal submitting a rating)."""

    code = "forbidden"


@dataclass
class Context:
    db: sqlite_utils.Database
    config: HallConfig | None
    node: str                 # authenticated sender node id, e.g. "kiosk-3"; "web" for HTTP
    now_ms: int               # server time of this apply, UTC epoch ms
    msg_id: str
    deltas: list[tuple[str, Any]] = field(default_factory=list)
    batch_deltas: list[tuple[str, Any]] = field(default_factory=list)  # earlier messages of this batch
    secret: bytes = b""       # the hall secret (signs QR links); empty when the hub has none

    @property
    def node_kind(self) -> str:
        return self.node.split("-", 1)[0]

    def publish(self, key: str, value: Any) -> None:
        """Set a state key (None deletes it); subscribers get the delta after the commit.

        Raises TooLarge for a key or value over the limits (the message is refused, nothing stored)."""
        if len(key) > 200:
            raise TooLarge(f"state key of {len(key)} characters", max_len=200)
        if value is not None:
            size = len(msgpack.packb(value, use_bin_type=True))
            if size > MAX_STATE_VALUE_BYTES:
                raise TooLarge(f"state value {key!r} of {size} bytes", max_bytes=MAX_STATE_VALUE_BYTES)
        self.deltas.append((key, value))

    def current(self, key: str, default: Any = None) -> Any:
        """The committed-or-pending value of a state key (what this transaction has published counts)."""
        for published in (self.deltas, self.batch_deltas):
            for k, v in reversed(published):
                if k == key:
                    return v
        row = self.db.execute("SELECT value FROM state WHERE key = ?", [key]).fetchone()
        return msgpack.unpackb(row[0], raw=False) if row else default

    def audit(self, kind: str, subject: str = "", **detail: Any) -> None:
        self.db.execute(
            "INSERT INTO audit (at_ms, node, kind, subject, detail, msg_id) VALUES (?, ?, ?, ?, ?, ?)",
            [self.now_ms, self.node, kind, subject, json.dumps(detail, ensure_ascii=False), self.msg_id],
        )


Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
# Which node kinds may send a type; absent = any registered node.
ALLOWED_KINDS: dict[str, frozenset[str]] = {}


def handler(type_name: str, kinds: frozenset[str] | set[str] | None = None) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if type_name in HANDLERS:
            raise ValueError(f"handler for {type_name} registered twice")
        HANDLERS[type_name] = fn
        if kinds is not None:
            ALLOWED_KINDS[type_name] = frozenset(kinds)
        return fn

    return register


def dispatch(ctx: Context, type_name: str, body: dict[str, Any]) -> dict[str, Any]:
    fn = HANDLERS.get(type_name)
    if fn is None:
        raise UnknownType(f"no handler for {type_name!r}")
    kinds = ALLOWED_KINDS.get(type_name)
    if kinds is not None and ctx.node_kind not in kinds:
        raise Forbidden(f"{ctx.node_kind} may not send {type_name}")
    return fn(ctx, body)


# --- helpers for body validation -------------------------------------------------------------

def need(body: dict[str, Any], key: str, kind: type | tuple[type, ...], *, max_len: int = 1000) -> Any:
    """The value of a required body field of the given type (bool is never an int)."""
    if key not in body:
        raise BadRequest(f"missing field {key!r}", field=key)
    value = body[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise BadRequest(f"field {key!r} must be {kind}", field=key)
    if not isinstance(value, kind):
        raise BadRequest(f"field {key!r} must be {kind}", field=key)
    if isinstance(value, (str, list, dict, bytes)) and len(value) > max_len:
        raise BadRequest(f"field {key!r} is too long", field=key, max_len=max_len)
    return value


# --- the foundation's own message types -----------------------------------------------------

@handler("audit.note")
def audit_note(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """A node records something worth keeping in the hall's audit log."""
    kind = need(body, "kind", str, max_len=64)
    subject = body.get("subject", "")
    if not isinstance(subject, str) or len(subject) > 200:
        raise BadRequest("field 'subject' must be a string of at most 200 characters", field="subject")
    detail = body.get("detail", {})
    if not isinstance(detail, dict):
        raise BadRequest("field 'detail' must be a map", field="detail")
    ctx.audit(f"note.{kind}", subject, **detail)
    key = f"notes/{ctx.node}"
    count = ctx.current(key, {"count": 0})["count"] + 1
    ctx.publish(key, {"count": count, "last": kind})
    return {"count": count}


@handler("node.report")
def node_report(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """A node reports its devices' health: {"devices": {"keypad-3": {"online": true, ...}}}.

    Limits (refused whole, nothing stored): at most MAX_DEVICES_PER_NODE devices per node (those
    already known count), MAX_DEVICE_DETAIL_BYTES of detail per device, MAX_REPORT_BYTES in all."""
    devices = need(body, "devices", dict, max_len=MAX_DEVICES_PER_NODE)
    changed = []
    details: dict[str, str] = {}
    for device, info in devices.items():
        if not isinstance(device, str) or not device or len(device) > 64 or not isinstance(info, dict):
            raise BadRequest("devices must map a device name to a map", field="devices")
        online = info.get("online")
        if not isinstance(online, bool):
            raise BadRequest(f"devices[{device!r}].online must be true or false", field="devices")
        try:
            detail = json.dumps({k: v for k, v in info.items() if k != "online"}, ensure_ascii=False)
        except (TypeError, ValueError):
            raise BadRequest(f"devices[{device!r}] holds values that are not JSON", field="devices") from None
        if len(detail.encode()) > MAX_DEVICE_DETAIL_BYTES:
            raise TooLarge(f"devices[{device!r}] detail over {MAX_DEVICE_DETAIL_BYTES} bytes", field="devices",
                           max_bytes=MAX_DEVICE_DETAIL_BYTES)
        details[device] = detail
    if sum(len(d) for d in details.values()) > MAX_REPORT_BYTES:
        raise TooLarge(f"report over {MAX_REPORT_BYTES} bytes", field="devices", max_bytes=MAX_REPORT_BYTES)
    known = {r[0] for r in ctx.db.execute("SELECT device FROM devices WHERE node = ?", [ctx.node])}
    if len(known | set(details)) > MAX_DEVICES_PER_NODE:
        raise TooManyKeys(f"{ctx.node} would have more than {MAX_DEVICES_PER_NODE} devices", field="devices",
                          max_devices=MAX_DEVICES_PER_NODE)
    for device, detail in details.items():
        online = devices[device]["online"]
        row = ctx.db.execute(
            "SELECT online FROM devices WHERE node = ? AND device = ?", [ctx.node, device]
        ).fetchone()
        if row is None or bool(row[0]) != online:
            ctx.audit("device.online" if online else "device.offline", device)
            changed.append(device)
        ctx.db.execute(
            "INSERT INTO devices (node, device, online, detail, changed_ms) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (node, device) DO UPDATE SET online = excluded.online, detail = excluded.detail, "
            "changed_ms = CASE WHEN devices.online = excluded.online THEN devices.changed_ms ELSE excluded.changed_ms END",
            [ctx.node, device, int(online), detail, ctx.now_ms],
        )
        ctx.publish(f"device/{ctx.node}/{device}", {"online": online, **json.loads(detail)})
    return {"changed": changed}


@handler("node.presence", kinds={"server"})
def node_presence(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """The bus saw a node come or go (heartbeats); screens show it, the audit log keeps it."""
    node = need(body, "node", str, max_len=64)
    alive = need(body, "alive", bool)
    ctx.audit("node.up" if alive else "node.down", node)
    ctx.publish(f"node/{node}", {"alive": alive, "since_ms": ctx.now_ms})
    return {}
