"""The gateway end to end: a real bus, a real window finishing a 办件, a simulated keypad bus on a pty."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from config.loader import load_hall
from devices.gateway import Gateway
from devices.keypad.simulator import KeypadSimulator
from hall_server.transport.bus import Bus
from hall_server.core.hub import Hub
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key, server_keys
from tests.conftest import DEMO_HALL, wait_until




@pytest.fixture
def hall(tmp_path: Path):
    config = load_hall(DEMO_HALL)
    hub = Hub(tmp_path / "hall.db", config)
    bus = Bus(hub, f"ipc://{tmp_path}/bus", server_keys(tmp_path), tmp_path / "keys" / "nodes",
              heartbeat_s=0.2, silence_s=1.0).start()
    clients: list[HallClient] = []

    def client(node: str, **kw) -> HallClient:
        keys = new_node_key(tmp_path, node)
        c = HallClient(node, f"ipc://{tmp_path}/bus", load_node_keys(keys, node), tmp_path / f"{node}.db",
                       heartbeat_s=0.2, silence_s=1.0, **kw)
        clients.append(c)
        return c

    yield config, hub, client
    for c in clients:
        c.stop()
    bus.stop()
    hub.close()


def _finish_a_job(client, window: int = 1) -> str:
    terminal = client(f"terminal-{window}").start()
    dispenser = client("dispenser-1").start()
    assert terminal.call("window.sign_in", {"staff_no": "HC2101", "pin": "1234"}, timeout_s=10)["ok"]
    category = "H"
    assert dispenser.call("queue.take", {"category": category}, timeout_s=10)["ok"]
    assert terminal.call("queue.call_next", {}, timeout_s=10)["ok"]
    assert terminal.call("job.start", {}, timeout_s=10)["ok"]
    finished = terminal.call("job.finish", {"service_code": _service_in(category)}, timeout_s=10)
    assert finished["ok"], finished
    return finished["result"]["job"]


def _service_in(category: str) -> str:
    config = load_hall(DEMO_HALL)
    return next(s.code for s in config.services if s.category == category)


def test_a_keypad_press_becomes_the_rating_of_that_job(hall, tmp_path: Path) -> None:
    config, hub, client = hall
    assert config.window(1).keypad is not None and "H" in config.window(1).categories
    with KeypadSimulator(range(1, 9), seed=7, reply_delay_ms=(1, 3)) as sim:
        gw = Gateway(config, client("gateway-1"), {"sim://keypad": sim.path},
                     session_options={"reply_timeout_s": 0.1}).start()
        try:
            job = _finish_a_job(client)
            assert wait_until(lambda: sim.view(1).open_handle is not None), "the rating opened on window 1's keypad"
            view = sim.view(1)
            assert view.staff is not None and view.staff.name == config.staff_member("HC2101").name
            assert sim.press(1, 4)
            assert wait_until(lambda: hub.reader().execute(
                "SELECT COUNT(*) FROM ratings WHERE channel = 5").fetchone()[0] == 1)
            row = hub.reader().execute(
                "SELECT j.pub, r.level FROM ratings r JOIN jobs j ON j.id = r.job_id WHERE r.channel = 5").fetchone()
            assert row == (job, 4)
            assert wait_until(lambda: not sim.view(1).open_handle is not None and sim.view(1).pending == 0)
            assert not sim.press(1, 2), "a second press of the same rating does nothing"
            assert wait_until(lambda: hub.state.get("device/gateway-1/keypad-1", {}).get("online") is True)
        finally:
            gw.stop()


def test_a_keypad_unplugged_and_plugged_back_is_picked_up(hall, tmp_path: Path) -> None:
    config, hub, client = hall
    link = tmp_path / "ttyUSB0"                       # the device path the config names
    first = KeypadSimulator(range(1, 9), seed=1, reply_delay_ms=(1, 3))
    os.symlink(first.start(), link)
    gw = Gateway(config, client("gateway-1"), {"sim://keypad": str(link)},
                 session_options={"reply_timeout_s": 0.1, "reprobe_s": 0.3}).start()
    try:
        assert wait_until(lambda: hub.state.get("device/gateway-1/keypad-2", {}).get("online") is True)
        first.stop()                                   # unplugged
        link.unlink()
        assert wait_until(lambda: hub.state.get("device/gateway-1/keypad-2", {}).get("online") is False, 15)
        with KeypadSimulator(range(1, 9), seed=2, reply_delay_ms=(1, 3)) as second:
            os.symlink(second.path, link)              # plugged back (a new pty behind the same name)
            assert wait_until(lambda: hub.state.get("device/gateway-1/keypad-2", {}).get("online") is True, 15)
            job = _finish_a_job(client)
            assert wait_until(lambda: second.view(1).open_handle is not None)
            assert second.press(1, 5)
            assert wait_until(lambda: hub.reader().execute(
                "SELECT COUNT(*) FROM ratings r JOIN jobs j ON j.id = r.job_id WHERE j.pub = ? AND r.channel = 5",
                [job]).fetchone()[0] == 1)
    finally:
        gw.stop()


def test_a_press_is_stamped_with_when_it_was_pressed_on_the_hall_clock() -> None:
    """A press that reaches the gateway late (noisy bus, keypad offline a while, newer ratings
    opened since) still carries the moment it was pressed: the rating's opening + the device's
    elapsed time, on the hall's (demo) clock — so the hall server counts it if it was in time."""
    from devices.keypad.codec import Event, EventKind
    from hallnet.clock import Clock

    class Outbox:
        on_change = None

        def __init__(self) -> None:
            self.sent: list[tuple[str, dict]] = []

        def send(self, type_: str, body: dict) -> None:
            self.sent.append((type_, body))

        def stop(self) -> None:
            pass

    wall = [1_000.0]
    clock = Clock(start_ms=1_795_395_600_000, anchor_s=990.0, speed=300.0)
    outbox = Outbox()
    gateway = Gateway(load_hall(DEMO_HALL), outbox, {"sim://keypad": "loop://"}, clock=clock,  # type: ignore[arg-type]
                      wall_s=lambda: wall[0])
    try:
        gateway._on_change("rating/3", {"handle": 42, "job": "j42"})
        wall[0] = 1_003.0
        gateway._on_change("rating/3", {"handle": 43, "job": "j43"})      # the next 办件 opened meanwhile
        wall[0] = 1_030.0                                                 # the press arrives 30 s late
        gateway._on_event("loop://", 3, Event(7, EventKind.PRESS, 42, 4, 25))
        gateway._on_event("loop://", 3, Event(8, EventKind.PRESS, 99, 5, 10))  # an opening it never saw
    finally:
        gateway.stop()
    (t1, late), (_, unknown) = outbox.sent
    assert t1 == "rating.submit"
    assert late == {"window": 3, "handle": 42, "level": 4, "pressed_ms": clock.at(1_002.5)}
    assert unknown["pressed_ms"] == clock.at(1_030.0)                     # no better knowledge: now


def test_a_short_silence_is_not_reported_but_a_lasting_one_is(hall) -> None:
    config, hub, client = hall
    with KeypadSimulator(range(1, 9), seed=3, reply_delay_ms=(1, 3)) as sim:
        gw = Gateway(config, client("gateway-1"), {"sim://keypad": sim.path}, offline_after_s=1.0,
                     session_options={"reply_timeout_s": 0.05, "reprobe_s": 0.5}).start()
        try:
            key = "device/gateway-1/keypad-4"

            def offline_reports() -> int:
                return hub.reader().execute(
                    "SELECT COUNT(*) FROM audit WHERE kind = 'device.offline' AND subject = 'keypad-4'").fetchone()[0]

            assert wait_until(lambda: hub.state.get(key, {}).get("online") is True)
            sim.set_silent(4, True)                   # a burst of noise: a few replies lost
            time.sleep(0.4)
            sim.set_silent(4, False)
            time.sleep(1.5)
            assert offline_reports() == 0 and hub.state.get(key)["online"] is True
            sim.set_silent(4, True)                   # unplugged for good
            assert wait_until(lambda: hub.state.get(key, {}).get("online") is False, 10)
            assert offline_reports() == 1
        finally:
            gw.stop()
