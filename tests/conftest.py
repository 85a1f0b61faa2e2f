"""Fixtures shared by all test folders: free loopback ports, real hall server processes, node keys."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_HALL = ROOT / "config" / "examples" / "demo-hall"


def free_port_pair() -> int:
    """A loopback port P such that P and P+1 are both free (bus commands + states)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65534:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout_s: float = 10.0, step_s: float = 0.02) -> bool:
    """Poll `pred` until it is true or `timeout_s` passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step_s)
    return bool(pred())


def wait_http(url: str, timeout_s: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


@dataclass
class ServerProcess:
    """`python -m hall_server` as a real process on loopback; can be killed and restarted."""

    data: Path
    config: Path = DEMO_HALL
    bus_port: int = field(default_factory=free_port_pair)
    http_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    args: list[str] = field(default_factory=list)      # more flags, e.g. the demo clock's --clock-*

    @property
    def bus(self) -> str:
        return f"127.0.0.1:{self.bus_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> "ServerProcess":
        self.log_path = self.data / "server.log"
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hall_server", "--config", str(self.config), "--data", str(self.data),
             "--bus", self.bus, "--http", f"127.0.0.1:{self.http_port}", "--log-level", "WARNING", *self.args],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_http(self.http + "/api/health", proc=self.proc)
        log.close()
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 10.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def new_key(self, node: str) -> Path:
        from hallnet.keys import new_node_key

        return new_node_key(self.data, node)


@pytest.fixture
def server(tmp_path: Path):
    srv = ServerProcess(data=tmp_path / "server")
    srv.data.mkdir()
    yield srv
    srv.stop()
    srv.kill()


@pytest.fixture(autouse=True, scope="session")
def _no_stray_env():
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    yield
