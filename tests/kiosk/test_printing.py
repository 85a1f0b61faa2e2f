"""The dispenser prints its tickets as ESC/POS (GB18030) on the configured port; a sim:// port only logs."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import datetime

from kiosk.dispenser_logic import TicketInfo
from kiosk.printing import ticket_printer

TICKET = TicketInfo(number="A013", category="社保医保", waiting_ahead=12, time=datetime(2026, 11, 23, 9, 30),
                    priority=None)


def test_a_ticket_goes_to_the_printer_port(demo) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    got = bytearray()

    def accept() -> None:
        conn, _ = server.accept()
        conn.settimeout(5)
        try:
            while chunk := conn.recv(4096):
                got.extend(chunk)
        except OSError:
            pass
        conn.close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    ticket_printer(demo, f"socket://127.0.0.1:{port}", 9600, "zh")(TICKET)
    t.join(10)
    server.close()
    data = bytes(got)
    assert data.startswith(b"\x1b@\x1c&")                   # ESC @, FS & (Chinese mode)
    assert "A013".encode() in data and "社保医保".encode("gb18030") in data
    assert "前面还有12人等候".encode("gb18030") in data
    assert "2026-11-23 09:30".encode() in data


def test_no_printer_and_placeholder(demo, caplog) -> None:
    assert ticket_printer(demo, None, 9600, "zh") is None
    with caplog.at_level(logging.INFO, logger="kiosk.printing"):
        ticket_printer(demo, "sim://printer-1", 9600, "zh")(TICKET)
    assert "placeholder" in caplog.text


def test_a_broken_printer_is_logged_not_raised(demo, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="kiosk.printing"):
        ticket_printer(demo, "socket://127.0.0.1:1", 9600, "zh")(TICKET)
        import time

        deadline = time.monotonic() + 5
        while "not printed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "not printed" in caplog.text
