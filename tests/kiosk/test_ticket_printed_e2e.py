"""The dispenser on a real bus prints a ticket on a printer simulator behind a pty (issue 13): the
decoded paper says the people ahead and the estimated wait, and its QR code is the link to that
ticket's status page (`--qr-base` + /t/<public id>), which the hall server answers for that ticket."""

from __future__ import annotations

from pathlib import Path

from devices.printer.simulator import PrinterSimulator
from hall_server.domain.tickets import public_status
from kiosk.dispenser_logic import Dispenser
from kiosk.dispenser_logic import Screen as DScreen
from kiosk.printing import ticket_printer
from tests.kiosk.hall import Hall, Inbox, wait


def test_the_printed_ticket_links_its_status_page_and_says_the_wait(tmp_path: Path) -> None:
    hall = Hall(tmp_path).start_bus()
    try:
        term = hall.client("terminal-3")
        assert wait(lambda: term.connected)
        assert term.call("window.sign_in", {"staff_no": "HC2103", "pin": "1234"})["ok"]   # window 3 serves A
        inbox = Inbox()
        client = hall.client("dispenser-1", tmp_path / "d.db", on_change=inbox.change,
                             on_connection=inbox.connection, on_reply=inbox.reply)
        with PrinterSimulator(idle_flush_s=1.0) as printer:
            d = Dispenser(hall.config, client.send, qr_base="http://hall.test:8080",
                          print_ticket=ticket_printer(hall.config, printer.path, 9600, "zh"))
            assert wait(lambda: (inbox.drain(d), d.connected)[1])
            for _ in range(2):
                assert d.tap_category("A")
                assert wait(lambda: (inbox.drain(d), d.view().screen == DScreen.TICKET)[1])
                d.cancel()
            docs = printer.wait_for_documents(2, timeout_s=10)
        assert len(docs) == 2
        second = docs[1]
        pub = hall.hub.reader().execute("SELECT pub FROM tickets WHERE no = 'A002'").fetchone()[0]
        assert second.qr_payloads() == [f"http://hall.test:8080/t/{pub}"] and second.cut == "partial"
        lines = second.lines()
        status = public_status(hall.hub.reader(), hall.config, pub)
        assert "A002" in lines and "前面还有1人等候" in lines
        wait_line = f"预计等待 {status['wait_min_minutes']}–{status['wait_max_minutes']} 分钟"
        assert wait_line in lines and "扫码查看排队进度" in lines      # the same estimate as the status page
        assert d.issued[1].wait_text == wait_line
    finally:
        hall.close()
