"""The host side of a receipt printer on a serial port (any pyserial-like transport)."""

from __future__ import annotations

import time
from typing import Any

from devices.printer.receipts import Slip, Ticket, slip_bytes, ticket_bytes

DLE_EOT_PRINTER_STATUS = bytes((0x10, 0x04, 0x01))


class ReceiptPrinter:
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
        reset = getattr(self.transport, "reset_input_buffer", None)
        if reset is not None:
            reset()
        self.transport.write(DLE_EOT_PRINTER_STATUS)
        deadline_s = time.monotonic() + self.status_timeout_s
        while time.monotonic() < deadline_s:
            reply = self.transport.read(1)
            if reply:
                status = reply[0]
                return status & 0x93 == 0x12 and not status & 0x08   # fixed bits right, not offline
        return False
