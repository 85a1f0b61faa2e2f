"""What a message handler works with, below the domain: the handler's `Context`, the refusals
every handler may raise (`DomainError` and its generic subclasses), and `Handlers`, a table of
message types to handlers that the hub is given (no global registry).

A handler runs inside the open group transaction (a savepoint per message):

    COMMANDS = Handlers()

    @COMMANDS.on(Msg.QUEUE_TAKE, kinds={DISPENSER, ...})
    def take(ctx: Context, body: QueueTake) -> dict: ...

`Handlers.dispatch` checks the sender's kind, then converts the body into its type
(`hallnet.bodies`): a misfit is refused as `bad_request` naming the field, before the handler.
The handler trusts its typed body, applies the domain rule (raise a named `DomainError` subclass
to refuse), writes through `ctx.db`, publishes state changes with `ctx.publish(key, value)` and
returns the result body. A refusal is recorded like a success, so a resent message gets the same
answer. Any other exception rolls the message back and the sender retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack
import sqlite_utils

from config.schema import HallConfig
from hallnet.bodies import BadBody, typed


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
    config: HallConfig        # validated at the edge (config.loader): handlers trust it
    node: str                 # authenticated sender node id, e.g. "kiosk-3"; "web" for HTTP
    now_ms: int               # server time of this apply, UTC epoch ms
    msg_id: str
    deltas: list[tuple[str, Any]] = field(default_factory=list)
    batch_deltas: list[tuple[str, Any]] = field(default_factory=list)  # earlier messages of this batch
    secret: bytes = b""       # the hall secret (signs QR links); empty when the hub has none
    new_config: HallConfig | None = None   # set by an admin change: the writer swaps to it after COMMIT
    floor_dirty: bool = False  # this message may have changed `floor` / `mgr/floor`: recomputed once per batch

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


Handler = Callable[[Context, Any], dict[str, Any]]    # (ctx, body as its hallnet.bodies type) → result


@dataclass(frozen=True)
class Handling:
    """One message type's handler and the node kinds that may send it (None: any registered node).
    The handler takes the body as its type (`hallnet.bodies.BODIES`) and trusts it; a type with no
    body type (a test's own) gets the map."""

    run: Handler
    kinds: frozenset[str] | None = None


class DuplicateType(ValueError):
    """Two handlers for one message type."""


class Handlers(Mapping[str, Handling]):
    """A table of message types to their handlers, built explicitly and handed to the hub."""

    def __init__(self, entries: Mapping[str, Handling] | None = None) -> None:
        self._table: dict[str, Handling] = dict(entries or {})

    def on(self, type_name: str, kinds: Iterable[str] | None = None) -> Callable[[Handler], Handler]:
        """Add the decorated function as the handler of `type_name` to this table."""

        def add(fn: Handler) -> Handler:
            self.add(type_name, fn, kinds)
            return fn

        return add

    def add(self, type_name: str, fn: Handler, kinds: Iterable[str] | None = None) -> None:
        if type_name in self._table:
            raise DuplicateType(f"handler for {type_name} given twice")
        self._table[type_name] = Handling(fn, None if kinds is None else frozenset(kinds))

    def __getitem__(self, type_name: str) -> Handling:
        return self._table[type_name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    @classmethod
    def merged(cls, *tables: Mapping[str, Handling]) -> Handlers:
        """One table of several; a type given twice raises DuplicateType."""
        out = cls()
        for table in tables:
            for type_name, handling in table.items():
                out.add(type_name, handling.run, handling.kinds)
        return out

    def dispatch(self, ctx: Context, type_name: str, body: dict[str, Any]) -> dict[str, Any]:
        handling = self._table.get(type_name)
        if handling is None:
            raise UnknownType(f"no handler for {type_name!r}")
        if handling.kinds is not None and ctx.node_kind not in handling.kinds:
            raise Forbidden(f"{ctx.node_kind} may not send {type_name}")
        if not isinstance(body, dict):
            raise BadRequest("body must be a map")
        try:
            as_type = typed(type_name, body)             # the edge: the body fits its type, or a named refusal
        except BadBody as exc:
            raise BadRequest(f"{type_name}: {exc}", **({"field": exc.field} if exc.field else {})) from None
        return handling.run(ctx, body if as_type is None else as_type)
