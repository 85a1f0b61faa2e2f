"""A slip printed over a real pty comes back from the printer simulator as the same text and QR."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import serial

from devices.printer.port import ReceiptPrinter
from devices.printer.receipts import Slip, slip_blocks
from devices.printer.simulator import PrinterSimulator

SLIP = Slip("𠇔城区政务服务中心", "3号窗口", "个体工商户设立登记", "GS20250301-0042",
            datetime(2025, 3, 1, 10, 15), "https://hall.example.gov.cn/r/7c1e")


def test_slip_over_a_pty_decodes_to_the_same_text_and_qr(tmp_path: Path) -> None:
    out = tmp_path / "docs.jsonl"
    with PrinterSimulator(out_path=out) as sim:
        port = serial.serial_for_url(sim.path, baudrate=9600)
        try:
            printer = ReceiptPrinter(port)
            assert printer.online()
            printer.print_slip(SLIP)
            printer.print_slip(SLIP)
            docs = sim.wait_for_documents(2)
        finally:
            port.close()
    assert len(docs) == 2
    assert docs[0].items == slip_blocks(SLIP)
    assert docs[0].qr_payloads() == [SLIP.rating_url]
    [first, second] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert first == second == docs[0].to_json()
    assert first["lines"][0] == "𠇔城区政务服务中心" and first["qr"] == [SLIP.rating_url]


def test_uncut_document_is_flushed_when_the_printer_goes_idle() -> None:
    with PrinterSimulator(idle_flush_s=0.1) as sim:
        port = serial.serial_for_url(sim.path, baudrate=9600)
        try:
            port.write("\x1b@\x1c&没有切纸\n".encode("gb18030"))
            [doc] = sim.wait_for_documents(1, timeout_s=3)
        finally:
            port.close()
    assert doc.lines() == ["没有切纸"] and doc.cut is None
