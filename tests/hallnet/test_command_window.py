"""The client's command window on a real outbox file: sends in order, resends what goes unanswered,
pauses on `busy` and resumes from the oldest, deletes acknowledged messages in groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallnet import messages as m
from hallnet.command_window import DELETE_BATCH, DELETE_EVERY_S, RESEND_SCAN_S, CommandWindow
from hallnet.outbox import Outbox


class Wire:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.full = False

    def __call__(self, frame: bytes) -> bool:
        if self.full:
            return False
        self.sent.append(m.decode(frame).id)
        return True


@pytest.fixture
def box(tmp_path: Path):
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    yield box
    box.close()


def _ok(ref: str) -> dict:
    return {"ref": ref, "ok": True, "retry": False, "result": {}}


def test_new_messages_go_out_in_order_at_most_a_window_at_once(box: Outbox) -> None:
    w = CommandWindow(box, resend_s=2.0, max_inflight=1000)
    w.window = 3
    envs = [box.put("audit.note", {"i": i}) for i in range(5)]
    wire = Wire()
    w.load()
    w.send_due(0.0, True, True, wire)
    assert wire.sent == [e.id for e in envs[:3]]
    wire.full = True                                       # the socket refuses: kept for the next turn
    assert w.answered(envs[0].id, _ok(envs[0].id), 0.1)    # (and the window grows by one)
    w.send_due(0.1, True, True, wire)
    assert wire.sent == [e.id for e in envs[:3]]
    wire.full = False
    w.send_due(0.2, True, True, wire)
    assert wire.sent == [e.id for e in envs]


def test_an_unanswered_message_is_sent_again_after_resend_s_while_connected(box: Outbox) -> None:
    w = CommandWindow(box, resend_s=1.0, max_inflight=1000)
    env = box.put("audit.note", {})
    wire = Wire()
    w.load()
    w.send_due(10.0, True, True, wire)
    w.send_due(10.9, True, True, wire)
    assert wire.sent == [env.id]
    w.send_due(11.0 + RESEND_SCAN_S, False, True, wire)   # not while the server is away
    assert wire.sent == [env.id]
    w.send_due(11.0 + 2 * RESEND_SCAN_S, True, True, wire)
    assert wire.sent == [env.id, env.id]


def test_busy_pauses_then_resends_everything_unacknowledged_from_the_oldest(box: Outbox) -> None:
    w = CommandWindow(box, resend_s=2.0, max_inflight=1000)
    envs = [box.put("audit.note", {"i": i}) for i in range(4)]
    wire = Wire()
    w.load()
    w.send_due(0.0, True, True, wire)
    assert w.answered(envs[0].id, _ok(envs[0].id), 0.01)
    busy = m.busy_body(envs[1].id, 300)
    assert not w.answered(envs[1].id, busy, 0.02)
    assert w.busy == 1 and w.next_due_s() <= 0.02 + 0.3
    w.send_due(0.1, True, True, wire)                      # paused
    assert wire.sent == [e.id for e in envs]
    w.send_due(0.33, True, True, wire)
    assert wire.sent[4:] == [e.id for e in envs[1:]]


def test_acknowledged_messages_are_deleted_in_groups(box: Outbox) -> None:
    w = CommandWindow(box, resend_s=2.0, max_inflight=1000)
    envs = [box.put("audit.note", {"i": i}) for i in range(3)]
    w.load()
    w.send_due(0.0, True, True, Wire())
    for e in envs[:2]:
        w.answered(e.id, _ok(e.id), 1.0)
    w.delete_acked(1.0)
    assert box.count() == 3 and w.pending_acks() == 2 and w.next_due_s() <= 1.0 + DELETE_EVERY_S
    w.delete_acked(1.0 + DELETE_EVERY_S)
    assert box.count() == 1 and w.acked == 2
    w.answered(envs[2].id, _ok(envs[2].id), 2.0)
    w.delete_acked(2.0, final=True)
    assert box.count() == 0 and w.acked == 3


def test_a_full_group_is_deleted_at_once(box: Outbox) -> None:
    w = CommandWindow(box, resend_s=2.0, max_inflight=1000)
    envs = box.put_many([("audit.note", {"i": i}) for i in range(DELETE_BATCH)])
    w.load()
    w.send_due(0.0, True, True, Wire())
    for e in envs:
        w.answered(e.id, _ok(e.id), 1.0)
    w.delete_acked(1.0)
    assert box.count() == 0 and w.acked == DELETE_BATCH
