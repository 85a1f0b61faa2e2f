"""The gateway's durable note of the slips it has handed to a printer and not yet reported.

Why: the hall server keeps a print pending until the gateway reports it (`slip.result`), so a
gateway that restarts reprints whatever is pending. If it died after the printer got the bytes
and before the result reached its outbox, the citizen would get the slip twice — two papers
carrying the same rating link. So, for each print (devices/slip_printing.py):

  1. `sent(print_id)`    committed (fsync) BEFORE the first byte goes to the printer;
  2. the bytes go to the printer;
  3. `slip.result` is written to the hallnet outbox (durable);
  4. `done(print_id)`.

On start, `left_over()` lists the prints of step 1 without step 4: the gateway reports each as
unconfirmed (`interrupted`, 未确认) — unless its result is already in the outbox — and never prints
it again; the clerk looks at the printer and asks for 补打 if no paper came out.

One small SQLite file beside the gateway's outbox (`<node>.prints.db`), WAL, synchronous FULL. It
holds print ids and times only, never a slip's content or link.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from hallnet.durable_file import open_durable


class PrintJournal:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = open_durable(
            self.path, "CREATE TABLE IF NOT EXISTS sent (print_id INTEGER PRIMARY KEY, window INTEGER NOT NULL, "
            "sent_ms INTEGER NOT NULL)")

    @classmethod
    def beside(cls, outbox_path: Path | str) -> "PrintJournal":
        """The journal next to a node's outbox file (`gateway-1.db` → `gateway-1.prints.db`)."""
        p = Path(outbox_path)
        return cls(p.with_name(p.stem + ".prints.db"))

    def sent(self, print_id: int, window: int) -> None:
        """The slip is about to go to the printer (durable when this returns)."""
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO sent (print_id, window, sent_ms) VALUES (?, ?, ?)",
                               [print_id, window, int(time.time() * 1000)])

    def done(self, print_id: int) -> None:
        """Its result is in the outbox: nothing is left to remember."""
        with self._lock:
            self._conn.execute("DELETE FROM sent WHERE print_id = ?", [print_id])

    def left_over(self) -> list[tuple[int, int]]:
        """(print id, window) of slips sent to a printer whose result was never written."""
        with self._lock:
            return [(r[0], r[1]) for r in self._conn.execute("SELECT print_id, window FROM sent ORDER BY print_id")]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
