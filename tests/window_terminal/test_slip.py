"""The QR slip after a finish: printed on the window's printer (a real pyserial loop port here),
skipped for `sim://` placeholders and windows without a printer."""

from __future__ import annotations

import dataclasses
import logging

import serial

from window_terminal.slip import make_slip, print_in_background, print_slip

CASE = {"job": "0f1e2d3c4b5a69788796", "job_no": "37100220261123000042", "service": "SB-0103",
        "finished_ms": 1_795_000_000_000, "qr_path": "/r/SIGNED.token-0f1e", "qr_url": None}


class KeptOpen:
    """A loop:// port whose bytes the test reads after the terminal closed it."""

    def __init__(self) -> None:
        self.port = serial.serial_for_url("loop://", timeout=0.2)
        self.opened_with: tuple = ()

    def open(self, url: str, **kw):
        self.opened_with = (url, kw)
        return self

    def write(self, data: bytes) -> int:
        return self.port.write(data)

    def flush(self) -> None:
        self.port.flush()

    def close(self) -> None:
        pass


def with_printer(config, window: int, port: str):
    from config.schema import Printer

    windows = tuple(dataclasses.replace(w, printer=Printer(port=port, baud=19200)) if w.number == window else w
                    for w in config.windows)
    return dataclasses.replace(config, windows=windows)


def test_the_slip_is_printed_with_the_case_and_the_rating_link(demo) -> None:
    config = with_printer(demo, 1, "/dev/ttyUSB-printer")
    port = KeptOpen()
    assert print_slip(config, 1, CASE, "https://hall.example", open_port=port.open) == "printed"
    assert port.opened_with[0] == "/dev/ttyUSB-printer" and port.opened_with[1]["baudrate"] == 19200
    data = port.port.read(10_000)
    assert demo.hall.name.encode("gb18030") in data
    assert "社会保障卡申领".encode("gb18030") in data
    assert CASE["job_no"].encode() in data
    assert b"https://hall.example/r/SIGNED.token-0f1e" in data
    slip = make_slip(config, 1, CASE, "https://hall.example/")
    assert slip.window == "1号窗口" and slip.rating_url == "https://hall.example/r/SIGNED.token-0f1e"
    configured = make_slip(config, 1, {**CASE, "qr_url": "http://10.0.0.5:8080/r/SIGNED.token-0f1e"}, "https://x")
    assert configured.rating_url == "http://10.0.0.5:8080/r/SIGNED.token-0f1e"   # the hall's public_url wins


def test_placeholder_ports_and_windows_without_a_printer_are_skipped(demo, caplog) -> None:
    caplog.set_level(logging.INFO, logger="window_terminal.slip")
    assert print_slip(demo, 1, CASE, "http://x/q") == "simulated"                # demo: sim://printer-1
    assert "placeholder" in caplog.text
    assert print_slip(demo, 9, CASE, "http://x/q") == "no_printer"


def test_a_printer_that_cannot_be_opened_is_reported_not_raised(demo) -> None:
    config = with_printer(demo, 2, "/nonexistent/tty")
    assert print_slip(config, 2, CASE, "http://x/q") == "failed"
    outcomes: list[str] = []
    print_in_background(config, 2, CASE, "http://x/q", outcomes.append).join(5)
    assert outcomes == ["failed"]


def test_a_mapped_printer_port_prints_on_the_simulator(demo) -> None:
    from devices.printer.blocks import Qr
    from devices.printer.simulator import PrinterSimulator
    from window_terminal.cli import _with_printer_ports

    assert demo.window(1).printer.port == "sim://printer-1"
    with PrinterSimulator() as sim:
        config = _with_printer_ports(demo, {"sim://printer-1": sim.path})
        assert config.window(1).printer.port == sim.path and config.window(2).printer.port == "sim://printer-2"
        assert print_slip(config, 1, CASE, "https://hall.example") == "printed"
        doc, = sim.wait_for_documents(1, timeout_s=10)
    assert any(CASE["job_no"] in line for line in doc.lines())
    assert [item.data for item in doc.items if isinstance(item, Qr)] == ["https://hall.example/r/SIGNED.token-0f1e"]
