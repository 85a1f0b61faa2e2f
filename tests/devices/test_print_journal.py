"""A gateway that dies between the paper coming out and `slip.result` must not print the slip
twice on restart (issue #11): the print journal notes each slip before its first byte goes to the
printer, and a restart reports a slip left in it as unconfirmed (`interrupted`, 未确认).

First with a real `python -m devices` process SIGKILLed while the slip is on the printer (a network
printer simulator on loopback that leaves its status unanswered, so the gateway is still waiting
for it), then at the function level (a journal entry left behind, a result already in the outbox)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from config.loader import load_hall
from devices.gateway import Gateway
from devices.print_journal import PrintJournal
from devices.printer.simulator import PrinterSimulator
from hallnet import messages as m
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key
from tests.conftest import DEMO_HALL, ROOT, ServerProcess, wait_until
from tests.devices.test_slip_printing import PRINTER_1, finish_a_job, hall, slip_state  # noqa: F401 (fixture)

STATUS_TIMEOUT_S = 4.0                 # the gateway waits this long for the silent printer: our window


def slips(db_path: Path) -> list[tuple[int, str, str | None]]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in db.execute("SELECT id, state, error FROM slips ORDER BY id")]
    finally:
        db.close()


def journal_rows(path: Path) -> list[tuple[int, int]]:
    db = sqlite3.connect(path)
    try:
        return [tuple(r) for r in db.execute("SELECT print_id, window FROM sent")]
    finally:
        db.close()


def start_gateway(server: ServerProcess, keys: Path, data: Path, printer_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "devices", "--config", str(DEMO_HALL), "--bus", server.bus, "--keys", str(keys),
         "--data", str(data), "--node", "gateway-1", "--map", f"{PRINTER_1}={printer_url}",
         "--qr-base", server.http, "--printer-status-timeout-s", str(STATUS_TIMEOUT_S)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_gateway_killed_with_the_slip_on_the_printer_reports_it_unconfirmed(server: ServerProcess,
                                                                              tmp_path: Path) -> None:
    keys = {node: server.new_key(node) for node in ("terminal-1", "dispenser-1", "gateway-1")}
    server.start()
    clients = {node: HallClient(node, server.bus, load_node_keys(keys[node], node), tmp_path / f"{node}.db").start()
               for node in ("terminal-1", "dispenser-1")}
    printer = PrinterSimulator(idle_flush_s=0.3, tcp=True)
    printer.start()
    printer.set_status_replies(False)          # the gateway waits STATUS_TIMEOUT_S after printing
    data = tmp_path / "gateway"
    gw = start_gateway(server, keys["gateway-1"], data, printer.path)
    try:
        finish_a_job(lambda node: clients[node])
        assert len(printer.wait_for_documents(1, timeout_s=30)) == 1, "the slip came out"
        gw.send_signal(signal.SIGKILL)                   # before it could report it
        gw.wait(10)
        (print_id, state, _), = slips(server.data / "hall.db")
        assert state == "pending"                        # the server never heard
        assert journal_rows(data / "gateway-1.prints.db") == [(print_id, 1)]

        printer.set_status_replies(True)
        gw = start_gateway(server, keys["gateway-1"], data, printer.path)
        assert wait_until(lambda: slips(server.data / "hall.db") == [(print_id, "unconfirmed", "interrupted")], 30)
        time.sleep(1.0)
        assert len(printer.documents) == 1, "not printed a second time"
        assert journal_rows(data / "gateway-1.prints.db") == []
        assert gw.poll() is None
    finally:
        if gw.poll() is None:
            gw.send_signal(signal.SIGTERM)
            gw.wait(15)
        printer.stop()
        for c in clients.values():
            c.stop()


def test_a_journal_entry_left_behind_is_reported_interrupted_not_printed(hall, tmp_path: Path) -> None:  # noqa: F811
    hub, client, gateway = hall
    finish_a_job(client)
    (print_id,) = hub.state.get("slips/1")["pending"]
    hub.submit("slip.fetch", {"print_id": print_id}, "gateway-1")   # it was fetched, then sent to the printer
    PrintJournal.beside(tmp_path / "gateway-1.db").sent(print_id, 1)
    with PrinterSimulator(idle_flush_s=0.3) as printer:
        gw = gateway({PRINTER_1: printer.path})
        assert gw.slips.interrupted == 1
        assert wait_until(lambda: slip_state(hub).get("state") == "unconfirmed")
        assert slip_state(hub)["error"] == "interrupted"
        assert printer.wait_for_documents(1, timeout_s=1.0) == []
        assert gw.slips.journal.left_over() == []
        # the clerk looks at the printer, finds nothing, asks for 补打: printed once, journal empty again
        assert client("terminal-1").call("slip.reprint", {}, timeout_s=10)["ok"]
        assert len(printer.wait_for_documents(1, timeout_s=10)) == 1
        assert wait_until(lambda: slip_state(hub).get("state") == "printed")
        assert gw.slips.journal.left_over() == []


def test_a_result_already_in_the_outbox_is_not_reported_twice(tmp_path: Path) -> None:
    config = load_hall(DEMO_HALL)
    keys = new_node_key(tmp_path, "gateway-1")
    client = HallClient("gateway-1", f"ipc://{tmp_path}/nobody", load_node_keys(keys, "gateway-1"),
                        tmp_path / "gateway-1.db")                           # never started: no server
    client.send("slip.result", {"print_id": 7, "ok": True})                  # written, then the crash
    journal = PrintJournal.beside(tmp_path / "gateway-1.db")
    journal.sent(7, 1)
    journal.sent(8, 2)
    gw = Gateway(config, client, {PRINTER_1: "loop://"})
    gw.slips.recover()
    sent = [(env.type, env.body) for env in (m.decode(frame) for _, _, frame in client.outbox.pending())]
    assert sent == [("slip.result", {"print_id": 7, "ok": True}),
                    ("slip.result", {"print_id": 8, "ok": False, "error": "interrupted"})]
    assert journal.left_over() == [] and gw.slips.interrupted == 1
    gw.slips.on_change("slips/1", {"window": 1, "pending": [7, 8]})           # neither is queued again
    assert all(q.empty() for q in gw.slips._queues.values())
    journal.close()
    client.stop()


def test_a_network_printer_that_does_not_answer_status_makes_the_slip_unconfirmed(hall) -> None:  # noqa: F811
    hub, client, gateway = hall
    with PrinterSimulator(idle_flush_s=0.3, tcp=True) as printer:
        printer.set_status_replies(False)
        gw = gateway({PRINTER_1: printer.path})
        fin = finish_a_job(client)
        assert wait_until(lambda: slip_state(hub).get("state") == "unconfirmed", 20)
        assert (slip_state(hub)["error"], slip_state(hub)["job_no"]) == ("no_status", fin["job_no"])
        assert len(printer.wait_for_documents(1, timeout_s=5)) == 1          # it did come out
        assert wait_until(lambda: hub.state.get("device/gateway-1/printer-1") == {
            "online": True, "port": PRINTER_1, "status_known": False})       # managers: online, status unknown
        assert gw.slips.journal.left_over() == [] and gw.slips.unconfirmed == 1
