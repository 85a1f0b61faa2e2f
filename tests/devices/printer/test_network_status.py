"""A network printer (`socket://host:9100`) is asked its real-time status (DLE EOT 1, 2, 4) before
and after printing, over a real TCP connection on loopback to the printer simulator: 缺纸 and 脱机
are reported as such, and a printer that does not answer gives "status unknown" (未确认), not a
failure."""

from __future__ import annotations

import time

import pytest

from devices.printer.port import NO_STATUS, PrintFailed, print_to, query_status, open_port
from devices.printer.receipts import slip_bytes
from devices.printer.simulator import PrinterSimulator
from tests.devices.printer.test_escpos import SLIP

TIMEOUT_S = 0.3


@pytest.fixture
def printer():
    sim = PrinterSimulator(idle_flush_s=0.3, tcp=True)
    sim.start()
    yield sim
    sim.stop()


def test_a_ready_network_printer_prints_and_confirms(printer: PrinterSimulator) -> None:
    assert printer.path.startswith("socket://127.0.0.1:")
    assert print_to(printer.path, 9600, slip_bytes(SLIP), status_timeout_s=TIMEOUT_S) is None
    (doc,) = printer.wait_for_documents(1, timeout_s=5)
    assert doc.qr_payloads() == [SLIP.rating_url] and doc.unknown == []


def test_the_status_bytes_are_the_datasheet_s(printer: PrinterSimulator) -> None:
    port = open_port(printer.path, 9600, TIMEOUT_S)
    try:
        status = query_status(port, TIMEOUT_S)
        assert status is not None and (status.printer, status.cause, status.paper) == (0x12, 0x12, 0x12)
        printer.set_paper(False)
        status = query_status(port, TIMEOUT_S)
        assert status is not None and (status.printer, status.cause, status.paper) == (0x1A, 0x32, 0x72)
        assert status.problem() is not None and status.problem().reason == "no_paper"
    finally:
        port.close()


@pytest.mark.parametrize(("switch", "reason"), [("paper", "no_paper"), ("cover", "offline")])
def test_paper_out_or_off_line_before_printing_fails_and_prints_nothing(
        printer: PrinterSimulator, switch: str, reason: str) -> None:
    if switch == "paper":
        printer.set_paper(False)
    else:
        printer.set_cover_open(True)
    with pytest.raises(PrintFailed) as err:
        print_to(printer.path, 9600, slip_bytes(SLIP), status_timeout_s=TIMEOUT_S)
    assert err.value.reason == reason
    assert printer.wait_for_documents(1, timeout_s=0.8) == []


def test_paper_running_out_during_the_print_fails_it() -> None:
    holder: list[PrinterSimulator] = []
    sim = PrinterSimulator(idle_flush_s=0.3, tcp=True, on_document=lambda doc: holder[0].set_paper(False))
    holder.append(sim)
    sim.start()
    try:
        with pytest.raises(PrintFailed) as err:
            print_to(sim.path, 9600, slip_bytes(SLIP), status_timeout_s=TIMEOUT_S)
        assert err.value.reason == "no_paper"
        assert len(sim.documents) == 1                  # it came out, likely cut short: 补打
    finally:
        sim.stop()


def test_a_printer_that_does_not_answer_status_is_unconfirmed_not_failed(printer: PrinterSimulator) -> None:
    printer.set_status_replies(False)
    started_s = time.monotonic()
    assert print_to(printer.path, 9600, slip_bytes(SLIP), status_timeout_s=TIMEOUT_S) == NO_STATUS
    assert time.monotonic() - started_s < 10 * TIMEOUT_S          # one short wait before, one after
    assert len(printer.wait_for_documents(1, timeout_s=5)) == 1


def test_nobody_listening_is_not_connected() -> None:
    sim = PrinterSimulator(tcp=True)
    url = sim.start()
    sim.stop()
    with pytest.raises(PrintFailed) as err:
        print_to(url, 9600, b"\x1b@x", status_timeout_s=TIMEOUT_S)
    assert err.value.reason == "not_connected"
