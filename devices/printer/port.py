"""The host side of a receipt printer, shared by the devices gateway (the windows' slips) and the
kiosk's ticket dispenser (its tickets): opening the port, asking its status, writing a document.

Printer ports (windows.toml `printer = {port, baud}`, the dispenser's `--printer`):
  /dev/usb/lpN, /dev/lpN    a USB / parallel printer device, written as a file (no status)
  socket://host:9100        a network printer (raw TCP, pyserial's socket handler; no status asked)
  anything else             a serial port by pyserial URL or path (a pty too): it can be asked
                            DLE EOT 1 and 4 (off line, paper end); no answer = not connected
"""

from __future__ import annotations

import re
import time
from typing import Any, BinaryIO

import serial

from devices.printer.receipts import Slip, Ticket, slip_bytes, ticket_bytes

_FILE_DEVICE = re.compile(r"^/dev/(usb/)?lp\d+$")
DLE_EOT = bytes((0x10, 0x04))
DLE_EOT_PRINTER_STATUS = DLE_EOT + bytes((0x01,))
OFFLINE_BIT = 0x08            # DLE EOT 1
PAPER_END_BITS = 0x60         # DLE EOT 4
STATUS_FIXED_MASK, STATUS_FIXED = 0x93, 0x12


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
        return serial.serial_for_url(url, baudrate=baud, timeout=timeout_s, write_timeout=5)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PrintFailed("not_connected", f"cannot open {url}: {exc}") from None


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


def check_ready(port: Any, timeout_s: float) -> None:
    """Ask a serial printer whether it can print (DLE EOT 1, then 4); raise PrintFailed if not."""
    printer = read_status(port, 1, timeout_s)
    if printer is None or printer & STATUS_FIXED_MASK != STATUS_FIXED:
        raise PrintFailed("not_connected", "no status reply")
    paper = read_status(port, 4, timeout_s)
    if paper is not None and paper & PAPER_END_BITS:
        raise PrintFailed("no_paper", f"paper sensor status {paper:#04x}")
    if printer & OFFLINE_BIT:
        raise PrintFailed("offline", f"printer status {printer:#04x}")


def print_to(url: str, baud: int, data: bytes, *, check: bool = True, status_timeout_s: float = 0.5) -> None:
    """Open the printer at `url`, check it (serial ports, when `check`), write `data`, close.
    Raises PrintFailed."""
    port = open_port(url, baud, status_timeout_s)
    try:
        if check and port_kind(url) == "serial":
            check_ready(port, status_timeout_s)
        port.write(data)
        port.flush()
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
