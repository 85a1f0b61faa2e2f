"""A bus of simulated EKP-2 keypads behind a pty: what the demo and the integration tests plug
the real session into. Device logic is in `sim_device.py`/`sim_bus.py`; this class adds the pty
and thread-safe control methods (the same ones the CLI's stdin and control socket reach).

    with KeypadSimulator(range(1, 9), seed=1) as sim:
        port = serial.serial_for_url(sim.path, baudrate=9600)
        ...
        sim.press(3, 4)
"""

from __future__ import annotations

import random
import threading
import time
from typing import Iterable

from devices.keypad.sim_bus import DATASHEET_FRAME_GAP_MS, DATASHEET_REPLY_MS, SimBus
from devices.keypad.sim_device import KeypadView, SimKeypad
from devices.sim_pty import PtyRunner


class KeypadSimulator:
    def __init__(
        self,
        addresses: Iterable[int],
        *,
        keys: int | dict[int, int] = 5,
        baud: int = 9600,
        noise: float = 0.0,
        seed: int | None = None,
        reply_delay_ms: tuple[float, float] = DATASHEET_REPLY_MS,
        frame_gap_ms: float = DATASHEET_FRAME_GAP_MS,
        pace: bool = False,
        time_scale: float = 1.0,
    ) -> None:
        """`keys`: one model for all, or per address. `pace`: send at the baud rate instead of
        as fast as the pty goes. `time_scale` > 1 runs rating timers faster (tests)."""
        rng = random.Random(seed)
        now_s = time.monotonic()
        devices = [
            SimKeypad(addr, keys=keys.get(addr, 5) if isinstance(keys, dict) else keys,
                      rng=random.Random(rng.getrandbits(64)), now_s=now_s, time_scale=time_scale)
            for addr in sorted(set(addresses))
        ]
        self.bus = SimBus(devices, rng=random.Random(rng.getrandbits(64)), baud=baud, pace=pace,
                          reply_delay_ms=reply_delay_ms, frame_gap_ms=frame_gap_ms, noise=noise)
        self.baud = baud
        self._lock = threading.RLock()
        self._runner = PtyRunner(self.bus, lock=self._lock, name="keypad-sim")

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> str:
        """Open the pty and start serving; the slave path to open as the port."""
        return self._runner.start()

    def stop(self) -> None:
        self._runner.stop()

    @property
    def path(self) -> str:
        return self._runner.path

    def __enter__(self) -> KeypadSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- control (any thread)

    def press(self, addr: int, level: int) -> bool:
        """A citizen presses key `level`; True if it closed an open rating."""
        with self._lock:
            pressed = self.bus.press(addr, level, time.monotonic())
        self._runner.wake()
        return pressed

    def reboot(self, addr: int) -> None:
        with self._lock:
            self.bus.reboot(addr, time.monotonic())
        self._runner.wake()

    def set_silent(self, addr: int, silent: bool = True) -> None:
        """A silent device hears nothing and says nothing (cable pulled); its timers still run."""
        with self._lock:
            self.bus.set_silent(addr, silent)

    def set_slow(self, addr: int, extra_ms: float) -> None:
        """Add `extra_ms` to the device's reply delay (beyond 150 ms the host times out)."""
        with self._lock:
            self.bus.set_slow(addr, extra_ms)

    def set_noise(self, rate: float) -> None:
        """Corrupt this fraction of bytes, both ways."""
        with self._lock:
            self.bus.set_noise(rate)

    def view(self, addr: int) -> KeypadView:
        with self._lock:
            self.bus.tick(time.monotonic())
            return self.bus.device(addr).view()

    def views(self) -> dict[int, KeypadView]:
        with self._lock:
            self.bus.tick(time.monotonic())
            return self.bus.views()

    @property
    def addresses(self) -> list[int]:
        return sorted(self.bus.devices)
