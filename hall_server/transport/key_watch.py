"""Watches the node key folders off the bus loop and wakes the bus when a key stops being accepted.

Looking at the folders means a stat of every key file (hundreds in a big hall); done on the bus
thread every REGISTRY_CHECK_S it held every batch behind it. This thread does it instead, and the
bus only compares the registry's generation (a number) on each turn.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from hallnet.keys import KeyRegistry

log = logging.getLogger("hall_server.transport.bus")

REGISTRY_CHECK_S = 0.2              # how often the folders are looked at for revoked or deleted keys


class KeyWatch:
    def __init__(self, registry: KeyRegistry, wake: Callable[[], None], every_s: float = REGISTRY_CHECK_S) -> None:
        self.registry = registry
        self.every_s = every_s
        self._wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "KeyWatch":
        self._thread = threading.Thread(target=self._run, name="hall-keys", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        seen = self.registry.generation
        while not self._stop.wait(self.every_s):
            try:
                self.registry.refresh()  # (the ZAP thread may have rescanned first: compare generations)
            except Exception:
                log.warning("the node key folders could not be read", exc_info=True)
                continue
            if self.registry.generation != seen:
                seen = self.registry.generation
                self._wake()
