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


def test_the_printed_ticket_carries_the_wait_and_a_qr_code_to_its_status_page(demo) -> None:
    """The bytes decoded by the printer simulator's decoder: the wait line and the QR's data."""
    from devices.printer.decoder import EscPosDecoder
    from kiosk.printing import ticket_of
    from devices.printer.receipts import ticket_bytes

    url = "https://hall.example.gov.cn/t/0123456789abcdef0123"
    info = TicketInfo(number="A013", category="社保医保", waiting_ahead=12, time=datetime(2026, 11, 23, 9, 30),
                      priority=None, wait_min_minutes=18, wait_max_minutes=45, status_url=url, estimated=True)
    data = ticket_bytes(ticket_of(demo, info))
    assert "前面还有12人等候".encode("gb18030") in data and "预计等待 18–45 分钟".encode("gb18030") in data
    assert b"\x1d(k" in data and url.encode() in data and "扫码查看排队进度".encode("gb18030") in data
    [doc] = EscPosDecoder().feed(data)
    assert doc.qr_payloads() == [url] and doc.cut == "partial" and not doc.unknown
    assert "预计等待 18–45 分钟" in doc.lines() and "扫码查看排队进度" in doc.lines()
    assert doc.lines().index("前面还有12人等候") < doc.lines().index("预计等待 18–45 分钟")
    unknown = ticket_bytes(ticket_of(demo, TicketInfo(number="A014", category="社保医保", waiting_ahead=0,
                                                      time=datetime(2026, 11, 23, 9, 31), priority=None,
                                                      estimated=True)))
    assert "暂无窗口办理此类业务".encode("gb18030") in unknown and b"\x1d(k" not in unknown
