"""R11 running: a real `python -m hall_server` with `[export]` in hall.toml delivers every rating to
its sink by itself — a folder, and an HTTP endpoint that is down first and up later: nothing lost,
nothing delivered twice, also across a restart."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from config.loader import load_hall
from hall_server.core.hub import Hub
from tests.conftest import DEMO_HALL, ServerProcess, free_port, wait_until

from .conftest import Driver, at

N = 5


def _hall(tmp_path: Path, sink: str) -> Path:
    """The demo hall with an export section."""
    folder = tmp_path / "hall"
    shutil.copytree(DEMO_HALL, folder)
    with open(folder / "hall.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[export]\nsink = "{sink}"\nevery_s = 1\n')
    return folder


def _ratings(folder: Path, data: Path, n: int = N) -> None:
    """n rated 办件 in the server's store, made before it starts."""
    config = load_hall(folder)
    data.mkdir(parents=True, exist_ok=True)
    hub = Hub(data / "hall.db", config)
    try:
        w = config.windows[0]
        service = next(s for s in config.services if s.category in w.categories)
        drv = Driver(hub, at(9, 0))
        drv.sign_in(w.number, config.staff[0].staff_no)
        for i in range(n):
            drv.serve(w.number, service.category, service.code, minutes=1)
            drv.ok("rating.submit", {"level": 5 - i % 5, "tags": ["N01"] if i % 5 >= 3 else []},
                   f"kiosk-{w.number}")
    finally:
        hub.close()


def _cursor(data: Path) -> int:
    with sqlite3.connect(data / "hall.db") as db:
        r = db.execute("SELECT MAX(last_rating_id) FROM export_cursor").fetchone()
    return r[0] or 0


def test_server_exports_to_a_folder(tmp_path: Path) -> None:
    folder = _hall(tmp_path, "folder:export")          # relative: inside the data folder
    srv = ServerProcess(data=tmp_path / "data", config=folder)
    _ratings(folder, srv.data)
    out = srv.data / "export"

    def ids() -> list[int]:
        return [json.loads(line)["rating_id"] for f in sorted(out.glob("*.jsonl"))
                for line in f.read_text("utf-8").splitlines()]

    srv.start()
    try:
        assert wait_until(lambda: ids() == list(range(1, N + 1)), 20), ids()
        assert wait_until(lambda: _cursor(srv.data) == N, 10)
        rec = json.loads(sorted(out.glob("*.jsonl"))[0].read_text("utf-8").splitlines()[0])
        assert rec["region_code"] == "371002" and rec["channel"] == 4
    finally:
        assert srv.stop() == 0
    assert ids() == list(range(1, N + 1))


class _Receiver:
    """A tiny provincial endpoint: records every POSTed JSON line."""

    def __init__(self, port: int) -> None:
        self.lines: list[dict] = []
        lines = self.lines

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                lines.extend(json.loads(x) for x in body.decode("utf-8").splitlines())
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.srv = HTTPServer(("127.0.0.1", port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def ids(self) -> list[int]:
        return [r["rating_id"] for r in self.lines]

    def close(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()


def test_http_sink_down_then_up_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    port = free_port()                                  # nothing listens here yet
    folder = _hall(tmp_path, f"http://127.0.0.1:{port}/ratings")
    srv = ServerProcess(data=tmp_path / "data", config=folder)
    _ratings(folder, srv.data)
    srv.start()
    receiver = None
    try:
        time.sleep(3)                                   # a few rounds against a closed port
        assert srv.proc is not None and srv.proc.poll() is None
        assert _cursor(srv.data) == 0
        receiver = _Receiver(port)                      # the province comes back
        assert wait_until(lambda: receiver.ids() == list(range(1, N + 1)), 20), receiver.ids()
        assert wait_until(lambda: _cursor(srv.data) == N, 10)
        time.sleep(2.5)                                 # more rounds: nothing new, nothing again
        assert receiver.ids() == list(range(1, N + 1))
        assert srv.stop() == 0
        srv.start()                                     # a restart resumes from the committed cursor
        time.sleep(2.5)
        assert receiver.ids() == list(range(1, N + 1))
    finally:
        srv.stop()
        srv.kill()
        if receiver is not None:
            receiver.close()
    log = (srv.data / "server.log").read_text("utf-8", "replace")
    assert "Traceback" not in log
