"""The hall server's core without the network: the store, the state map and the writer.

`Hub.apply(batch)` is what the bus calls for node messages; `Hub.submit(type, body)` is how the
HTTP side (and tests) send a command through the same single writer. The bus runs the hub on
its own thread; `LocalHub` use is single-threaded (tests, tools).

`Hub.storage` is the store's health as the writer sees it: a batch the disk refuses raises a named
`StorageFault` (full, read-only) and is logged once per interval; the next batch simply tries again,
so the server continues without a restart once space or write access is back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from config.schema import HallConfig
from sqlite_utils.migrations import Migrations

from hallnet.clock import Clock
from hall_server.domain.context import Context, Handlers
from hall_server.core.handlers import core_handlers
from hall_server.core.migrations import HALL
from hall_server.core.secret import load_secret
from hall_server.core.state import StateMap
from hall_server.core.store import StorageWatch, open_reader, open_store, storage_fault
from hall_server.core.writer import Applied, Refresh, apply_batch
from hall_server.domain.floor import refresh_floor
from hallnet.messages import Envelope

DeltaSink = Callable[[list[tuple[int, str, Any]]], None]


@dataclass(frozen=True)
class Liveness:
    """Whether the thread that runs the writer (the bus loop) is alive, how long ago its loop last
    turned, and how many commands wait for it."""

    alive: bool
    last_turn_s: float
    queue: int


class Hub:
    def __init__(self, db_path: Path | str, config: HallConfig, clock: Clock | None = None,
                 migrations: tuple[Migrations, ...] = HALL, handlers: Handlers | None = None,
                 refresh: Refresh | None = None) -> None:
        self.db_path = Path(db_path)
        self.clock = clock or Clock()
        self.config = config
        # message type → handler; the default is the core's and the domain's table, the server's
        # (hall_server.assembly) adds the web side's.
        self.handlers = core_handlers() if handlers is None else handlers
        # the floor's summaries, recomputed once per batch that may have changed them (`apply_batch`)
        self.refresh: Refresh | None = self.refresh_floor if refresh is None else refresh
        self.db = open_store(self.db_path, migrations)
        self.secret = load_secret(self.db_path.parent)   # signs the QR links of finished 办件
        self.state = StateMap.load(self.db)
        self._local_seq = 0
        self._readers = threading.local()
        self.delta_sinks: list[DeltaSink] = []
        self.storage = StorageWatch()

    def apply(self, batch: list[Envelope], now_ms: int | None = None) -> list[Applied]:
        """Apply a batch in one transaction; `now_ms` overrides the server time (tests).

        Raises StorageFault (nothing of the batch stored) when the disk refuses the write."""
        changes_before = self.db.conn.total_changes
        try:
            outcomes, deltas = apply_batch(self.db, self.state, self.config, self.handlers, batch,
                                           self.clock() if now_ms is None else now_ms, self.secret,
                                           on_config=self.swap_config, refresh=self.refresh)
        except Exception as exc:
            fault = storage_fault(exc)
            if fault is None:
                raise
            self.storage.failed(fault)
            raise fault from (None if fault is exc else exc)
        self.storage.committed(wrote=self.db.conn.total_changes != changes_before)
        if deltas:
            for sink in self.delta_sinks:
                sink(deltas)
        return outcomes

    def refresh_floor(self, ctx: Context) -> bool:
        """`floor` / `mgr/floor` after a batch, compared with the committed values in memory (no read)."""
        return refresh_floor(ctx, self.state.get)

    def swap_config(self, config: HallConfig) -> None:
        """Take a new hall configuration (after an admin change committed, or at start from the store).

        Only the writer thread calls this; every reader (HTTP threads, the floor snapshot) reads
        `hub.config` afresh each time and gets either the old or the new immutable tree, whole."""
        self.config = config

    def submit(self, type_: str, body: dict[str, Any], node: str = "web", now_ms: int | None = None) -> Applied:
        """Apply one command now (caller is the writer thread); `now_ms` overrides the time (tests)."""
        self._local_seq += 1
        return self.apply([Envelope(type=type_, node=node, seq=self._local_seq, body=body)], now_ms)[0]

    def reader(self) -> sqlite_utils.Database:
        """A read-only connection for the calling thread."""
        db = getattr(self._readers, "db", None)
        if db is None:
            db = open_reader(self.db_path)
            self._readers.db = db
        return db

    def close(self) -> None:
        self.db.close()
