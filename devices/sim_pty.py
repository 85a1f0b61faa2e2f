"""Run a simulated serial device behind a pseudo-terminal, in a thread.

The simulator owns the pty master; the host opens the slave path (`/dev/pts/N`) exactly as it
would open a real port (`serial.serial_for_url(path, baudrate=...)`). The slave is put in raw
mode (no echo, no line editing, no CR/LF translation) and the simulator keeps a slave fd open so
the master never sees EIO when the host closes and reopens the port.

The device logic is an `Endpoint` with time passed in; this module only moves bytes and keeps
time. All endpoint calls happen under `lock`, which control methods share.
"""

from __future__ import annotations

import logging
import math
import os
import select
import threading
import time
import tty
from typing import Protocol

log = logging.getLogger("devices.sim_pty")


class Endpoint(Protocol):
    def receive(self, data: bytes, now_s: float) -> None:
        """Bytes the host wrote."""

    def due(self, now_s: float) -> bytes:
        """Run timers; the bytes to send to the host now."""

    def next_deadline_s(self) -> float:
        """When `due()` next has work (inf for never)."""


class ThreadedRunner:
    """What every simulator runner shares: the endpoint under its lock, an I/O thread, and a pipe
    that wakes that thread's `select` (after a control call, or to stop). Subclasses open their
    transport, then `_start_loop()`; `_stop_loop()` ends the thread and closes the pipe."""

    def __init__(self, endpoint: Endpoint, *, lock: threading.RLock, name: str, max_wait_s: float) -> None:
        self.endpoint = endpoint
        self.lock = lock
        self.name = name
        self.max_wait_s = max_wait_s
        self.path = ""
        self._wake_r = self._wake_w = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        raise NotImplementedError

    def _start_loop(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Make the loop look at the endpoint's deadlines again (after a control call)."""
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"\0")
            except (BlockingIOError, OSError):
                pass                           # already awake / closing

    def _stop_loop(self) -> None:
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None

    def _close_wake(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._wake_r = self._wake_w = -1


class PtyRunner(ThreadedRunner):
    def __init__(self, endpoint: Endpoint, *, lock: threading.RLock, name: str = "sim-pty",
                 max_wait_s: float = 0.05) -> None:
        super().__init__(endpoint, lock=lock, name=name, max_wait_s=max_wait_s)
        self._master = self._slave = -1

    def start(self) -> str:
        """Open the pty, start the I/O thread; the slave path for the host."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._start_loop()
        return self.path

    def stop(self) -> None:
        self._stop_loop()
        for fd in (self._master, self._slave):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = -1
        self._close_wake()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                with self.lock:
                    now_s = time.monotonic()
                    out = self.endpoint.due(now_s)
                    deadline_s = self.endpoint.next_deadline_s()
                if out:
                    self._write_all(out)
                    continue                   # more may be due already
                wait_s = self.max_wait_s if deadline_s == math.inf else deadline_s - time.monotonic()
                ready, _, _ = select.select([self._master, self._wake_r], [], [], min(max(wait_s, 0.0), self.max_wait_s))
                if self._wake_r in ready:
                    os.read(self._wake_r, 4096)
                if self._master in ready:
                    try:
                        data = os.read(self._master, 4096)
                    except OSError:            # EIO while no slave is open: nothing to read
                        time.sleep(0.01)
                        continue
                    with self.lock:
                        self.endpoint.receive(data, time.monotonic())
        except Exception:
            if not self._stop.is_set():
                log.exception("%s: I/O loop failed", self.name)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._master, view)
            view = view[written:]
