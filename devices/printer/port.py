"""The host side of a receipt printer, shared by the devices gateway (the windows' slips) and the
kiosk's ticket dispenser (its tickets): opening the port, asking its status, writing a document.

Printer ports (windows.toml `printer = {port, baud}`, the dispenser's `--printer`), and how
`print_to` learns whether a document printed (ESC/POS real-time status, `DLE EOT n`: n = 1 printer,
2 off-line cause, 4 paper roll sensor; each answered by one byte):
  /dev/usb/lpN, /dev/lpN    a USB / parallel printer device, written as a file: no status. The
                            kernel's usblp driver only passes bytes back on read() when the printer
                            has a bidirectional interface and sends something, which many receipt
                            printers' USB interfaces never do, and its LPGETSTATUS ioctl reports the
                            IEEE 1284 port lines, not ESC/POS paper status; so status over USB is not
                            possible in general, and a written document counts as printed (as before).
  socket://host:9100        a network printer (raw TCP, pyserial's socket handler): asked before
                            and after printing, with a short timeout. Paper end / off line before =
                            failed (no_paper / offline), nothing written; paper end / off line after
                            = failed (the slip is likely cut short); no answer after printing =
                            status unknown (`NO_STATUS`): not failed, not confirmed (未确认) — many
                            network printers do not answer status on port 9100.
  anything else             a serial port by pyserial URL or path (a pty too): asked before printing
                            (DLE EOT 1 and 4, off line and paper end); no answer = not connected
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

import serial

from devices.printer.receipts import Slip, Ticket, slip_bytes, ticket_bytes

_FILE_DEVICE = re.compile(r"^/dev/(usb/)?lp\d+$")
DLE_EOT = bytes((0x10, 0x04))
DLE_EOT_PRINTER_STATUS = DLE_EOT + bytes((0x01,))
OFFLINE_BIT = 0x08            # DLE EOT 1
COVER_OPEN_BIT = 0x04         # DLE EOT 2 (off-line cause)
PAPER_STOP_BIT = 0x20         # DLE EOT 2: printing stopped at paper end
ERROR_BIT = 0x40              # DLE EOT 2: an error occurred
PAPER_END_BITS = 0x60         # DLE EOT 4
STATUS_FIXED_MASK, STATUS_FIXED = 0x93, 0x12
NO_STATUS = "no_status"       # print_to: written, but the printer did not answer its status after


class PrintFailed(Exception):
    """A document could not be printed; `reason` is what the server records (slips.PRINT_ERRORS):
    not_connected / no_paper / offline / error."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class FilePort:
    """A printer device written as a file (USB printer class: /dev/usb/lp0). It has no status."""

    def __init__(self, path: str) -> None:
        self._file: BinaryIO = open(path, "wb", buffering=0)

    def write(self, data: bytes) -> int:
        return self._file.write(data) or 0

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def port_kind(url: str) -> str:
    """file / socket / serial: how a printer port is opened and whether its status can be asked."""
    if _FILE_DEVICE.match(url):
        return "file"
    if url.startswith("socket://"):
        return "socket"
    return "serial"


def open_port(url: str, baud: int, timeout_s: float = 0.5) -> Any:
    """The printer's transport (a FilePort or a pyserial port); PrintFailed("not_connected") if it
    cannot be opened."""
    try:
        if port_kind(url) == "file":
            return FilePort(url)
        port = serial.serial_for_url(url, baudrate=baud, timeout=timeout_s, write_timeout=5)
        _no_delay(port)
        return port
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PrintFailed("not_connected", f"cannot open {url}: {exc}") from None


def _no_delay(port: Any) -> None:
    """A network port sends each small write at once (TCP_NODELAY): without it, the 3-byte status
    request right after a slip waits for the printer's delayed ACK (about 40 ms on Linux)."""
    sock = getattr(port, "_socket", None)             # pyserial's socket:// handler keeps it there
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def read_status(port: Any, n: int, timeout_s: float) -> int | None:
    """DLE EOT n: the printer's status byte, or None when it does not answer in time."""
    reset = getattr(port, "reset_input_buffer", None)
    if reset is not None:
        reset()
    port.write(DLE_EOT + bytes((n,)))
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        reply = port.read(1)
        if reply:
            return int(reply[0])
    return None


def is_online(status: int | None) -> bool:
    """A DLE EOT 1 reply with its fixed bits right and not off line."""
    return status is not None and status & STATUS_FIXED_MASK == STATUS_FIXED and not status & OFFLINE_BIT


@dataclass(frozen=True)
class PrinterStatus:
    """A printer's answers to DLE EOT 1, 2 and 4 (None: that one was not answered in time)."""

    printer: int
    cause: int | None
    paper: int | None

    def problem(self) -> PrintFailed | None:
        """Why it cannot print (no_paper, offline, error), or None when it reports itself ready."""
        if (self.paper is not None and self.paper & PAPER_END_BITS) or (
                self.cause is not None and self.cause & PAPER_STOP_BIT):
            return PrintFailed("no_paper", f"paper status {self.paper!r}, off-line cause {self.cause!r}")
        if self.printer & OFFLINE_BIT or (self.cause is not None and self.cause & (COVER_OPEN_BIT | ERROR_BIT)):
            reason = "error" if self.cause is not None and self.cause & ERROR_BIT else "offline"
            return PrintFailed(reason, f"printer status {self.printer:#04x}, off-line cause {self.cause!r}")
        return None


def query_status(port: Any, timeout_s: float) -> PrinterStatus | None:
    """DLE EOT 1, then 2 and 4; None when the printer does not answer the first (right)."""
    printer = read_status(port, 1, timeout_s)
    if printer is None or printer & STATUS_FIXED_MASK != STATUS_FIXED:
        return None
    return PrinterStatus(printer, read_status(port, 2, timeout_s), read_status(port, 4, timeout_s))


def check_ready(port: Any, timeout_s: float) -> None:
    """Ask a serial printer whether it can print (DLE EOT 1, 2, 4); raise PrintFailed if not."""
    status = query_status(port, timeout_s)
    if status is None:
        raise PrintFailed("not_connected", "no status reply")
    problem = status.problem()
    if problem is not None:
        raise problem


def print_to(url: str, baud: int, data: bytes, *, check: bool = True, status_timeout_s: float = 0.5,
             before_write: Callable[[], None] | None = None) -> str | None:
    """Open the printer at `url`, check it (serial and network ports, when `check`), write `data`,
    close. Returns None when printed, or `NO_STATUS` when a network printer took the bytes but did
    not answer its status afterwards (printed or not: unknown). Raises PrintFailed.
    `before_write` runs once the printer is found ready, just before the first byte is written."""
    kind = port_kind(url)
    port = open_port(url, baud, status_timeout_s)
    try:
        if check and kind == "serial":
            check_ready(port, status_timeout_s)
        before = query_status(port, status_timeout_s) if check and kind == "socket" else None
        if before is not None and (problem := before.problem()) is not None:
            raise problem
        if before_write is not None:
            before_write()
        port.write(data)
        port.flush()
        if not (check and kind == "socket"):
            return None
        after = query_status(port, status_timeout_s)
        if after is None:
            return NO_STATUS
        if (problem := after.problem()) is not None:
            raise problem
        return None
    except (serial.SerialException, OSError) as exc:
        raise PrintFailed("not_connected", f"writing to {url}: {exc}") from None
    finally:
        try:
            port.close()
        except (serial.SerialException, OSError):
            pass


class ReceiptPrinter:
    """A receipt printer on an open transport (any pyserial-like object)."""

    def __init__(self, transport: Any, *, status_timeout_s: float = 0.5) -> None:
        self.transport = transport
        self.status_timeout_s = status_timeout_s

    def print_bytes(self, data: bytes) -> None:
        self.transport.write(data)
        flush = getattr(self.transport, "flush", None)
        if flush is not None:
            flush()

    def print_slip(self, slip: Slip, lang: str = "zh") -> None:
        self.print_bytes(slip_bytes(slip, lang))

    def print_ticket(self, ticket: Ticket, lang: str = "zh") -> None:
        self.print_bytes(ticket_bytes(ticket, lang))

    def online(self) -> bool:
        """Ask DLE EOT 1; True when the printer answers and reports itself online."""
        return is_online(read_status(self.transport, 1, self.status_timeout_s))
