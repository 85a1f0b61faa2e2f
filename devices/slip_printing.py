"""The windows' slips (办结通知书 with the rating QR), printed by the gateway at the hall server's request.

The QR link is a credential to rate (DESIGN.md "Rating tokens"): only this gateway and the window's
evaluator get it, never a staff terminal. The protocol (hall_server/domain/slips.py):

  slips/<n> = {window, pending: [print_id, …]}   the prints window n waits for (state key)
  slip.fetch {print_id}  → the slip's fields and its signed link, in the reply to this node only
  slip.result {print_id, ok, error?}             durable in the outbox; error: no_paper / offline /
                                                 not_connected / error (failed), no_status /
                                                 interrupted (unconfirmed, 未确认)
A print stays pending on the server until its result arrives, so a gateway that restarts before
sending a slip to the printer prints it after the restart; a result still in the outbox is not
printed twice. A slip handed to the printer is noted first in the gateway's print journal
(devices/print_journal.py): one whose result never reached the outbox (the gateway died in
between) is reported `interrupted` on the next start instead of being printed twice. A failed or
unconfirmed print is not retried here: the clerk sees it on the terminal and asks for 补打 (a new
print id). How each printer fared is reported to managers as device health (`node.report`, device
`printer-<n>`), when it changes.

Printer ports (windows.toml `printer = {port, baud}`, renamed by `--map`), and what is known of a
print (devices/printer/port.py):
  /dev/usb/lpN, /dev/lpN    a USB / parallel printer device, written as a file: no status (not
                            possible over usblp in general); written = printed
  socket://host:9100        a network printer (raw TCP): DLE EOT 1, 2, 4 before and after printing;
                            缺纸 / 脱机 reported as such; no status answer after printing = no_status
  anything else             a serial port by pyserial URL or path (a pty too): before printing, the
                            printer is asked DLE EOT 1, 2 and 4; no answer = not connected
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from config.i18n import t
from config.schema import HallConfig
from devices.printer.escpos import EscPosError
from devices.print_journal import PrintJournal
from devices.printer.port import NO_STATUS, PrintFailed, print_to
from devices.printer.receipts import Slip, slip_bytes
from hallnet import messages as m
from hallnet.client import HallClient, NotDelivered
from hallnet.vocabulary import Key, Msg

log = logging.getLogger("devices.slips")

KEPT_IDS = 4096               # print ids this gateway remembers having handled
FETCH_RETRY_S = 1.0


@dataclass(frozen=True)
class PrinterSpot:
    window: int
    port: str            # as configured
    url: str             # what is opened (after --map)
    baud: int

    @property
    def device(self) -> str:
        return f"printer-{self.window}"


INTERRUPTED = "interrupted"   # slip.result error: sent to the printer, then the gateway restarted


def print_bytes(spot: PrinterSpot, data: bytes, status_timeout_s: float = 0.5,
                before_write: Callable[[], None] | None = None) -> str | None:
    """Open the window's printer, check it, write the slip, close: None when printed, `no_status`
    when a network printer took it without answering its status afterwards. Raises PrintFailed."""
    return print_to(spot.url, spot.baud, data, status_timeout_s=status_timeout_s, before_write=before_write)


def make_slip(config: HallConfig, fetched: dict[str, Any], qr_base: str) -> Slip:
    """The slip from `slip.fetch`'s reply: the full link (`qr_url`, else `qr_base` + `qr_path`)."""
    url = fetched.get("qr_url") or ""
    if not url:
        path = fetched.get("qr_path") or ""
        if not path:
            raise PrintFailed("error", "the hall server gave no QR link")
        url = qr_base.rstrip("/") + path
    at = datetime.fromtimestamp(int(fetched.get("finished_ms") or 0) / 1000, ZoneInfo(config.hall.timezone))
    return Slip(hall_name=str(fetched.get("hall_name") or config.hall.name),
                window=t("window.number", "zh", number=fetched.get("window")),
                service=str(fetched.get("service_name") or ""), case_no=str(fetched.get("job_no") or ""),
                time=at, rating_url=url, reprint=bool(fetched.get("reprint")))


def printer_spots(config: HallConfig, port_map: dict[str, str]) -> list[PrinterSpot]:
    return [PrinterSpot(w.number, w.printer.port, port_map.get(w.printer.port, w.printer.port), w.printer.baud)
            for w in config.windows if w.printer is not None]


class SlipPrinting:
    """One worker thread per window printer; fed by the `slips/<n>` state keys."""

    def __init__(self, config: HallConfig, client: HallClient, port_map: dict[str, str] | None = None,
                 qr_base: str = "", *, status_timeout_s: float = 0.5, fetch_timeout_s: float = 10.0,
                 journal: PrintJournal | None = None) -> None:
        self.config = config
        self.client = client
        self.qr_base = qr_base
        self.status_timeout_s = status_timeout_s
        self.fetch_timeout_s = fetch_timeout_s
        self.spots = {s.window: s for s in printer_spots(config, port_map or {})}
        self._queues: dict[int, queue.Queue[int]] = {n: queue.Queue() for n in self.spots}
        self._handled: OrderedDict[int, bool] = OrderedDict()     # queued, printing or reported
        self._recovered = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.printed = self.failed = self.unconfirmed = 0
        self._reported: dict[int, str | None] = {}       # window → the last reported failure (None: fine)
        self._journal = journal
        self.interrupted = 0

    @property
    def journal(self) -> PrintJournal:
        if self._journal is None:
            self._journal = PrintJournal.beside(self.client.outbox.path)
        return self._journal

    def start(self) -> None:
        """Start the printer threads (`recover()` first, before the client starts, so that no state
        key can queue a print this gateway already handled)."""
        if not self._recovered:
            self.recover()
        for n in self.spots:
            th = threading.Thread(target=self._work, args=(n,), name=f"slips-{n}", daemon=True)
            th.start()
            self._threads.append(th)
        for key, value in self.client.state(Key.SLIPS).items():
            self.on_change(key, value)

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(self.fetch_timeout_s + 2)
        if self._journal is not None and not any(th.is_alive() for th in self._threads):
            self._journal.close()

    def recover(self) -> None:
        """After a restart: results still in the outbox (the server has not got them) are not
        printed again; slips sent to a printer without a result (the gateway died in between) are
        reported `interrupted` (未确认), never printed again by themselves."""
        reported: set[int] = set()
        for _, _, frame in self.client.outbox.pending():
            try:
                env = m.decode(frame)
            except m.MalformedMessage:
                continue
            if env.type == Msg.SLIP_RESULT and isinstance(env.body.get("print_id"), int):
                reported.add(env.body["print_id"])
        for print_id in reported:
            self._handled[print_id] = True
        for print_id, window in self.journal.left_over():
            if print_id not in reported:
                log.warning("printer-%d: print %d went to the printer before a restart: reported unconfirmed, "
                            "not printed again", window, print_id)
                self.client.send(Msg.SLIP_RESULT, {"print_id": print_id, "ok": False, "error": INTERRUPTED})
                self.interrupted += 1
            self._handled[print_id] = True
            self.journal.done(print_id)
        self._recovered = True

    def on_change(self, key: str, value: Any) -> None:
        """A `slips/<n>` state key: queue the print ids not handled yet (hallnet I/O thread)."""
        kind, _, n = key.partition("/")
        if kind != "slips" or not n.isdigit() or int(n) not in self.spots or not isinstance(value, dict):
            return
        for print_id in value.get("pending") or []:
            if isinstance(print_id, int):
                self._enqueue(int(n), print_id)

    def _enqueue(self, window: int, print_id: int) -> None:
        with self._lock:
            if print_id in self._handled:
                return
            self._handled[print_id] = True
            while len(self._handled) > KEPT_IDS:
                self._handled.popitem(last=False)
        self._queues[window].put(print_id)

    def _forget(self, print_id: int) -> None:
        with self._lock:
            self._handled.pop(print_id, None)

    def _work(self, window: int) -> None:
        q = self._queues[window]
        while not self._stop.is_set():
            try:
                print_id = q.get(timeout=0.2)
            except queue.Empty:
                continue
            self.print_one(self.spots[window], print_id)

    def print_one(self, spot: PrinterSpot, print_id: int) -> None:
        try:
            reply = self.client.call(Msg.SLIP_FETCH, {"print_id": print_id}, timeout_s=self.fetch_timeout_s)
        except NotDelivered:
            log.warning("%s: print %d: the hall server did not answer; trying again", spot.device, print_id)
            self._stop.wait(FETCH_RETRY_S)
            self._queues[spot.window].put(print_id)
            return
        if not reply.get("ok"):
            log.info("%s: print %d not fetched: %s", spot.device, print_id, reply.get("error"))
            if reply.get("error") not in ("slip_not_pending", "unknown_slip"):
                self._forget(print_id)            # asked again when slips/<n> next lists it
            return
        result: dict[str, Any] = {"print_id": print_id, "ok": True}
        try:
            slip = make_slip(self.config, reply.get("result") or {}, self.qr_base)
            try:
                data = slip_bytes(slip)
            except EscPosError as exc:            # e.g. a link too long for a QR code
                raise PrintFailed("error", str(exc)) from None
            # noted durably once the printer is found ready, before the first byte goes out
            unconfirmed = print_bytes(spot, data, self.status_timeout_s,
                                      before_write=lambda: self.journal.sent(print_id, spot.window))
            if unconfirmed is None:
                self.printed += 1
                log.info("%s: slip %s printed (print %d)", spot.device, slip.case_no, print_id)
            else:
                self.unconfirmed += 1
                result = {"print_id": print_id, "ok": False, "error": unconfirmed}
                log.warning("%s: print %d sent, not confirmed: %s", spot.device, print_id, unconfirmed)
        except PrintFailed as exc:
            self.failed += 1
            result = {"print_id": print_id, "ok": False, "error": exc.reason}
            log.warning("%s: print %d failed: %s", spot.device, print_id, exc)
        self.client.send(Msg.SLIP_RESULT, result)
        self.journal.done(print_id)
        self._report(spot, result.get("error"))

    def _report(self, spot: PrinterSpot, error: str | None) -> None:
        """The printer's health for managers, when it changed: online unless the last print failed
        (a printer that took the slip without answering its status is online, status unknown)."""
        if spot.window in self._reported and self._reported[spot.window] == error:
            return
        self._reported[spot.window] = error
        detail: dict[str, Any] = {"online": error in (None, NO_STATUS), "port": spot.port}
        if error == NO_STATUS:
            detail["status_known"] = False
        elif error is not None:
            detail["error"] = error
        self.client.send(Msg.NODE_REPORT, {"devices": {spot.device: detail}})
