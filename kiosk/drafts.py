"""The level a citizen tapped, kept on disk until its rating is in the outbox.

A citizen who chose a level and is still on the follow-up screens (the reasons of a 差评, the
optional tags of a good rating) has not given a rating yet: the evaluator sends it when they
submit, or when the screen gives up (walked away). If the kiosk process dies in between, the tap
would be lost. So the tap is written here first (one fsync'd row per 办件), and dropped once the
rating is in the durable outbox. At start the evaluator sends what is still kept (`Evaluator.
resume_kept`): the level, the tap's time (`pressed_ms`) and, for a 差评, the reserved reason
原因待回访 — the citizen is gone after a restart.

一次一评 holds: a kept tap is sent only if no rating of that 办件 is waiting in the outbox, and the
hall server records at most one first rating per 办件 (a second is refused as `already_rated`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from hallnet.durable_file import open_durable


@dataclass(frozen=True)
class KeptTap:
    job: str                        # the 办件's public id
    level: int
    pressed_ms: int | None          # the tap's time on the server's clock (None: an older server)


class DraftStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = open_durable(
            self.path, "CREATE TABLE IF NOT EXISTS taps (job TEXT PRIMARY KEY, level INTEGER NOT NULL, "
            "pressed_ms INTEGER)")

    def keep(self, tap: KeptTap) -> None:
        """On disk when this returns."""
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO taps (job, level, pressed_ms) VALUES (?, ?, ?)",
                               [tap.job, tap.level, tap.pressed_ms])

    def drop(self, job: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM taps WHERE job = ?", [job])

    def kept(self) -> list[KeptTap]:
        with self._lock:
            rows = self._conn.execute("SELECT job, level, pressed_ms FROM taps ORDER BY rowid").fetchall()
        return [KeptTap(job, level, pressed_ms) for job, level, pressed_ms in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
