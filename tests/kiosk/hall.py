"""A real hall server in-process (Hub + Bus on ipc) with the demo hall, and the staff side that
finishes a 办件 at a window so that the server opens a rating for that window's kiosk."""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Any, Callable

from config.loader import load_hall
from hall_server.transport.bus import Bus
from hall_server.core.hub import Hub
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key, server_keys

DEMO = Path(__file__).resolve().parents[2] / "config" / "examples" / "demo-hall"


def wait(pred: Callable[[], Any], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return bool(pred())


class Hall:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = load_hall(DEMO)
        self.hub = Hub(root / "hall.db", self.config)
        self.address = f"ipc://{root}/bus"
        self.bus: Bus | None = None
        self.clients: list[HallClient] = []

    def start_bus(self) -> "Hall":
        self.bus = Bus(self.hub, self.address, server_keys(self.root), self.root / "keys" / "nodes",
                       heartbeat_s=0.2, silence_s=1.0).start()
        return self

    def stop_bus(self) -> None:
        if self.bus is not None:
            self.bus.stop()
            self.bus = None

    def keys(self, node: str) -> Path:
        return new_node_key(self.root, node)

    def client(self, node: str, outbox: Path | None = None, **kw: Any) -> HallClient:
        keys_dir = self.root / "keys" / "issued"
        if not (keys_dir / f"{node}.key_secret").exists():
            self.keys(node)
        c = HallClient(node, self.address, load_node_keys(keys_dir, node), outbox or self.root / f"{node}.db",
                       heartbeat_s=0.2, silence_s=1.0, **kw).start()
        self.clients.append(c)
        return c

    def close(self) -> None:
        for c in self.clients:
            c.stop()
        self.stop_bus()
        self.hub.close()

    # the staff side -------------------------------------------------------------------------

    def finish_job(self, window: int = 3, staff_no: str = "HC2103", category: str = "A",
                   service: str = "SB-0101") -> dict[str, Any]:
        term = self.client(f"terminal-{window}")
        disp = self.client("dispenser-9")
        assert wait(lambda: term.connected and disp.connected)
        r = term.call("window.sign_in", {"staff_no": staff_no, "pin": "1234"})
        assert r["ok"], r
        assert disp.call("queue.take", {"category": category})["ok"]
        assert term.call("queue.call_next", {})["ok"]
        assert term.call("job.start", {})["ok"]
        r = term.call("job.finish", {"service_code": service})
        assert r["ok"], r
        return r["result"]

    def ratings_of(self, job: str) -> list[dict[str, Any]]:
        db = self.hub.reader()
        cur = db.execute("SELECT r.* FROM ratings r JOIN jobs j ON j.id = r.job_id WHERE j.pub = ?", [job])
        return [dict(zip([d[0] for d in cur.description], row)) for row in cur.fetchall()]


class Inbox:
    """Hands hallnet callbacks (I/O thread) to the test's thread, as Clock.schedule_once does in the app."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def change(self, key: str, value: Any) -> None:
        self.q.put(("state", key, value))

    def connection(self, up: bool) -> None:
        self.q.put(("conn", up, None))

    def reply(self, ref: str, body: dict[str, Any]) -> None:
        self.q.put(("reply", ref, body))

    def drain(self, logic: Any) -> None:
        while True:
            try:
                kind, a, b = self.q.get_nowait()
            except queue.Empty:
                return
            if kind == "state":
                logic.on_state(a, b)
            elif kind == "reply":
                logic.on_reply(a, b)
            else:
                logic.on_connection(a)
