"""Issue #11: a staff terminal's whole message stream holds no rating token.

A real hall server process on loopback; the devices gateway (in this process) with window 1's
printer as a simulator on a pty; and a terminal node speaking the wire itself (CURVE DEALER + SUB),
so that every frame it receives — replies, state deltas, snapshots, heartbeats — is kept raw.
The terminal signs in, calls, starts and finishes a 办件 and asks for a 补打; the slip is printed
twice with the signed link. The test then signs that link itself with the server's secret and
searches every frame the terminal got (and the public `/api/state`) for it and for any "/r/" link.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import zmq

from config.loader import load_hall
from devices.gateway import Gateway
from devices.printer.simulator import PrinterSimulator
from hall_server.core import qr_token
from hall_server.core.secret import load_secret
from hallnet import messages as m
from hallnet.address import BusAddress
from hallnet.client import HallClient
from hallnet.keys import NodeKeys, apply_client_keys, load_node_keys
from tests.conftest import DEMO_HALL, ServerProcess, wait_until

pytestmark = pytest.mark.e2e

WINDOW = 1                      # the demo hall's window 1 has a slip printer (sim://printer-1)


class RecordingTerminal:
    """terminal-N on the wire: sends envelopes, keeps every frame it receives, undecoded."""

    def __init__(self, bus: str, keys: NodeKeys, node: str) -> None:
        address = BusAddress.parse(bus)
        self.node = node
        self.ctx = zmq.Context()
        self.dealer = self.ctx.socket(zmq.DEALER)
        self.sub = self.ctx.socket(zmq.SUB)
        for sock in (self.dealer, self.sub):
            apply_client_keys(sock, keys)
            sock.linger = 0
        self.sub.subscribe(b"")
        self.dealer.connect(address.commands)
        self.sub.connect(address.states)
        self.frames: list[bytes] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.snapshots = 0
        self.lock = threading.Lock()
        self.seq = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        poller = zmq.Poller()
        poller.register(self.dealer, zmq.POLLIN)
        poller.register(self.sub, zmq.POLLIN)
        while not self._stop.is_set():
            for sock, _ in poller.poll(100):
                frame = sock.recv()
                env = m.decode(frame)
                with self.lock:
                    self.frames.append(frame)
                    if env.type == m.REPLY:
                        self.replies[env.body["ref"]] = env.body
                    elif env.type == m.SNAPSHOT:
                        self.snapshots += 1

    def send(self, type_: str, body: dict[str, Any]) -> m.Envelope:
        self.seq += 1
        env = m.Envelope(type=type_, node=self.node, seq=self.seq, body=body)
        self.dealer.send(m.encode(env))
        return env

    def call(self, type_: str, body: dict[str, Any]) -> dict[str, Any]:
        env = self.send(type_, body)
        assert wait_until(lambda: env.id in self.replies, 10), f"no reply to {type_}"
        reply = self.replies[env.id]
        assert reply["ok"], reply
        return reply["result"]

    def snapshot(self) -> None:
        before = self.snapshots
        self.send(m.SNAPSHOT, {"prefix": ""})
        assert wait_until(lambda: self.snapshots > before, 10), "no snapshot"

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.dealer.close(0)
        self.sub.close(0)
        self.ctx.term()


def test_a_terminal_never_receives_the_rating_token(server: ServerProcess, tmp_path: Path) -> None:
    config = load_hall(DEMO_HALL)
    keys = {node: server.new_key(node) for node in (f"terminal-{WINDOW}", "dispenser-1", "gateway-1")}
    server.start()
    terminal = RecordingTerminal(server.bus, load_node_keys(keys[f"terminal-{WINDOW}"], f"terminal-{WINDOW}"),
                                 f"terminal-{WINDOW}")
    dispenser = HallClient("dispenser-1", server.bus, load_node_keys(keys["dispenser-1"], "dispenser-1"),
                           tmp_path / "dispenser.db", subscribe=False).start()
    printer = PrinterSimulator(idle_flush_s=0.3)
    printer.start()
    gateway_client = HallClient("gateway-1", server.bus, load_node_keys(keys["gateway-1"], "gateway-1"),
                                tmp_path / "gateway.db")
    gateway = Gateway(config, gateway_client, {config.window(WINDOW).printer.port: printer.path},
                      qr_base=server.http).start()
    try:
        terminal.snapshot()
        terminal.call("window.sign_in", {"staff_no": "HC2101", "pin": "1234"})
        assert dispenser.call("queue.take", {"category": "H"}, timeout_s=10)["ok"]
        terminal.call("queue.call_next", {})
        terminal.call("job.start", {})
        service = next(s.code for s in config.services if s.category == "H")
        fin = terminal.call("job.finish", {"service_code": service})
        first = printer.wait_for_documents(1, timeout_s=15)
        assert len(first) == 1, "the gateway printed the slip"
        # the server has the gateway's result for it (a 补打 asked while the first print is still
        # pending is that same print, `already`): the printer has the paper before the server knows
        wait_until(lambda: not (gateway_client.get(f"slips/{WINDOW}") or {}).get("pending"), 10)
        reprint = terminal.call("slip.reprint", {})
        assert reprint["job_no"] == fin["job_no"]
        docs = printer.wait_for_documents(2, timeout_s=15)
        assert len(docs) == 2, "and the reprint"
        terminal.snapshot()                                  # the state as it is now, whole
        time.sleep(0.5)                                     # the last deltas (print results)

        # the token, signed again here with the server's secret
        db = sqlite3.connect(f"file:{server.data / 'hall.db'}?mode=ro", uri=True)
        finished_ms = db.execute("SELECT finished_ms FROM jobs WHERE pub = ?", [fin["job"]]).fetchone()[0]
        states = db.execute("SELECT state FROM slips ORDER BY id").fetchall()
        db.close()
        path = qr_token.qr_path(load_secret(server.data), fin["job"], finished_ms, config.hall.rating.qr_valid_days)
        token = path.removeprefix("/r/").encode()
        assert [d.qr_payloads() for d in docs] == [[server.http + path]] * 2, "the slips hold exactly that link"
        assert states == [("printed",), ("printed",)]

        with terminal.lock:
            frames = list(terminal.frames)
        assert len(frames) > 10 and terminal.snapshots >= 2
        decoded = [m.decode(f) for f in frames]
        assert {e.type for e in decoded} >= {m.REPLY, m.DELTA, m.SNAPSHOT}
        seen_slip = [e for e in decoded if e.type == m.DELTA and any(
            k == f"window/{WINDOW}" and isinstance(v, dict) and (v.get("slip") or {}).get("state") == "printed"
            for _, k, v in e.body["d"])]
        assert seen_slip, "the terminal saw the print status"
        payload, _, mac = token.partition(b".")
        for frame in frames:
            assert token not in frame and payload not in frame and mac not in frame
            assert b"/r/" not in frame
        with urllib.request.urlopen(server.http + "/api/state", timeout=5) as r:
            public = r.read()
        assert token not in public and b"/r/" not in public and payload not in public
    finally:
        gateway.stop()
        printer.stop()
        dispenser.stop()
        terminal.close()
