"""What the HTTP side needs from the hall server: commands through the one writer, reads, state.

`Backend` is the interface; the running server's implementation forwards commands to the bus
thread (`hall_server.transport.bus.Bus`), `LocalBackend` applies them in-process (tests, tools).
`health()` is what `/api/health` reports: the bus thread, the writer and the storage, honestly.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Protocol

import sqlite_utils

from config.schema import HallConfig
from hall_server.core.hub import Hub, Liveness
from hall_server.core.writer import Applied

if TYPE_CHECKING:
    from hall_server.transport.bus import Bus


# The bus loop turns at least every half heartbeat; a loop silent this long is stuck, not busy.
STALLED_S = 30.0


def health_report(hub: Hub, bus: Liveness | None) -> tuple[bool, dict[str, Any]]:
    """(healthy, the report): the bus thread (None: commands run in-process), the writer (its last
    successful commit, the commands waiting for it) and the storage (ok / full / read_only / error).
    Unhealthy when the bus or writer thread is dead or stuck, or the disk refuses writes."""
    storage = hub.storage.report()
    last_commit_s = storage.pop("last_commit_s")
    if bus is None:
        bus_part: dict[str, Any] = {"alive": True, "in_process": True}
        writer = {"alive": True, "last_commit_s": last_commit_s, "queue": 0}
        running = True
    else:
        running = bus.alive and bus.last_turn_s < STALLED_S
        bus_part = {"alive": bus.alive, "stalled": bus.alive and not running, "last_turn_s": bus.last_turn_s}
        writer = {"alive": bus.alive, "last_commit_s": last_commit_s, "queue": bus.queue}
    healthy = running and storage["status"] == "ok"
    return healthy, {"ok": healthy, "seq": hub.state.seq, "bus": bus_part, "writer": writer, "storage": storage}


class Backend(Protocol):
    @property
    def config(self) -> HallConfig: ...

    async def command(self, type_: str, body: dict[str, Any], node: str = "web") -> Applied: ...

    def reader(self) -> sqlite_utils.Database: ...

    def snapshot(self, prefix: str = "") -> tuple[int, dict[str, Any]]: ...

    def presence(self) -> dict[str, dict[str, Any]]: ...

    def health(self) -> tuple[bool, dict[str, Any]]: ...


class LocalBackend:
    """Runs commands on the calling thread under a lock: for tests and single-process tools."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._lock = threading.Lock()

    @property
    def config(self) -> HallConfig:
        """The hub's current configuration (an admin change swaps it: never keep a copy)."""
        return self.hub.config

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

    def health(self) -> tuple[bool, dict[str, Any]]:
        return health_report(self.hub, None)


class BusBackend:
    """The running server's backend: commands go to the bus thread, the one writer."""

    def __init__(self, hub: Hub, bus: "Bus", timeout_s: float = 10.0) -> None:
        self.hub = hub
        self.bus = bus
        self.timeout_s = timeout_s

    @property
    def config(self) -> HallConfig:
        """The hub's current configuration (an admin change swaps it: never keep a copy)."""
        return self.hub.config

    async def command(self, type_: str, body: dict[str, Any], node: str = "web") -> Applied:
        fut = self.bus.submit(type_, body, node)
        return await asyncio.wait_for(asyncio.wrap_future(fut), self.timeout_s)

    def reader(self) -> sqlite_utils.Database:
        return self.hub.reader()

    def snapshot(self, prefix: str = "") -> tuple[int, dict[str, Any]]:
        return self.hub.state.snapshot(prefix)

    def presence(self) -> dict[str, dict[str, Any]]:
        return self.bus.presence()

    def health(self) -> tuple[bool, dict[str, Any]]:
        return health_report(self.hub, self.bus.alive())
