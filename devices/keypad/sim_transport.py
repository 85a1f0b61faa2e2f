"""A pyserial-like transport straight onto a `SimBus`, on a virtual clock.

For deterministic tests and quick experiments: the session and the simulated devices run in one
thread, time only moves when someone waits, and a test of minutes of bus traffic takes
milliseconds. The real thing (a pty) is in `simulator.py`.
"""

from __future__ import annotations

import math

from devices.keypad.sim_bus import SimBus


class VirtualClock:
    def __init__(self, start_s: float = 1000.0) -> None:
        self.now_s = start_s

    def monotonic(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now_s += seconds


class SimBusTransport:
    """`read`, `write`, `timeout`, `in_waiting`, `reset_input_buffer` like a pyserial port."""

    def __init__(self, bus: SimBus, clock: VirtualClock) -> None:
        self.bus = bus
        self.clock = clock
        self.timeout: float | None = None
        self._input = bytearray()

    def write(self, data: bytes) -> int:
        self.bus.receive(bytes(data), self.clock.now_s)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        deadline_s = math.inf if self.timeout is None else self.clock.now_s + self.timeout
        while True:
            self._input += self.bus.due(self.clock.now_s)
            if len(self._input) >= size or self.clock.now_s >= deadline_s:
                break
            wake_s = min(self.bus.next_deadline_s(), deadline_s)
            if wake_s == math.inf:
                break                          # nothing will ever arrive
            self.clock.now_s = max(self.clock.now_s, wake_s)
        out = bytes(self._input[:size])
        del self._input[:size]
        return out

    @property
    def in_waiting(self) -> int:
        self._input += self.bus.due(self.clock.now_s)
        return len(self._input)

    def reset_input_buffer(self) -> None:
        self._input.clear()
        self.bus.due(self.clock.now_s)
