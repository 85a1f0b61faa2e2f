"""`python -m devices simulate printer --tcp 0`: a network printer's raw port on loopback, with
control lines for paper, cover and status replies; the gateway's status check sees each switch."""

from __future__ import annotations

import pytest

from devices.printer.port import NO_STATUS, PrintFailed, print_to
from devices.printer.receipts import slip_bytes
from tests.devices.test_cli import Process
from tests.devices.printer.test_escpos import SLIP


class TcpPrinterProcess(Process):
    """The printer simulator on a TCP port; `url` is its `socket://` address."""

    def __init__(self) -> None:
        super().__init__("simulate", "printer", "--tcp", "0", "--idle-flush-s", "0.3",
                         announces="TCP socket://127.0.0.1:")
        self.url = self.path

    def say(self, line: str) -> str:
        """Send a control line; its answer (the decoded documents printed before it are skipped)."""
        self.proc.stdin.write(line + "\n")              # type: ignore[union-attr]
        self.proc.stdin.flush()                          # type: ignore[union-attr]
        while True:
            answer = self.line().strip()
            if answer.split(" ", 1)[0] in ("ok", "error:", "bye"):
                return answer


def test_the_tcp_printer_simulator_answers_status_and_its_switches() -> None:
    p = TcpPrinterProcess()
    try:
        assert print_to(p.url, 9600, slip_bytes(SLIP), status_timeout_s=0.5) is None
        assert p.line() == "--- document 1 (cut: partial) ---"
        assert p.say("paper out") == "ok paper out"
        with pytest.raises(PrintFailed) as err:
            print_to(p.url, 9600, slip_bytes(SLIP), status_timeout_s=0.5)
        assert err.value.reason == "no_paper"
        assert p.say("paper in") == "ok paper in" and p.say("cover open") == "ok cover open"
        with pytest.raises(PrintFailed) as err:
            print_to(p.url, 9600, slip_bytes(SLIP), status_timeout_s=0.5)
        assert err.value.reason == "offline"
        assert p.say("cover closed") == "ok cover closed" and p.say("replies off") == "ok replies off"
        assert print_to(p.url, 9600, slip_bytes(SLIP), status_timeout_s=0.3) == NO_STATUS
        while not p.line().startswith("--- document 2"):           # printed, status unanswered
            pass
        assert p.say("status") == "ok 2 documents"
        assert p.say("quit") == "bye"
        assert p.proc.wait(timeout=5) == 0
    finally:
        p.close()
