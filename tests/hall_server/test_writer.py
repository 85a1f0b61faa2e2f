"""The single writer: idempotent apply, refusals recorded, failures rolled back, append-only audit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hall_server.domain.context import Context, Handlers, Handling
from hall_server.core.hub import Hub
from hallnet.messages import Envelope

from .conftest import demo_config


@pytest.fixture
def hub(tmp_path: Path):
    h = Hub(tmp_path / "hall.db", demo_config())
    yield h
    h.close()


def _note(i: int, node: str = "kiosk-1") -> Envelope:
    return Envelope(type="audit.note", node=node, seq=i, body={"kind": "t", "subject": str(i)})


def _audit_rows(hub: Hub) -> int:
    return hub.db.execute("SELECT COUNT(*) FROM audit WHERE kind = 'note.t'").fetchone()[0]


def test_a_duplicate_is_answered_not_applied_across_and_within_batches(hub: Hub) -> None:
    a, b = _note(1), _note(2)
    first = hub.apply([a, b, a])                           # a resend inside the same batch
    assert [o.ok for o in first] == [True, True, True]
    assert [o.duplicate for o in first] == [False, False, True]
    again = hub.apply([b, a])                              # resends in a later batch
    assert all(o.duplicate for o in again)
    assert again[1].result == first[0].result
    assert _audit_rows(hub) == 2


def test_a_refusal_is_recorded_and_replayed_identically(hub: Hub) -> None:
    bad = Envelope(type="audit.note", node="kiosk-1", seq=1, body={})
    first, = hub.apply([bad])
    second, = hub.apply([bad])
    assert (first.ok, first.error) == (False, "bad_request")
    assert (second.ok, second.error, second.message, second.duplicate) == (False, "bad_request", first.message, True)


def test_a_failing_handler_rolls_back_only_its_message_and_asks_for_a_retry(hub: Hub, monkeypatch) -> None:
    def half_then_crash(ctx: Context, body: dict) -> dict:
        ctx.audit("note.t", "half-written")
        ctx.publish("crash/key", 1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(hub, "handlers", Handlers.merged(hub.handlers, {"test.crash": Handling(half_then_crash)}))
    crash = Envelope(type="test.crash", node="kiosk-1", seq=5, body={})
    outcomes = hub.apply([_note(1), crash, _note(2)])
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].retry and outcomes[1].error == "internal"
    assert _audit_rows(hub) == 2                           # nothing of the crashed message stayed
    assert hub.state.get("crash/key") is None
    assert hub.db.execute("SELECT COUNT(*) FROM applied WHERE id = ?", [crash.id]).fetchone()[0] == 0


def test_audit_is_append_only(hub: Hub, tmp_path: Path) -> None:
    hub.apply([_note(1)])
    db = sqlite3.connect(tmp_path / "hall.db")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit SET kind = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit")


def test_state_survives_a_restart_with_its_sequence(tmp_path: Path) -> None:
    hub = Hub(tmp_path / "hall.db", demo_config())
    hub.apply([_note(i) for i in range(1, 6)])
    seq, values = hub.state.snapshot()
    hub.close()
    again = Hub(tmp_path / "hall.db", demo_config())
    assert again.state.snapshot() == (seq, values)
    assert values["notes/kiosk-1"]["count"] == 5
    again.close()


def test_migrations_are_recorded_and_not_applied_twice(tmp_path: Path) -> None:
    from hall_server.core.migrations import HALL
    from hall_server.core.store import applied_numbers, migrate, open_store

    db = open_store(tmp_path / "hall.db", HALL)
    numbers = applied_numbers(db)
    assert numbers[0] == 1 and numbers == sorted(set(numbers))
    assert migrate(db, HALL) == []
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
