"""The single writer: applies a batch of messages in one transaction (group commit).

For each message, in order:
  - an id already in `applied` → the stored reply again, nothing re-applied (idempotent);
  - else the handler runs inside a savepoint; a refusal (DomainError) is recorded like a
    success; an unexpected exception rolls that message back and asks the sender to retry;
  - state deltas are written to `state` with the next hall sequence number.
Then one COMMIT for the whole batch. The caller sends replies and deltas only after this returns:
commit before acknowledge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import msgpack
import sqlite_utils

from config.schema import HallConfig
from hall_server import handlers
from hall_server.state import StateMap
from hallnet.messages import Envelope, now_ms

log = logging.getLogger(__name__)


@dataclass
class Applied:
    env: Envelope
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    message: str = ""
    retry: bool = False
    duplicate: bool = False

    def reply_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ref": self.env.id, "ok": self.ok, "retry": self.retry}
        if self.ok:
            body["result"] = self.result
        else:
            body["error"] = self.error
            body["message"] = self.message
        return body


def _stored(row: tuple) -> tuple[bool, dict[str, Any]]:
    ok, blob = row
    return bool(ok), msgpack.unpackb(blob, raw=False)


def apply_batch(
    db: sqlite_utils.Database,
    state: StateMap,
    config: HallConfig | None,
    batch: list[Envelope],
    at_ms: int | None = None,
) -> tuple[list[Applied], list[tuple[int, str, Any]]]:
    """Apply `batch` in one transaction. Returns the outcome per message and the deltas (seq, key, value).

    `at_ms` overrides the server time of this apply (tests drive time with it); default: now.
    A refusal whose class has `keep_writes = True` (e.g. a wrong PIN, which must count toward the
    lock-out) keeps the handler's writes and deltas; any other refusal rolls them back.
    """
    outcomes: list[Applied] = []
    pending: list[tuple[str, Any]] = []
    at_ms = now_ms() if at_ms is None else at_ms
    with db.atomic():
        for env in batch:
            row = db.execute("SELECT ok, result FROM applied WHERE id = ?", [env.id]).fetchone()
            if row is not None:
                ok, stored = _stored(row)
                outcomes.append(_from_stored(env, ok, stored))
                continue
            ctx = handlers.Context(db=db, config=config, node=env.node, now_ms=at_ms, msg_id=env.id)
            try:
                with db.atomic():  # savepoint: this message alone
                    try:
                        result = handlers.dispatch(ctx, env.type, env.body)
                        outcome = Applied(env, ok=True, result=result)
                    except handlers.DomainError as kept:
                        if not getattr(kept, "keep_writes", False):
                            raise
                        outcome = Applied(env, ok=False, error=kept.code, message=kept.message)
                    _record(db, env, at_ms, outcome)
            except handlers.DomainError as exc:
                ctx.deltas.clear()
                outcome = Applied(env, ok=False, error=exc.code, message=exc.message)
                _record(db, env, at_ms, outcome)
            except Exception:  # a bug, or the disk: not applied, the sender keeps it and retries
                log.exception("applying %s %s from %s failed", env.type, env.id, env.node)
                outcomes.append(Applied(env, ok=False, error="internal", message="internal error", retry=True))
                continue
            outcomes.append(outcome)
            pending.extend(ctx.deltas)
        deltas = state.write(db, pending)
    state.commit(deltas)  # after COMMIT: memory follows disk
    return outcomes, deltas


def _record(db: sqlite_utils.Database, env: Envelope, at_ms: int, outcome: Applied) -> None:
    stored = outcome.result if outcome.ok else {"error": outcome.error, "message": outcome.message}
    db.execute(
        "INSERT INTO applied (id, node, seq, type, sent_ms, applied_ms, ok, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [env.id, env.node, env.seq, env.type, env.ts_ms, at_ms, int(outcome.ok),
         msgpack.packb(stored, use_bin_type=True)],
    )


def _from_stored(env: Envelope, ok: bool, stored: dict[str, Any]) -> Applied:
    if ok:
        return Applied(env, ok=True, result=stored, duplicate=True)
    return Applied(env, ok=False, error=stored.get("error", ""), message=stored.get("message", ""), duplicate=True)
