"""What the HTTP side needs from the hall server: commands through the one writer, reads, state.

`Backend` is the interface; the running server's implementation forwards commands to the bus
thread (`hall_server.bus.Bus`), `LocalBackend` applies them in-process (tests, tools).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Protocol

import sqlite_utils

from config.schema import HallConfig
from hall_server.hub import Hub
from hall_server.writer import Applied

if TYPE_CHECKING:
    from hall_server.bus import Bus


class Backend(Protocol):
    config: HallConfig | None

    async def command(self, type_: str, body: dict[str, Any], node: str = "web") -> Applied: ...

    def reader(self) -> sqlite_utils.Database: ...

    def snapshot(self, prefix: str = "") -> tuple[int, dict[str, Any]]: ...

    def presence(self) -> dict[str, dict[str, Any]]: ...


class LocalBackend:
    """Runs commands on the calling thread under a lock: for tests and single-process tools."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.config = hub.config
        self._lock = threading.Lock()

    async def command(self, type_: str, body: dict[str, Any], node: str = "web") -> Applied:
        return await asyncio.to_thread(self.command_sync, type_, body, node)

    def command_sync(self, type_: str, body: dict[str, Any], node: str = "web") -> Applied:
        with self._lock:
            return self.hub.submit(type_, body, node)

    def reader(self) -> sqlite_utils.Database:
        return self.hub.reader()

    def snapshot(self, prefix: str = "") -> tuple[int, dict[str, Any]]:
        return self.hub.state.snapshot(prefix)

    def presence(self) -> dict[str, dict[str, Any]]:
        return {}


class BusBackend:
    """The running server's backend: commands go to the bus thread, the one writer."""

    def __init__(self, hub: Hub, bus: "Bus", timeout_s: float = 10.0) -> None:
        self.hub = hub
        self.bus = bus
        self.config = hub.config
        self.timeout_s = timeout_s

    async def command(self, type_: str, body: dict[str, Any], node: str = "web") -> Applied:
        fut = self.bus.submit(type_, body, node)
        return await asyncio.wait_for(asyncio.wrap_future(fut), self.timeout_s)

    def reader(self) -> sqlite_utils.Database:
        return self.hub.reader()

    def snapshot(self, prefix: str = "") -> tuple[int, dict[str, Any]]:
        return self.hub.state.snapshot(prefix)

    def presence(self) -> dict[str, dict[str, Any]]:
        return self.bus.presence()
