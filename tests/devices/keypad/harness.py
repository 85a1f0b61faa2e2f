"""A keypad session wired to simulated keypads on a virtual clock: deterministic and fast."""

from __future__ import annotations

import random
from typing import Callable, Iterable

from devices.keypad.codec import Event, Frame, decode
from devices.keypad.session import KeypadSession
from devices.keypad.sim_bus import SimBus
from devices.keypad.sim_device import KeypadView, SimKeypad
from devices.keypad.sim_transport import SimBusTransport, VirtualClock


class Lossy:
    """A transport wrapper that loses chosen requests or replies, and records what was sent."""

    def __init__(self, inner: SimBusTransport) -> None:
        self.inner = inner
        self.lose_requests: dict[int, int] = {}     # func -> how many to lose
        self.lose_replies: dict[int, int] = {}
        self.sent: list[tuple[float, Frame]] = []
        self.reply_ends_s: list[float] = []
        self._deaf = False

    @property
    def timeout(self) -> float | None:
        return self.inner.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self.inner.timeout = value

    @property
    def in_waiting(self) -> int:
        return self.inner.in_waiting

    def reset_input_buffer(self) -> None:
        self.inner.reset_input_buffer()

    def write(self, data: bytes) -> int:
        frame = decode(data)[1]
        assert frame is not None
        self.sent.append((self.inner.clock.now_s, frame))
        self._deaf = _take(self.lose_replies, frame.func)
        if _take(self.lose_requests, frame.func):
            return len(data)
        return self.inner.write(data)

    def read(self, size: int = 1) -> bytes:
        data = self.inner.read(size)
        if data:
            self.reply_ends_s.append(self.inner.clock.now_s)
        return b"" if self._deaf else data

    def polls(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _, frame in self.sent:
            if frame.func == 0x06:
                counts[frame.addr] = counts.get(frame.addr, 0) + 1
        return counts


def _take(budget: dict[int, int], func: int) -> bool:
    if budget.get(func, 0) > 0:
        budget[func] -= 1
        return True
    return False


class Harness:
    def __init__(self, addresses: Iterable[int], *, seed: int = 1, noise: float = 0.0,
                 keys: int = 5, **session_kwargs: object) -> None:
        addresses = list(addresses)
        self.clock = VirtualClock()
        rng = random.Random(seed)
        devices = [SimKeypad(a, keys=keys, rng=random.Random(rng.getrandbits(64)), now_s=self.clock.now_s)
                   for a in addresses]
        self.bus = SimBus(devices, rng=random.Random(rng.getrandbits(64)), noise=noise)
        self.wire = Lossy(SimBusTransport(self.bus, self.clock))
        self.events: list[tuple[int, Event]] = []
        self.offered: list[tuple[int, Event]] = []
        self.online: list[tuple[int, bool]] = []
        self.accept: Callable[[int, Event], bool] = lambda addr, event: True
        self.session = KeypadSession(
            self.wire, addresses, on_event=self._on_event, on_online=lambda a, up: self.online.append((a, up)),
            clock=self.clock.monotonic, sleep=self.clock.sleep, **session_kwargs,  # type: ignore[arg-type]
        )

    def _on_event(self, addr: int, event: Event) -> bool:
        self.offered.append((addr, event))
        if not self.accept(addr, event):
            return False
        self.events.append((addr, event))
        return True

    def cycle(self) -> None:
        """One cycle as run_forever does it: idle cycles sleep a little."""
        if self.session.run_once().exchanges == 0:
            self.clock.sleep(self.session.idle_sleep_s)

    def run(self, cycles: int = 1) -> None:
        for _ in range(cycles):
            self.cycle()

    def run_until(self, done: Callable[[], bool], max_cycles: int = 2000) -> int:
        for cycle in range(max_cycles):
            if done():
                return cycle
            self.cycle()
        raise AssertionError(f"not done after {max_cycles} cycles")

    def run_for(self, seconds: float) -> None:
        end_s = self.clock.now_s + seconds
        while self.clock.now_s < end_s:
            self.cycle()

    def press(self, addr: int, level: int) -> bool:
        return self.bus.press(addr, level, self.clock.now_s)

    def view(self, addr: int) -> KeypadView:
        self.bus.tick(self.clock.now_s)
        return self.bus.device(addr).view()
