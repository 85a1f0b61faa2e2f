"""R11 upward export, running: a thread of the server process that pumps `domain.export.Exporter`
every `[export] every_s` to the configured sink (`[export] sink`, see config/REFERENCE.md).

The exporter reads undelivered ratings on this thread's own read-only connection and, after the
sink accepted a batch, moves the sink's cursor through the one writer (`export.delivered`, sent
with `submit` — the bus's thread-safe entry — as node `system-export`). A sink that is down
stops the pump until the next round: nothing moves, nothing is lost. A cursor commit that does
not come back in time leaves the batch to be delivered again (at least once; the folder sink
rewrites the same file names and an HTTP receiver deduplicates by `rating_id`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from hall_server.domain.city_records import CityForwarder, CitySink
from hall_server.domain.export import Exporter, FolderSink, Sink, SinkError, make_sink
from hall_server.core.hub import Hub
from hall_server.core.store import StorageFault
from hallnet.vocabulary import Msg

log = logging.getLogger(__name__)

EXPORT_NODE = "system-export"
CITY_KEY_FILE = "city.key"          # the key the city issued to this hall (python -m city_server halls add)
Submit = Callable[[str, dict[str, Any], str], "Future[Any]"]


def sink_for(spec: str, data_dir: Path) -> Sink:
    """The configured sink; a relative `folder:PATH` lives inside the server's data folder."""
    if spec.startswith("folder:"):
        folder = Path(spec.removeprefix("folder:"))
        return FolderSink(folder if folder.is_absolute() else data_dir / folder)
    return make_sink(spec)


class ExportRunner:
    def __init__(self, hub: Hub, submit: Submit, sink: Sink | None, every_s: float, commit_timeout_s: float = 10.0,
                 city: CitySink | None = None) -> None:
        self.every_s, self.commit_timeout_s = every_s, commit_timeout_s
        self._submit = submit
        self.exporter: Exporter | CityForwarder
        if city is not None:           # the same guarantees, another outbox: the city tier's
            self.exporter = CityForwarder(hub.reader, hub.config, city, self._commit, apply_note=self._apply_note)
        else:
            assert sink is not None
            self.exporter = Exporter(hub.reader, hub.config, sink, self._commit)
        self._hub = hub                    # its configuration is read afresh each round (admin changes)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0                      # records delivered since start (for logs and tests)
        self._last_error = ""

    @classmethod
    def from_config(cls, hub: Hub, submit: Submit, data_dir: Path) -> "ExportRunner | None":
        """A runner for the hall's `[export]` section, or None when the export is off."""
        policy = hub.config.hall.export
        if policy is None or not policy.sink:
            return None
        return cls(hub, submit, sink_for(policy.sink, data_dir), policy.every_s)

    @classmethod
    def for_city(cls, hub: Hub, submit: Submit, data_dir: Path) -> "ExportRunner | None":
        """A runner forwarding to the city (`[city]` in hall.toml; the key in DATA/city.key), or None."""
        link = hub.config.hall.city
        if link is None or not link.url:
            return None
        key_file = data_dir / CITY_KEY_FILE
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            log.error("[city] url is set but the hall's city key %s cannot be read (%s): not forwarding", key_file, exc)
            return None
        return cls(hub, submit, None, link.every_s, city=CitySink(link.url, link.hall, key))

    def _commit(self, sink: str, upto: int) -> None:
        applied = self._submit(Msg.EXPORT_DELIVERED, {"sink": sink, "upto": upto}, EXPORT_NODE).result(
            self.commit_timeout_s)
        if not applied.ok:
            raise SinkError(f"cursor not moved: {applied.error} {applied.message}")

    def _apply_note(self, body: dict[str, Any]) -> None:
        applied = self._submit(Msg.CASE_CITY_NOTE, body, EXPORT_NODE).result(self.commit_timeout_s)
        if not applied.ok:
            raise SinkError(f"督办 note {body['note_id']} not recorded: {applied.error} {applied.message}")

    def run_once(self) -> int:
        """One round: deliver everything pending. Returns how many records went out."""
        try:
            self.exporter.config = self._hub.config
            n = self.exporter.pump()
        except (SinkError, StorageFault) as exc:   # the sink, or our own disk refusing the cursor move
            if str(exc) != self._last_error:     # say it once per distinct failure, not every round
                log.warning("export to %s: %s (will retry every %gs)", self.exporter.sink.name, exc, self.every_s)
                self._last_error = str(exc)
            return 0
        except Exception:  # a bug or the disk: keep the thread alive, try again next round
            log.exception("export to %s failed", self.exporter.sink.name)
            return 0
        if self._last_error:
            log.info("export to %s works again", self.exporter.sink.name)
            self._last_error = ""
        self.sent += n
        return n

    def start(self) -> "ExportRunner":
        self._thread = threading.Thread(target=self._run, name=f"hall-export-{self.exporter.sink.name}", daemon=True)
        self._thread.start()
        log.info("exporting ratings to %s every %gs", self.exporter.sink.name, self.every_s)
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.run_once()
            self._stop.wait(max(0.0, self.every_s - (time.monotonic() - started)))

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
