"""The session and the simulator over a real pty, each in its own thread, as in the demo.

Timing is scaled down where the simulator allows (replies 1–3 ms instead of 5–40 ms), so the
session's reply timeout is shortened to match; everything else is the real thing.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

import pytest
import serial

from devices.keypad.codec import Event, EventKind, Mode, ShowStaff
from devices.keypad.session import KeypadSession, KeypadState
from devices.keypad.simulator import KeypadSimulator

RARE_NAME, RARE_DEPT = "王𬀩", "𠇔乡镇便民服务中心"


def wait_until(done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline_s:
            raise AssertionError("timed out waiting")
        time.sleep(0.003)


class Rig:
    """A simulator on a pty and a session on its slave end, running in threads."""

    def __init__(self, addresses: range, *, noise: float = 0.0, seed: int = 1, **session_kwargs: object) -> None:
        self.sim = KeypadSimulator(addresses, seed=seed, noise=noise, reply_delay_ms=(1.0, 3.0))
        self.sim.start()
        self.port = serial.serial_for_url(self.sim.path, baudrate=9600)
        self._lock = threading.Lock()
        self.events: list[tuple[int, Event]] = []
        self.online: list[tuple[int, bool]] = []
        self.accepting = True
        kwargs = dict(reply_timeout_s=0.04, reprobe_s=0.2, event_retry_s=0.05)
        kwargs.update(session_kwargs)
        self.session = KeypadSession(self.port, addresses, on_event=self._on_event,
                                     on_online=self._on_online, **kwargs)  # type: ignore[arg-type]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.session.run_forever, args=(self._stop,), daemon=True)
        self._thread.start()

    def _on_event(self, addr: int, event: Event) -> bool:
        if not self.accepting:
            return False
        with self._lock:
            self.events.append((addr, event))
        return True

    def _on_online(self, addr: int, up: bool) -> None:
        with self._lock:
            self.online.append((addr, up))

    def delivered(self) -> list[tuple[int, Event]]:
        with self._lock:
            return list(self.events)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.port.close()
        self.sim.stop()


@pytest.fixture
def rigs() -> Iterator[list[Rig]]:
    made: list[Rig] = []
    yield made
    for rig in made:
        rig.close()


def test_noisy_bus_of_16_with_a_reboot_mid_rating_delivers_every_press_exactly_once(rigs: list[Rig]) -> None:
    rig = Rig(range(1, 17), noise=0.01, seed=20251122)
    rigs.append(rig)
    sim, session = rig.sim, rig.session
    wait_until(lambda: all(session.state(a).online for a in range(1, 17)))
    expected: dict[tuple[int, int], int] = {}
    handle = 0x1000
    for round_no in range(2):
        handles = {}
        for addr in range(1, 17):
            handle += 1
            handles[addr] = handle
            session.show_staff(addr, f"W{addr:02d}", 4, RARE_NAME, RARE_DEPT)
            session.start_rating(addr, handle, 60, voice=True)
        wait_until(lambda: all(sim.view(a).open_handle == handles[a] for a in range(1, 17)))
        if round_no == 1:
            sim.reboot(9)                                 # power cut while its rating is open
            assert sim.view(9).open_handle is None
            wait_until(lambda: sim.view(9).open_handle == handles[9])   # the session re-opened it
            assert sim.view(9).staff == ShowStaff("W09", 4, RARE_NAME, RARE_DEPT)
        for addr in range(1, 17):
            level = (addr * 3 + round_no) % 5 + 1
            assert sim.press(addr, level), f"keypad {addr} had no open rating"
            assert sim.press(addr, 5) is False            # a second press does nothing
            expected[(addr, handles[addr])] = level
        wait_until(lambda: len(rig.delivered()) >= len(expected))
    wait_until(lambda: all(v.pending == 0 for v in sim.views().values()))
    time.sleep(0.2)                                        # any duplicate would show up now
    delivered = rig.delivered()
    assert sorted((a, e.handle) for a, e in delivered) == sorted(expected)
    assert {(a, e.handle): e.level for a, e in delivered} == expected
    assert all(e.kind == EventKind.PRESS for _, e in delivered)
    assert sim.bus.bytes_corrupted > 0


def test_silent_device_goes_offline_and_comes_back(rigs: list[Rig]) -> None:
    rig = Rig(range(1, 4))
    rigs.append(rig)
    wait_until(lambda: all(rig.session.state(a) is KeypadState.READY for a in (1, 2, 3)))
    rig.sim.set_silent(2, True)
    wait_until(lambda: rig.session.state(2) is KeypadState.OFFLINE)
    rig.session.set_mode(2, Mode.PAUSED)
    rig.sim.set_silent(2, False)
    wait_until(lambda: rig.session.state(2) is KeypadState.READY)
    assert rig.sim.view(2).mode == Mode.PAUSED
    assert [e for e in rig.online if e[0] == 2] == [(2, True), (2, False), (2, True)]
    assert all(rig.session.state(a) is KeypadState.READY for a in (1, 3))


def test_slow_device_beyond_the_reply_timeout_goes_offline(rigs: list[Rig]) -> None:
    rig = Rig(range(1, 3))
    rigs.append(rig)
    wait_until(lambda: rig.session.state(2) is KeypadState.READY)
    # 500 ms: later than all three 40 ms tries. (A reply late by less than the three tries
    # together is still taken: it answers the identical, repeated request.)
    rig.sim.set_slow(2, 500)
    wait_until(lambda: rig.session.state(2) is KeypadState.OFFLINE)
    rig.sim.set_slow(2, 0)
    wait_until(lambda: rig.session.state(2) is KeypadState.READY)


def test_buffer_full_is_drained_then_the_rating_opens(rigs: list[Rig]) -> None:
    rig = Rig(range(1, 2))
    rigs.append(rig)
    wait_until(lambda: rig.session.state(1) is KeypadState.READY)
    rig.accepting = False                                  # hall server unreachable
    for handle in range(1, 33):
        rig.session.start_rating(1, handle, 30)
        wait_until(lambda: rig.sim.view(1).open_handle == handle)
        assert rig.sim.press(1, 4)
    rig.session.start_rating(1, 99, 30)
    time.sleep(0.2)
    assert rig.sim.view(1).pending == 32 and rig.sim.view(1).open_handle is None
    rig.accepting = True
    wait_until(lambda: rig.sim.view(1).open_handle == 99)
    wait_until(lambda: len(rig.delivered()) == 32)
    assert [e.handle for _, e in rig.delivered()] == list(range(1, 33))


def test_rare_characters_survive_show_staff_over_the_pty(rigs: list[Rig]) -> None:
    rig = Rig(range(1, 3))
    rigs.append(rig)
    names = {1: ("王𬀩", "𠇔乡镇便民服务中心"), 2: ("𠀀𪚥龘", "䶮窗口")}
    for addr, (name, dept) in names.items():
        rig.session.show_staff(addr, f"GB{addr}", 5, name, dept)
    wait_until(lambda: all(rig.sim.view(a).staff is not None for a in names))
    for addr, (name, dept) in names.items():
        assert rig.sim.view(addr).staff == ShowStaff(f"GB{addr}", 5, name, dept)
