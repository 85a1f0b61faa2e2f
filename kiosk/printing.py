"""The dispenser's ticket printing: ESC/POS through devices/printer (the port code the devices
gateway prints the windows' slips with), off the UI thread: the people ahead, the estimated wait
and a QR code linking to the ticket's status page (issue 13)."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from config.schema import HallConfig
from devices.printer.port import ReceiptPrinter, open_port
from devices.printer.receipts import Ticket
from kiosk import dispenser_logic as dl

log = logging.getLogger("kiosk.printing")


def ticket_of(config: HallConfig, info: dl.TicketInfo) -> Ticket:
    """The printed ticket: number, category, people ahead, the estimated wait, the status page's QR."""
    return Ticket(config.hall.name, info.number, info.category, info.waiting_ahead, info.time,
                  wait_min_minutes=info.wait_min_minutes, wait_max_minutes=info.wait_max_minutes,
                  status_url=info.status_url, estimated=info.estimated)


def ticket_printer(config: HallConfig, port: str | None, baud: int, lang: str) -> Callable[[dl.TicketInfo], None] | None:
    """A `print_ticket` for the dispenser: ESC/POS on `port` in a background thread; None without a
    printer; a `sim://…` placeholder only logs."""
    if not port:
        return None

    def print_ticket(info: dl.TicketInfo) -> None:
        if port.startswith("sim://"):
            log.info("printer %s is a placeholder: ticket %s not printed", port, info.number)
            return

        def work() -> None:
            try:
                transport = open_port(port, baud, timeout_s=1)
                try:
                    ReceiptPrinter(transport).print_ticket(ticket_of(config, info), lang)
                finally:
                    transport.close()
            except Exception as exc:      # a printer problem must not stop the dispenser
                log.error("printer %s: ticket %s not printed: %s", port, info.number, exc)

        threading.Thread(target=work, name="ticket-printer", daemon=True).start()

    return print_ticket
