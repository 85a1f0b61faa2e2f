"""Clone pattern: a late joiner and a node that missed deltas both converge to the server's state."""

from __future__ import annotations

from pathlib import Path

import pytest

from hall_server.transport.bus import Bus
from hall_server.domain.context import Context, DomainError, Handlers, Handling
from hall_server.core.hub import Hub
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key, server_keys
from tests.conftest import wait_until
from tests.hall_server.conftest import demo_config




@pytest.fixture
def hall(tmp_path: Path):
    hub = Hub(tmp_path / "hall.db", demo_config())
    bus = Bus(hub, f"ipc://{tmp_path}/bus", server_keys(tmp_path), tmp_path / "keys" / "nodes",
              heartbeat_s=0.2, silence_s=1.0).start()
    yield tmp_path, hub, bus
    bus.stop()
    hub.close()


def _client(root: Path, node: str, **kw) -> HallClient:
    keys = new_node_key(root, node)
    return HallClient(node, f"ipc://{root}/bus", load_node_keys(keys, node), root / f"{node}.db",
                      heartbeat_s=0.2, silence_s=1.0, **kw).start()


def test_a_late_joiner_converges(hall) -> None:
    root, hub, bus = hall
    writer = _client(root, "kiosk-1")
    for i in range(300):
        writer.send("node.report", {"devices": {f"dev-{i % 40}": {"online": i % 3 != 0, "i": i}}})
    assert wait_until(lambda: writer.pending_count() == 0)
    late = _client(root, "kiosk-2")
    try:
        assert wait_until(lambda: late.seq == hub.state.seq and late.state() == hub.state.snapshot()[1])
        seen = []
        late.on_change = lambda k, v: seen.append(k)
        writer.send("node.report", {"devices": {"dev-1": {"online": False, "i": -1}}})
        assert wait_until(lambda: late.get("device/kiosk-1/dev-1") == {"online": False, "i": -1})
        assert "device/kiosk-1/dev-1" in seen
    finally:
        writer.stop()
        late.stop()


def test_a_node_that_missed_deltas_converges(hall) -> None:
    root, hub, bus = hall
    watcher = _client(root, "kiosk-2")
    writer = _client(root, "kiosk-1")
    try:
        assert wait_until(lambda: watcher.seq >= 0)
        # the network loses the next published frames: the watcher sees a gap or a heartbeat ahead
        real = bus._publish_deltas
        lost = []
        bus._publish_deltas = lambda deltas: lost.append(deltas)
        hub.delta_sinks[:] = [bus._publish_deltas]
        for i in range(20):
            assert writer.call("node.report", {"devices": {"printer": {"online": bool(i % 2), "i": i}}})["ok"]
        bus._publish_deltas = real
        hub.delta_sinks[:] = [real]
        assert lost, "the frames were really dropped"
        writer.send("node.report", {"devices": {"keypad": {"online": True}}})
        assert wait_until(lambda: watcher.seq == hub.state.seq and watcher.state() == hub.state.snapshot()[1])
        assert watcher.get("device/kiosk-1/printer") == {"online": True, "i": 19}
    finally:
        writer.stop()
        watcher.stop()


def test_silence_is_noticed_and_the_node_reconnects(hall, tmp_path: Path) -> None:
    root, hub, bus = hall
    states: list[bool] = []
    c = _client(root, "kiosk-3", on_connection=states.append)
    try:
        assert wait_until(lambda: c.connected)
        bus.stop()
        assert wait_until(lambda: not c.connected, 5)
        c.send("audit.note", {"kind": "offline"})      # durable while the server is away
        bus2 = Bus(hub, f"ipc://{root}/bus", server_keys(root), root / "keys" / "nodes",
                   heartbeat_s=0.2, silence_s=1.0).start()
        try:
            assert wait_until(lambda: c.connected and c.pending_count() == 0)
            assert states[:3] == [True, False, True]
        finally:
            bus2.stop()
    finally:
        c.stop()


def test_private_keys_stay_on_the_server_and_leave_no_gap(hall, monkeypatch) -> None:
    root, hub, bus = hall

    def secret(ctx: Context, body: dict) -> dict:
        ctx.publish("mgr/bad_today", body["n"])
        ctx.publish("public/n", body["n"])
        return {}

    monkeypatch.setattr(hub, "handlers", Handlers.merged(hub.handlers, {"test.secret": Handling(secret)}))
    watcher = _client(root, "kiosk-2")
    writer = _client(root, "kiosk-1")
    try:
        for n in range(3):
            assert writer.call("test.secret", {"n": n})["ok"]
        assert wait_until(lambda: watcher.get("public/n") == 2 and watcher.seq == hub.state.seq)
        assert hub.state.get("mgr/bad_today") == 2
        assert not any(k.startswith("mgr/") for k in watcher.state())
        late = _client(root, "kiosk-3")                    # a snapshot does not carry it either
        assert wait_until(lambda: late.seq == hub.state.seq)
        assert late.get("public/n") == 2 and not any(k.startswith("mgr/") for k in late.state())
        late.stop()
    finally:
        writer.stop()
        watcher.stop()


def test_refusal_details_reach_the_node(hall, monkeypatch) -> None:
    root, hub, bus = hall

    def refuse(ctx: Context, body: dict) -> dict:
        raise DomainError("no", tries_left=3)

    monkeypatch.setattr(hub, "handlers", Handlers.merged(hub.handlers, {"test.refuse": Handling(refuse)}))
    c = _client(root, "kiosk-1")
    try:
        answer = c.call("test.refuse", {})
        assert (answer["ok"], answer["details"]) == (False, {"tries_left": 3})
    finally:
        c.stop()
