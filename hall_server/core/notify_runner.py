"""Notifications, running: a thread of the server process that every `[notify] every_s` reads the
due messages of `notify_outbox` (on its own read-only connection), delivers each
(`domain.notify_send`) and reports the result through the one writer (`notify.result`, sent with
the bus's thread-safe `submit` as node `system-notify`): sent → marked, never sent again; failed →
retried after a doubling backoff. A channel that is down only delays its messages.

The clock is injectable (`clock_ms`): tests simulate a five-minute outage without waiting for it.
If the result of a delivered message cannot be committed (the disk), the message is delivered
again later: at least once, and the receiver can drop the repeat by its id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import sqlite_utils

from config.schema import NotifyPolicy
from hall_server.domain.common import rows
from hall_server.domain.notify_send import DeliveryError, deliver
from hallnet.vocabulary import Msg

log = logging.getLogger(__name__)

NOTIFY_NODE = "system-notify"
BATCH = 50
Submit = Callable[[str, dict[str, Any], str], "Future[Any]"]


class NotifyRunner:
    def __init__(self, reader: Callable[[], sqlite_utils.Database], policy: NotifyPolicy, submit: Submit,
                 clock_ms: Callable[[], int] | None = None, commit_timeout_s: float = 10.0) -> None:
        self.reader, self.policy, self._submit = reader, policy, submit
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.commit_timeout_s = commit_timeout_s
        self.sent = 0
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down: set[str] = set()

    def due(self) -> list[dict[str, Any]]:
        return rows(self.reader(), "SELECT id, uid, channel, subject, text FROM notify_outbox WHERE sent_ms IS NULL "
                                   "AND next_ms <= ? ORDER BY id LIMIT ?", [self.clock_ms(), BATCH])

    def run_once(self) -> int:
        """Try every due message once; returns how many were delivered."""
        delivered = 0
        for m in self.due():
            try:
                deliver(self.policy, m["channel"], m["subject"], m["text"], m["uid"], self.clock_ms())
            except DeliveryError as exc:
                self.failed += 1
                if m["channel"] not in self._down:
                    log.warning("notification via %s failed: %s (retrying with backoff)", m["channel"], exc)
                    self._down.add(m["channel"])
                self._report(m["id"], False, str(exc))
                continue
            if m["channel"] in self._down:
                log.info("notifications via %s work again", m["channel"])
                self._down.discard(m["channel"])
            if self._report(m["id"], True, ""):
                delivered += 1
        self.sent += delivered
        return delivered

    def _report(self, outbox_id: int, sent: bool, error: str) -> bool:
        try:
            applied = self._submit(Msg.NOTIFY_RESULT, {"outbox_id": outbox_id, "sent": sent, "error": error[:300]},
                                   NOTIFY_NODE).result(self.commit_timeout_s)
        except Exception as exc:  # the writer or the disk: the message stays due, tried again next round
            log.warning("notification %d: result not stored (%s)", outbox_id, exc)
            return False
        return bool(applied.ok)

    def start(self) -> "NotifyRunner":
        self._thread = threading.Thread(target=self._run, name="hall-notify", daemon=True)
        self._thread.start()
        log.info("notifications via %s", ", ".join(self.policy.channels()))
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bug: keep the thread alive, try again next round
                log.exception("notification round failed")
            self._stop.wait(self.policy.every_s)

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)


def runner_for(hub: Any, submit: Submit) -> NotifyRunner | None:
    """A runner for the hall's `[notify]` section, or None when no channel is configured."""
    policy = hub.config.hall.notify
    if not policy.channels():
        return None
    clock = getattr(hub, "clock", None)
    return NotifyRunner(hub.reader, policy, submit, (lambda: int(clock())) if clock is not None else None)
