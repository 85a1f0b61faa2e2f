"""Fixtures for the window terminal: Kivy set up off-screen (before anything imports it), the demo
hall, a clock, and two stand-ins for the hall server: a sender that only records, and one that
applies each command to a real in-process hub and feeds its answers and state deltas back."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from window_terminal.headless import setup_env

_KIVY_HOME = Path(tempfile.mkdtemp(prefix="kivy-home-wt-"))
setup_env(_KIVY_HOME)

from config.loader import load_hall  # noqa: E402
from window_terminal.local_store import LocalStore  # noqa: E402
from window_terminal.terminal import TerminalLogic  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO_HALL = ROOT / "config" / "examples" / "demo-hall"
TZ = ZoneInfo("Asia/Shanghai")
T0 = int(datetime(2026, 11, 23, 10, 0, tzinfo=TZ).timestamp() * 1000)   # a Monday, in opening hours


@pytest.fixture(scope="session", autouse=True)
def _kivy_home():
    yield _KIVY_HOME
    shutil.rmtree(_KIVY_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def demo():
    return load_hall(DEMO_HALL)


class Clock:
    def __init__(self, now_ms: int = T0) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Recorder:
    """Records what the terminal sends; the test answers."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def send(self, type_: str, body: dict[str, Any]) -> str:
        msg_id = f"m{len(self.sent) + 1}"
        self.sent.append((msg_id, type_, dict(body)))
        return msg_id

    @property
    def last(self) -> tuple[str, str, dict[str, Any]]:
        return self.sent[-1]

    def types(self) -> list[str]:
        return [s[1] for s in self.sent]


@dataclass
class HubServer:
    """A real hub (store + domain) answering the terminal synchronously, at the test clock's time."""

    hub: Any
    clock: Clock
    logics: list[TerminalLogic] = field(default_factory=list)
    node: str = "terminal-3"
    inbox: list[tuple[str, Any, Any]] = field(default_factory=list)   # what the terminal has not seen yet
    hold: bool = False                     # keep answers back (the server is slow)
    reply_first: bool = False              # the answer overtakes the state deltas
    _flushing: bool = False

    def send(self, type_: str, body: dict[str, Any]) -> "_Env":
        start = len(self.inbox)
        applied = self.hub.submit(type_, body, self.node, now_ms=self.clock.now)
        item = ("reply", applied.env.id, applied.reply_body())
        if self.reply_first:
            self.inbox.insert(start, item)
        else:
            self.inbox.append(item)
        return _Env(applied.env.id)

    def flush(self) -> None:
        """Deliver what the terminal would receive on its UI thread after the current call."""
        if self._flushing:
            return
        self._flushing = True
        try:
            keep = []
            while self.inbox:
                kind, a, b = self.inbox.pop(0)
                if kind == "reply" and self.hold:
                    keep.append((kind, a, b))
                    continue
                for lg in self.logics:
                    (lg.on_reply if kind == "reply" else lg.on_state)(a, b)
            self.inbox[:0] = keep
        finally:
            self._flushing = False

    def release(self) -> None:
        self.hold = False
        self.flush()

    def other(self, type_: str, body: dict[str, Any], node: str) -> dict[str, Any]:
        applied = self.hub.submit(type_, body, node, now_ms=self.clock.now)
        assert applied.ok, (applied.error, applied.message)
        self.flush()
        return applied.result

    def attach(self, logic: TerminalLogic) -> TerminalLogic:
        """Connect a terminal: it gets the current state, then every delta."""
        self.logics.append(logic)
        logic.sender = self
        logic.changed = self.flush
        logic.on_connection(True)
        for key, value in self.hub.state.snapshot()[1].items():
            logic.on_state(key, value)
        return logic

    def deltas(self, deltas: list[tuple[int, str, Any]]) -> None:
        self.inbox.extend(("state", key, value) for _seq, key, value in deltas)


@dataclass
class _Env:
    id: str


@pytest.fixture
def hub_server(tmp_path: Path, demo, clock: Clock):
    from hall_server.core.hub import Hub

    hub = Hub(tmp_path / "hall.db", demo)
    srv = HubServer(hub, clock)
    hub.delta_sinks.append(srv.deltas)
    yield srv
    hub.close()


def new_logic(config: Any, folder: Path, clock: Clock, sender: Any = None, window: int = 3, **kw: Any) -> TerminalLogic:
    return TerminalLogic(config, window, LocalStore(folder / f"terminal-{window}.state.json"), sender,
                         now_ms=clock, **kw)
