"""Run a simulated device behind a TCP port, in a thread: a network receipt printer's raw port
(9100, "JetDirect"), opened by the host as `socket://HOST:PORT` (pyserial's socket handler).

Like `devices.sim_pty.PtyRunner`, the device logic is an `Endpoint` (bytes in, replies out, timers
with time passed in) and this module only moves bytes and keeps time; every endpoint call happens
under `lock`. One connection at a time, as on a real printer's raw port: a new connection
replaces the one before (whose half-sent document the endpoint flushes when idle). Replies due
while nobody is connected are dropped.
"""

from __future__ import annotations

import logging
import math
import os
import select
import socket
import threading
import time

from devices.sim_pty import Endpoint, ThreadedRunner

log = logging.getLogger("devices.sim_tcp")


class TcpRunner(ThreadedRunner):
    def __init__(self, endpoint: Endpoint, *, lock: threading.RLock, name: str = "sim-tcp",
                 host: str = "127.0.0.1", port: int = 0, max_wait_s: float = 0.05) -> None:
        super().__init__(endpoint, lock=lock, name=name, max_wait_s=max_wait_s)
        self.host = host
        self.port = port
        self.connections = 0                  # accepted so far
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None

    def start(self) -> str:
        """Listen, start the I/O thread; the URL for the host (`socket://HOST:PORT`)."""
        self._listener = socket.create_server((self.host, self.port))
        self.port = self._listener.getsockname()[1]
        self.path = f"socket://{self.host}:{self.port}"
        self._start_loop()
        return self.path

    def stop(self) -> None:
        self._stop_loop()
        for sock in (self._conn, self._listener):
            if sock is not None:
                sock.close()
        self._conn = self._listener = None
        self._close_wake()

    def _loop(self) -> None:
        assert self._listener is not None
        try:
            while not self._stop.is_set():
                with self.lock:
                    out = self.endpoint.due(time.monotonic())
                    deadline_s = self.endpoint.next_deadline_s()
                if out and self._conn is not None:
                    try:
                        self._conn.sendall(out)
                    except OSError:
                        self._drop()
                    continue
                wait_s = self.max_wait_s if deadline_s == math.inf else deadline_s - time.monotonic()
                watched: list[socket.socket | int] = [self._listener, self._wake_r]
                if self._conn is not None:
                    watched.append(self._conn)
                ready, _, _ = select.select(watched, [], [], min(max(wait_s, 0.0), self.max_wait_s))
                if self._wake_r in ready:
                    os.read(self._wake_r, 4096)
                if self._listener in ready:
                    conn, _ = self._listener.accept()
                    self._drop()
                    self._conn = conn
                    self.connections += 1
                if self._conn is not None and self._conn in ready:
                    try:
                        data = self._conn.recv(65536)
                    except OSError:
                        data = b""
                    if not data:                  # the host closed the connection
                        self._drop()
                        continue
                    with self.lock:
                        self.endpoint.receive(data, time.monotonic())
        except Exception:
            if not self._stop.is_set():
                log.exception("%s: I/O loop failed", self.name)

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
