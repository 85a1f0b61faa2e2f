"""Wiring one terminal together: the hall client, the local store and the logic. (Slips are printed
by the devices gateway, never here: the terminal must not hold a rating link.)
No Kivy here: `post` is how callbacks from the client's I/O thread reach the UI thread
(the app passes `Clock.schedule_once`; tests pass a queue they pump themselves).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from config.schema import HallConfig
from hallnet.client import HallClient
from hallnet.keys import NodeKeys
from hallnet import vocabulary
from window_terminal.local_store import LocalStore
from window_terminal.terminal import TerminalLogic

log = logging.getLogger(__name__)

Post = Callable[..., None]   # post(fn, *args): run fn(*args) on the UI thread


def node_id(window: int) -> str:
    """The terminal's node id: terminal-<window>."""
    return vocabulary.node_id(vocabulary.NodeKind.TERMINAL, window)


@dataclass
class Terminal:
    logic: TerminalLogic
    client: HallClient

    def stop(self) -> None:
        self.client.stop()


def build(config: HallConfig, window: int, bus: str, keys: NodeKeys, data: Path, post: Post, *,
          lang: str = "zh", answer_timeout_s: float = 5.0, client_options: dict[str, Any] | None = None,
          now_ms: Callable[[], int] | None = None) -> Terminal:
    """Create (not start) the terminal for `window`: its outbox and local state live in `data`."""
    data.mkdir(parents=True, exist_ok=True)
    node = node_id(window)
    store = LocalStore(data / f"{node}.state.json")
    logic = TerminalLogic(config, window, store, None, lang=lang, answer_timeout_s=answer_timeout_s, now_ms=now_ms)
    client = HallClient(
        node, bus, keys, data / f"{node}.outbox.db",
        on_change=lambda k, v: post(logic.on_state, k, v),
        on_connection=lambda up: post(logic.on_connection, up),
        on_reply=lambda ref, body: post(logic.on_reply, ref, body),
        **(client_options or {}),
    )
    logic.sender = client
    return Terminal(logic, client)
