"""Per-node quotas with backpressure on a real Bus thread: a flood is refused `busy` and not stored;
an honest node over its quota loses nothing and keeps its order; hall.toml [bus] is checked."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import zmq

from config.errors import ConfigError
from config.loader import load_hall
from config.schema import BusLimits
from hall_server.transport.bus import Bus
from hall_server.core.hub import Hub
from hall_server.transport.quotas import NodeQuota, Rate
from hallnet import messages as m
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key, server_keys
from tests.conftest import DEMO_HALL, wait_until
from tests.hall_server.conftest import demo_config

LIMITS = BusLimits(node_messages_per_s=200, node_burst=100, gateway_messages_per_s=400, gateway_burst=200)


@pytest.fixture
def hall(tmp_path: Path):
    hub = Hub(tmp_path / "hall.db", demo_config())
    bus = Bus(hub, f"ipc://{tmp_path}/bus", server_keys(tmp_path), tmp_path / "keys" / "nodes",
              heartbeat_s=0.2, silence_s=1.0, limits=LIMITS).start()
    yield tmp_path, hub, bus
    bus.stop()
    hub.close()


def _notes(hub: Hub, kind: str) -> list[str]:
    return [r[0] for r in hub.db.execute("SELECT subject FROM audit WHERE kind = ? ORDER BY id", [f"note.{kind}"])]


def test_a_flooding_node_gets_busy_and_only_its_quota_is_stored(hall) -> None:
    root, hub, bus = hall
    keys = load_node_keys(new_node_key(root, "kiosk-6"), "kiosk-6")
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.curve_secretkey, s.curve_publickey, s.curve_serverkey = keys.node.secret, keys.node.public, keys.server_public
    s.linger = 0
    s.connect(f"ipc://{root}/bus")
    sent = busy = 0
    retry_after: set[int] = set()
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 3.0:            # as fast as it can, reading what comes back
            for _ in range(200):
                frame = m.encode(m.Envelope(type="audit.note", node="kiosk-6", seq=sent + 1,
                                            body={"kind": "flood", "subject": str(sent + 1)}))
                try:
                    s.send(frame, zmq.NOBLOCK)
                except zmq.Again:                     # its own queue is full: the server reads no faster
                    break
                sent += 1
            while s.poll(0):
                env = m.decode(s.recv())
                if env.type == m.REPLY and env.body.get("error") == m.E_BUSY:
                    busy += 1
                    retry_after.add(env.body["retry_after_ms"])
        elapsed = time.monotonic() - t0
    finally:
        s.close()
        ctx.term()
    time.sleep(0.5)
    stored = len(_notes(hub, "flood"))
    print(f"\nflood: sent {sent} in {elapsed:.1f} s, stored {stored}, busy answers {busy}")
    assert sent > 5 * (LIMITS.node_burst + LIMITS.node_messages_per_s * elapsed)
    assert stored <= LIMITS.node_burst + LIMITS.node_messages_per_s * (elapsed + 1)
    assert busy > 0 and all(ms > 0 for ms in retry_after)
    assert bus.counters["busy"] >= busy
    assert _notes(hub, "flood") == [str(i) for i in range(1, stored + 1)], "what is stored is a prefix, in order"


def test_an_honest_node_over_quota_loses_nothing_and_keeps_its_order(hall) -> None:
    root, hub, bus = hall
    keys = new_node_key(root, "kiosk-1")
    c = HallClient("kiosk-1", f"ipc://{root}/bus", load_node_keys(keys, "kiosk-1"), root / "kiosk-1.db",
                   heartbeat_s=0.2, silence_s=1.0, outbox_sync="OFF").start()
    try:
        c.send_many([("audit.note", {"kind": "q", "subject": str(i)}) for i in range(800)])
        assert wait_until(lambda: c.pending_count() == 0, 40)
        assert c.busy > 0, "the quota was hit"
    finally:
        c.stop()
    assert _notes(hub, "q") == [str(i) for i in range(800)]


def test_a_refused_message_holds_the_later_ones_until_it_comes_back() -> None:
    q = NodeQuota(Rate(per_s=10, burst=2), now_s=0.0)
    assert q.admit(1, 1, 0.0) == 0 and q.admit(2, 1, 0.0) == 0
    wait_ms = q.admit(3, 1, 0.0)
    assert wait_ms >= 200
    assert q.admit(4, 1, 5.0) > 0, "4 may not overtake the refused 3"
    assert q.admit(3, 1, 5.0) == 0 and q.admit(4, 1, 5.0) == 0
    assert q.admit(5, 1, 5.0) > 0 and q.hold_seq == 5          # the bucket is empty again
    assert q.admit(2, 1, 5.01) > 0 and q.hold_seq == 5, "a resent, already stored message moves no hold"


def test_a_hold_on_a_message_already_stored_expires_even_while_later_ones_keep_coming() -> None:
    q = NodeQuota(Rate(per_s=20, burst=1), now_s=0.0)
    assert q.admit(6, 1, 0.0) == 0
    assert q.admit(6, 1, 0.0) > 0 and q.hold_seq == 6      # a resend of 6, whose first copy is stored
    t = 0.0
    while q.admit(7, 1, t) and t < 30:                     # the node never resends 6: it had its answer
        t += 0.25
    assert 5.0 <= t <= 6.0 and q.hold_seq is None


def test_bus_limits_are_read_from_hall_toml_with_precise_errors(tmp_path: Path) -> None:
    hall = tmp_path / "hall"
    shutil.copytree(DEMO_HALL, hall)
    toml = hall / "hall.toml"
    base = toml.read_text("utf-8")
    toml.write_text(base + "\n[bus]\nnode_messages_per_s = 5\ngateway_burst = 100\n", "utf-8")
    limits = load_hall(hall).hall.bus
    assert (limits.node_messages_per_s, limits.gateway_burst, limits.node_burst) == (5, 100, 600)
    toml.write_text(base + "\n[bus]\nnode_burst = 0\nsnapshot_interval_ms = \"1s\"\nspeed = 3\n", "utf-8")
    with pytest.raises(ConfigError) as err:
        load_hall(hall)
    text = str(err.value)
    assert "hall.toml: bus.node_burst: must be between 1 and 1000000, got 0" in text
    assert "hall.toml: bus.snapshot_interval_ms:" in text
    assert "hall.toml: bus.speed:" in text
