"""The message envelope: the only module that knows how messages look on the wire.

Every message is an envelope: version, id (UUID), type, sender node id, sender sequence number,
time (UTC epoch ms) and a body (a map). It is encoded as a msgpack array:

    [version, id (16 bytes), type, node, seq, ts_ms, body]

Replies from the server are envelopes of type ``reply`` whose body names the request
(``ref``); state deltas are of type ``delta``; a snapshot answer is of type ``snapshot``.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import msgpack

from hallnet.vocabulary import Msg, reply_body

VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024
# The sockets' hard limit (zmq `maxmsgsize`): libzmq drops the connection of a peer that sends a
# larger frame. Between MAX_MESSAGE_BYTES and this, the server reads the frame and answers with an
# `error` envelope (code `message_too_large`); every frame the server sends is at most MAX_MESSAGE_BYTES.
MAX_FRAME_BYTES = 4 * MAX_MESSAGE_BYTES + 64 * 1024

_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_NODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Types used by the wire itself (hallnet.vocabulary.Msg names every type).
HEARTBEAT = Msg.HEARTBEAT.value
REPLY = Msg.REPLY.value
DELTA = Msg.DELTA.value
SNAPSHOT = Msg.SNAPSHOT.value  # node asks; server answers with a `snapshot` envelope
ERROR = Msg.ERROR.value        # server's answer to a frame it could not read or will not take

# Error codes: `code` of an `error` envelope's body (with `reason` for logs), and the
# `error` of a retryable reply.
E_MALFORMED = "malformed"
E_WRONG_VERSION = "wrong_version"
E_TOO_LARGE = "message_too_large"
E_NOT_YOURS = "wrong_node"         # the envelope names another node than its key
E_REVOKED = "revoked"              # the sender's key was revoked: nothing from it is taken
E_BUSY = "busy"                    # over the node's quota: not stored; resend after `retry_after_ms`


class MalformedMessage(ValueError):
    """A frame that is not a valid envelope. The reason says what is wrong."""


class WrongVersion(MalformedMessage):
    """An envelope of a version this build does not speak."""


class MessageTooLarge(MalformedMessage):
    """A frame over MAX_MESSAGE_BYTES."""


def error_code(exc: MalformedMessage) -> str:
    """The wire code for a refused frame: what the sender's log and tests see in `error.code`."""
    if isinstance(exc, MessageTooLarge):
        return E_TOO_LARGE
    if isinstance(exc, WrongVersion):
        return E_WRONG_VERSION
    return E_MALFORMED


class _Ids:
    """Unique message ids, cheaply: a random 8-byte prefix per process (new after fork) + a counter."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = uuid.uuid4().hex[:16]
        self.counter = itertools.count(int.from_bytes(os.urandom(4), "big"))

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


new_id = _Ids()
os.register_at_fork(after_in_child=new_id.reset)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Envelope:
    type: str
    node: str
    seq: int
    body: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_id)
    ts_ms: int = field(default_factory=now_ms)
    v: int = VERSION

    @property
    def node_kind(self) -> str:
        """The kind of node from its id: `kiosk-3` → `kiosk`."""
        return self.node.split("-", 1)[0]


def encode(env: Envelope) -> bytes:
    data = msgpack.packb(
        [env.v, bytes.fromhex(env.id), env.type, env.node, env.seq, env.ts_ms, env.body],
        use_bin_type=True,
    )
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
    return data


def encode_plain(type_: str, node: str, body: dict[str, Any]) -> bytes:
    """Encode a server → node envelope (reply, delta, heartbeat) without building an Envelope."""
    data = msgpack.packb([VERSION, bytes.fromhex(new_id()), type_, node, 0, now_ms(), body], use_bin_type=True)
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
    return data


def decode(data: bytes) -> Envelope:
    """Parse and validate one frame; raises MalformedMessage (or a subclass) with the reason."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
    try:
        obj = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
        )
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError, TypeError) as exc:
        raise MalformedMessage(f"not msgpack: {type(exc).__name__}: {exc}"[:200]) from None
    if not isinstance(obj, list) or len(obj) != 7:
        raise MalformedMessage("envelope must be an array of 7 fields")
    v, raw_id, type_, node, seq, ts_ms, body = obj
    if v != VERSION or isinstance(v, bool):
        raise WrongVersion(f"version {v!r}, this build speaks {VERSION}")
    if not isinstance(raw_id, bytes) or len(raw_id) != 16:
        raise MalformedMessage("id must be 16 bytes")
    if not isinstance(type_, str) or not _TYPE_RE.match(type_):
        raise MalformedMessage(f"bad type {type_!r}"[:100])
    if not isinstance(node, str) or not _NODE_RE.match(node):
        raise MalformedMessage(f"bad node id {node!r}"[:100])
    for name, value in (("seq", seq), ("ts_ms", ts_ms)):
        if not isinstance(value, int) or isinstance(value, bool) or not (0 <= value < 2**63):
            raise MalformedMessage(f"{name} must be a non-negative integer")
    if not isinstance(body, dict):
        raise MalformedMessage("body must be a map")
    return Envelope(type=type_, node=node, seq=seq, body=body, id=raw_id.hex(), ts_ms=ts_ms, v=v)


def reply(to: Envelope, node: str, *, ok: bool, result: dict[str, Any] | None = None,
          error: str = "", message: str = "", retry: bool = False) -> Envelope:
    """The server's answer to `to`: acknowledged (ok or refused by a rule), or `retry` (not applied)."""
    return Envelope(type=REPLY, node=node, seq=0,
                    body=reply_body(to.id, ok=ok, result=result, error=error, message=message, retry=retry))


def busy_body(ref: str, retry_after_ms: int) -> dict[str, Any]:
    """The body of a reply that refuses a message over its node's quota: not stored, send it again
    (and everything after it, in order) no sooner than `retry_after_ms` from now."""
    return {**reply_body(ref, ok=False, retry=True, error=E_BUSY, message="over quota; not stored"),
            "retry_after_ms": int(retry_after_ms)}


def error_body(code: str, reason: str) -> dict[str, Any]:
    """The body of an `error` envelope: a stable code and a reason for logs."""
    return {"code": code, "reason": reason[:200]}
