"""Slips printed by the devices gateway (issue #11): a real bus, a window finishing a 办件, the
window's printer as a simulator on a pty, a port that is missing, and a network printer
(`socket://` to a TCP listener on loopback)."""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

import pytest

from config.loader import load_hall
from devices.gateway import Gateway
from devices.printer.decoder import EscPosDecoder
from devices.printer.simulator import PrinterSimulator
from devices.printer.port import FilePort, port_kind
from hall_server.core import qr_token
from hall_server.transport.bus import Bus
from hall_server.core.hub import Hub
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key, server_keys
from tests.conftest import DEMO_HALL, wait_until

QR_BASE = "http://hall.test:8080"
PRINTER_1 = "sim://printer-1"          # window 1's printer in the demo hall
STATUS_REQUEST = re.compile(rb"\x10\x04[\x01-\x04]\Z")


@pytest.fixture
def hall(tmp_path: Path):
    config = load_hall(DEMO_HALL)
    hub = Hub(tmp_path / "hall.db", config)
    bus = Bus(hub, f"ipc://{tmp_path}/bus", server_keys(tmp_path), tmp_path / "keys" / "nodes",
              heartbeat_s=0.2, silence_s=1.0).start()
    clients: dict[str, HallClient] = {}
    gateways: list[Gateway] = []

    def client(node: str) -> HallClient:
        if node not in clients:
            keys = new_node_key(tmp_path, node)
            clients[node] = HallClient(node, f"ipc://{tmp_path}/bus", load_node_keys(keys, node),
                                       tmp_path / f"{node}.db", heartbeat_s=0.2, silence_s=1.0).start()
        return clients[node]

    def gateway(port_map: dict[str, str]) -> Gateway:
        keys = new_node_key(tmp_path, "gateway-1")
        c = HallClient("gateway-1", f"ipc://{tmp_path}/bus", load_node_keys(keys, "gateway-1"),
                       tmp_path / "gateway-1.db", heartbeat_s=0.2, silence_s=1.0)
        gw = Gateway(config, c, port_map, qr_base=QR_BASE).start()
        gateways.append(gw)
        return gw

    yield hub, client, gateway
    for gw in gateways:
        gw.stop()
    for c in clients.values():
        c.stop()
    bus.stop()
    hub.close()


def finish_a_job(client, window: int = 1) -> dict:
    terminal, dispenser = client(f"terminal-{window}"), client("dispenser-1")
    if terminal.get(f"window/{window}", {}).get("staff") is None:
        assert terminal.call("window.sign_in", {"staff_no": "HC2101", "pin": "1234"}, timeout_s=10)["ok"]
    assert dispenser.call("queue.take", {"category": "H"}, timeout_s=10)["ok"]
    assert terminal.call("queue.call_next", {}, timeout_s=10)["ok"]
    assert terminal.call("job.start", {}, timeout_s=10)["ok"]
    service = next(s.code for s in load_hall(DEMO_HALL).services if s.category == "H")
    finished = terminal.call("job.finish", {"service_code": service}, timeout_s=10)
    assert finished["ok"], finished
    return finished["result"]


def slip_state(hub: Hub, window: int = 1) -> dict:
    return (hub.state.get(f"window/{window}") or {}).get("slip") or {}


def test_the_gateway_prints_the_slip_whose_qr_verifies(hall, tmp_path: Path) -> None:
    hub, client, gateway = hall
    with PrinterSimulator(idle_flush_s=0.3) as printer:
        gateway({PRINTER_1: printer.path})
        fin = finish_a_job(client)
        docs = printer.wait_for_documents(1, timeout_s=10)
        assert len(docs) == 1, "the slip was printed"
        (url,) = docs[0].qr_payloads()
        assert url.startswith(QR_BASE + "/r/")
        assert qr_token.verify(hub.secret, url.removeprefix(QR_BASE + "/r/"), fin["rating_expires_ms"] / 1000) \
            == fin["job"]
        assert any(fin["job_no"] in line for line in docs[0].lines())
        assert wait_until(lambda: slip_state(hub).get("state") == "printed")
        assert hub.state.get("slips/1") is None


def test_a_missing_printer_shows_failed_and_a_reprint_prints_once_it_is_back(hall, tmp_path: Path) -> None:
    hub, client, gateway = hall
    link = tmp_path / "ttyUSB-printer"               # nothing there yet: the printer is unplugged
    gateway({PRINTER_1: str(link)})
    fin = finish_a_job(client)
    assert wait_until(lambda: slip_state(hub).get("state") == "failed")
    assert slip_state(hub)["error"] == "not_connected" and slip_state(hub)["job_no"] == fin["job_no"]
    assert wait_until(lambda: hub.state.get("device/gateway-1/printer-1") == {
        "online": False, "port": PRINTER_1, "error": "not_connected"})                  # managers see it too
    with PrinterSimulator(idle_flush_s=0.3) as printer:
        os.symlink(printer.path, link)               # plugged in
        assert printer.wait_for_documents(1, timeout_s=1.0) == [], "a failed print is not retried silently"
        r = client("terminal-1").call("slip.reprint", {}, timeout_s=10)
        assert r["ok"] and r["result"]["job_no"] == fin["job_no"]
        docs = printer.wait_for_documents(1, timeout_s=10)
        assert len(docs) == 1 and "（补打）" in "".join(docs[0].lines())
        assert wait_until(lambda: slip_state(hub).get("state") == "printed")
        assert printer.wait_for_documents(2, timeout_s=1.0) == docs, "printed once"
        assert wait_until(lambda: hub.state.get("device/gateway-1/printer-1", {}).get("online") is True)


def test_out_of_paper_is_reported_as_such(hall) -> None:
    hub, client, gateway = hall
    with PrinterSimulator(idle_flush_s=0.3) as printer:
        printer.set_paper(False)
        gateway({PRINTER_1: printer.path})
        finish_a_job(client)
        assert wait_until(lambda: slip_state(hub).get("state") == "failed")
        assert slip_state(hub)["error"] == "no_paper"
        printer.set_paper(True)
        assert client("terminal-1").call("slip.reprint", {}, timeout_s=10)["ok"]
        assert len(printer.wait_for_documents(1, timeout_s=10)) == 1


def test_a_print_waiting_while_no_gateway_runs_is_printed_when_one_starts(hall) -> None:
    hub, client, gateway = hall
    finish_a_job(client)
    assert hub.state.get("slips/1")["pending"] and slip_state(hub)["state"] == "printing"
    with PrinterSimulator(idle_flush_s=0.3) as printer:
        gateway({PRINTER_1: printer.path})
        assert len(printer.wait_for_documents(1, timeout_s=10)) == 1
        assert wait_until(lambda: slip_state(hub).get("state") == "printed")


class TcpPrinter:
    """A network printer's raw port 9100 on loopback: keeps every byte it receives, and answers
    the real-time status requests (DLE EOT n) "online, no error" (the gateway asks before and after
    printing, devices/printer/port.py; a printer that does not answer makes the print 未确认)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    with self.lock:
                        self.received += data
                    if STATUS_REQUEST.match(data[-3:]):
                        conn.sendall(b"\x12")

    def document(self) -> bytes:
        """What was printed: the bytes without the status requests before and after them."""
        with self.lock:
            data = bytes(self.received)
        while STATUS_REQUEST.match(data[:3]):
            data = data[3:]
        while len(data) >= 3 and STATUS_REQUEST.match(data[-3:]):
            data = data[:-3]
        return data

    def close(self) -> None:
        self.sock.close()


def test_a_network_printer_gets_the_escpos_bytes(hall) -> None:
    hub, client, gateway = hall
    printer = TcpPrinter()
    try:
        gateway({PRINTER_1: f"socket://127.0.0.1:{printer.port}"})
        fin = finish_a_job(client)
        assert wait_until(lambda: slip_state(hub).get("state") == "printed")
        data = printer.document()
        assert data.startswith(b"\x1b@\x1c&")                            # ESC @, FS & (GB18030)
        decoder = EscPosDecoder()
        (doc,) = decoder.feed(data)
        (url,) = doc.qr_payloads()
        assert qr_token.verify(hub.secret, url.split("/r/")[1], fin["rating_expires_ms"] / 1000) == fin["job"]
    finally:
        printer.close()


def test_usb_printer_devices_are_written_as_files(tmp_path: Path) -> None:
    assert port_kind("/dev/usb/lp0") == "file" and port_kind("/dev/lp1") == "file"
    assert port_kind("socket://10.0.0.9:9100") == "socket"
    assert port_kind("/dev/ttyUSB0") == "serial" and port_kind("/dev/pts/4") == "serial"
    out = tmp_path / "lp0"
    port = FilePort(str(out))
    port.write(b"\x1b@slip")
    port.flush()
    port.close()
    assert out.read_bytes() == b"\x1b@slip"
