"""A simulated ESC/POS receipt printer behind a pty (a serial printer) or a TCP port (a network
printer's raw port 9100, `tcp=True`): decodes what the host prints.

Every finished document (cut, or idle for `idle_flush_s` after data without a cut) is kept in
`documents`, passed to `on_document`, and, with `out_path`, appended to that file as one JSON
line. Real-time status requests (DLE EOT n) are answered "online, no error", or, after
`set_paper(False)`, "off line, paper end" (what the gateway reports as 缺纸), after
`set_cover_open(True)` "off line, cover open" (脱机); after `set_status_replies(False)` they go
unanswered, as on many network printers (the gateway then reports the print 未确认).
`start()` returns what the host opens: the pty's path, or `socket://127.0.0.1:PORT`.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Callable

from devices.printer.decoder import Document, EscPosDecoder
from devices.sim_pty import PtyRunner
from devices.sim_tcp import TcpRunner


class _PrinterEndpoint:
    """The pty runner's view of the printer: bytes in, status replies out, idle flush."""

    def __init__(self, sink: Callable[[Document], None], idle_flush_s: float) -> None:
        self.decoder = EscPosDecoder()
        self._sink = sink
        self._idle_flush_s = idle_flush_s
        self._last_rx_s = -math.inf

    def receive(self, data: bytes, now_s: float) -> None:
        self._last_rx_s = now_s
        for doc in self.decoder.feed(data):
            self._sink(doc)

    def due(self, now_s: float) -> bytes:
        if self.decoder.busy and now_s - self._last_rx_s >= self._idle_flush_s:
            self.flush()
        return self.decoder.take_responses()

    def next_deadline_s(self) -> float:
        return self._last_rx_s + self._idle_flush_s if self.decoder.busy else math.inf

    def flush(self) -> None:
        doc = self.decoder.flush()
        if doc is not None:
            self._sink(doc)


class PrinterSimulator:
    def __init__(self, *, out_path: str | Path | None = None,
                 on_document: Callable[[Document], None] | None = None, idle_flush_s: float = 2.0,
                 tcp: bool = False, tcp_port: int = 0) -> None:
        self.documents: list[Document] = []
        self.out_path = Path(out_path) if out_path else None
        self._on_document = on_document
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._endpoint = _PrinterEndpoint(self._store, idle_flush_s)
        self._runner: PtyRunner | TcpRunner = (
            TcpRunner(self._endpoint, lock=self._lock, name="printer-sim-tcp", port=tcp_port) if tcp
            else PtyRunner(self._endpoint, lock=self._lock, name="printer-sim"))

    def start(self) -> str:
        return self._runner.start()

    def stop(self) -> None:
        """Stop serving; a document still open is flushed as it is."""
        self._runner.stop()
        with self._lock:
            self._endpoint.flush()

    def set_paper(self, loaded: bool) -> None:
        """Take the paper out (False) or put it back (True): only the status replies change."""
        with self._lock:
            self._endpoint.decoder.paper_out = not loaded

    def set_cover_open(self, is_open: bool) -> None:
        """Open the cover (True: off line) or close it again."""
        with self._lock:
            self._endpoint.decoder.cover_open = is_open

    def set_status_replies(self, answer: bool) -> None:
        """Answer DLE EOT status requests (True) or leave them unanswered (False)."""
        with self._lock:
            self._endpoint.decoder.answers_status = answer

    @property
    def path(self) -> str:
        return self._runner.path

    def __enter__(self) -> PrinterSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_documents(self, count: int, timeout_s: float = 5.0) -> list[Document]:
        """The first `count` documents, waiting up to `timeout_s` for them (fewer on timeout)."""
        deadline_s = time.monotonic() + timeout_s
        with self._arrived:
            while len(self.documents) < count:
                left_s = deadline_s - time.monotonic()
                if left_s <= 0:
                    break
                self._arrived.wait(left_s)
            return list(self.documents[:count])

    def _store(self, doc: Document) -> None:    # called with the lock held
        self.documents.append(doc)
        if self.out_path is not None:
            with self.out_path.open("a", encoding="utf-8") as out:
                out.write(doc.to_json_line() + "\n")
        if self._on_document is not None:
            self._on_document(doc)
        self._arrived.notify_all()
