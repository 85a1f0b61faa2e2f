"""The single writer: applies a batch of messages in one transaction (group commit).

For each message, in order:
  - a (node, id) already in `applied` → the stored reply again, nothing re-applied (idempotent);
    the same id from another node is another message;
  - a body that is not plain JSON-able data (`hall_server.core.plain`) is refused as `bad_request`
    and recorded: permanent, the sender drops it;
  - else the handler runs inside a savepoint; a refusal (DomainError) is recorded like a
    success; an unexpected exception rolls that message back and asks the sender to retry;
  - a storage fault (disk full, read-only) aborts the whole batch: `StorageFault` is raised,
    nothing of the batch is stored or acknowledged;
  - once every message ran, the batch's summaries (`refresh`, the hub gives the floor's
    `refresh_floor`) are recomputed once, in the same transaction, if a message whose writes were
    kept said it may have changed them (`Context.floor_dirty`): never for a batch that changed nothing;
  - state deltas are written to `state` with the next hall sequence number;
  - a reply is kept in `applied` without any rating link (`hall_server.domain.token_replies`),
    which a resend gets back rebuilt from the 办件's row and the hall secret.
Then one COMMIT for the whole batch. The caller sends replies and deltas only after this returns:
commit before acknowledge.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable

import msgpack
import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.context import BadRequest, Context, DomainError, Handlers
from hall_server.domain import token_replies
from hall_server.core.plain import NotPlain, check_plain
from hall_server.core.state import StateMap
from hall_server.core.store import storage_fault
from hallnet.messages import Envelope, now_ms
from hallnet.vocabulary import reply_body

log = logging.getLogger(__name__)

BATCH_NODE = "system"       # the sender the batch's own context (the summaries' refresh) names

Refresh = Callable[[Context], object]   # republishes summaries from the store (`ctx.publish`), once per batch


@dataclass
class Applied:
    env: Envelope
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    message: str = ""
    retry: bool = False
    duplicate: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def reply_body(self) -> dict[str, Any]:
        return reply_body(self.env.id, ok=self.ok, result=self.result, error=self.error, message=self.message,
                          retry=self.retry, details=self.details)



def apply_batch(
    db: sqlite_utils.Database,
    state: StateMap,
    config: HallConfig,
    handlers: Handlers,
    batch: list[Envelope],
    at_ms: int | None = None,
    secret: bytes = b"",
    on_config: Callable[[HallConfig], None] | None = None,
    refresh: Refresh | None = None,
) -> tuple[list[Applied], list[tuple[int, str, Any]]]:
    """Apply `batch` in one transaction. Returns the outcome per message and the deltas (seq, key, value).

    `at_ms` overrides the server time of this apply (tests drive time with it); default: now.
    `secret` is the hall secret handlers sign QR links with (`Context.secret`).
    A refusal whose class has `keep_writes = True` (e.g. a wrong PIN, which must count toward the
    lock-out) keeps the handler's writes and deltas; any other refusal rolls them back.
    A handler that changed the hall's configuration (`ctx.new_config`, an admin change) hands the
    new `HallConfig` to the later messages of the batch, and to `on_config` once the batch is
    committed (never for a batch that rolled back).
    `refresh` runs once after the batch's messages, inside the transaction and under the batch's last
    configuration, when one of the messages whose writes were kept set `ctx.floor_dirty`; what it
    publishes is numbered with the batch's deltas.
    """
    swapped: HallConfig | None = None
    outcomes: list[Applied] = []
    pending: list[tuple[str, Any]] = []
    dirty = False                                        # a kept message may have changed the summaries
    at_ms = now_ms() if at_ms is None else at_ms
    conn = db.conn
    with db.atomic():
        done: dict[tuple[str, str], Applied] = _already_applied(
            conn, batch, lambda stored: token_replies.restore(db, config, secret, stored))
        for env in batch:
            earlier = done.get((env.node, env.id))
            if earlier is not None:                      # applied before, or earlier in this batch
                outcomes.append(_duplicate_of(env, earlier))
                continue
            ctx = Context(db=db, config=config, node=env.node, now_ms=at_ms, msg_id=env.id,
                                   batch_deltas=pending, secret=secret)
            conn.execute("SAVEPOINT msg")                # this message alone
            try:
                try:
                    _check_storable(env)
                    result = handlers.dispatch(ctx, env.type, env.body)
                    outcome = Applied(env, ok=True, result=result)
                except DomainError as kept:
                    if not getattr(kept, "keep_writes", False):
                        raise
                    outcome = Applied(env, ok=False, error=kept.code, message=kept.message, details=kept.details)
                _record(conn, env, at_ms, outcome)
                conn.execute("RELEASE msg")
            except DomainError as exc:
                _rollback_to(conn)
                ctx.deltas.clear()
                ctx.floor_dirty = False                  # its writes are gone
                outcome = Applied(env, ok=False, error=exc.code, message=exc.message, details=exc.details)
                _record(conn, env, at_ms, outcome)
            except Exception as exc:  # a bug: not applied, the sender keeps it and retries
                if storage_fault(exc) is not None:
                    raise                                # the disk: the whole batch rolls back
                _rollback_to(conn)
                log.exception("applying %s %s from %s failed", env.type, env.id, env.node)
                outcomes.append(Applied(env, ok=False, error="internal", message="internal error", retry=True))
                continue
            if outcome.ok and ctx.new_config is not None:
                config = swapped = ctx.new_config        # later messages of the batch see the change
            done[(env.node, env.id)] = outcome
            outcomes.append(outcome)
            pending.extend(ctx.deltas)
            dirty = dirty or ctx.floor_dirty
        if dirty and refresh is not None:
            batch_ctx = Context(db=db, config=config, node=BATCH_NODE, now_ms=at_ms, msg_id="", batch_deltas=pending,
                                secret=secret)
            refresh(batch_ctx)
            pending.extend(batch_ctx.deltas)
        deltas = state.write(db, pending)
    state.commit(deltas)  # after COMMIT: memory follows disk
    if swapped is not None and on_config is not None:
        on_config(swapped)
    return outcomes, deltas


def _rollback_to(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK TO msg")
        conn.execute("RELEASE msg")


def _check_storable(env: Envelope) -> None:
    try:
        check_plain(env.body)
    except NotPlain as exc:
        raise BadRequest(f"body cannot be stored: {exc}"[:300], field=exc.path) from None


def _already_applied(conn: sqlite3.Connection, batch: list[Envelope],
                     restore: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[tuple[str, str], Applied]:
    """The stored outcomes of the batch's (node, id) pairs applied before (one query per 500 ids);
    `restore` gives a stored result back its rating link (`token_replies`)."""
    ids = list({env.id for env in batch})
    found: dict[tuple[str, str], Applied] = {}
    by_key = {(env.node, env.id): env for env in batch}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for node, msg_id, ok, blob in conn.execute(
                f"SELECT node, id, ok, result FROM applied WHERE id IN ({marks})", chunk):
            env = by_key.get((node, msg_id))
            if env is not None:                          # the same id from another node is not a resend
                stored = msgpack.unpackb(blob, raw=False)
                found[(node, msg_id)] = _from_stored(env, bool(ok), restore(stored) if ok else stored)
    return found


def _duplicate_of(env: Envelope, earlier: Applied) -> Applied:
    return Applied(env, ok=earlier.ok, result=earlier.result, error=earlier.error, message=earlier.message,
                   details=earlier.details, duplicate=True)


def _record(conn: sqlite3.Connection, env: Envelope, at_ms: int, outcome: Applied) -> None:
    # a reply is kept without any rating link (rebuilt on a resend: hall_server.domain.token_replies)
    stored = token_replies.redact(outcome.result) if outcome.ok else {
        "error": outcome.error, "message": outcome.message, "details": outcome.details}
    conn.execute(
        "INSERT INTO applied (id, node, seq, type, sent_ms, applied_ms, ok, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [env.id, env.node, env.seq, env.type, env.ts_ms, at_ms, int(outcome.ok),
         msgpack.packb(stored, use_bin_type=True)],
    )


def _from_stored(env: Envelope, ok: bool, stored: dict[str, Any]) -> Applied:
    if ok:
        return Applied(env, ok=True, result=stored, duplicate=True)
    return Applied(env, ok=False, error=stored.get("error", ""), message=stored.get("message", ""),
                   details=stored.get("details") or {}, duplicate=True)
