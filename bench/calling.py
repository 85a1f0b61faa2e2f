"""Calling benchmark: call → hall-screen update latency, beside the raw state-delta latency, in one run.

A real hall server process (`python -m hall_server`) on the demo hall's configuration widened to
`--windows` windows (100: every window staffed and signed in, tickets waiting). Connected the
whole time, in this process:
  screen  a live hall-screen client: `GET /screen/events` over HTTP (what `/screen/hall`'s page
          listens to), parsed as the browser's EventSource does
  delta   a SUB client of the bus (`hallnet.client.HallClient`), the raw state deltas the
          screen's stream is made from
Then `--calls` calls (queue.call_next from the windows' terminals, round robin; a window's
previous ticket is marked a no-show first), one at a time: for each, the time from sending the
command to (a) the `calls` delta carrying the new call's id at the SUB client and (b) the
screen event carrying it at the SSE client. Prints p50/p99/max of both and the goal
(screen p99 ≤ 300 ms). Never fails on time.

    .venv/bin/python bench/calling.py [--windows 100] [--calls 200]
"""

from __future__ import annotations

import os
import sys

# bench/http.py is named like the standard library's `http` package: drop this folder from the path
# before anything imports `http.client`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import free_port, percentile  # noqa: E402
from config.pins import hash_pin  # noqa: E402
from hallnet.client import HallClient  # noqa: E402
from hallnet.keys import load_node_keys, new_node_key  # noqa: E402
from hallnet.vocabulary import Msg, NodeKind, node_id  # noqa: E402

DEMO = ROOT / "config" / "examples" / "demo-hall"
GOAL_P99_MS = 300.0
PIN = "1234"


def widen_hall(folder: Path, windows: int) -> None:
    """The demo hall with `windows` windows (categories in turn) and one staff member for each."""
    shutil.copytree(DEMO, folder)
    cats = ["A", "B", "C", "D", "E", "F", "G", "H"]
    w = [f'[[windows]]\nnumber = {n}\nname = "{n}号窗口"\ncategories = ["{cats[(n - 1) % len(cats)]}"]\nkiosk = false\n'
         for n in range(1, windows + 1)]
    (folder / "windows.toml").write_text("\n".join(w), "utf-8")
    pin_hash = hash_pin(PIN)
    s = [f'[[staff]]\nstaff_no = "B{n:04d}"\nname = "职员{n}"\ndepartment = "行政审批局"\npin_hash = "{pin_hash}"\n'
         for n in range(1, windows + 1)]
    (folder / "staff.toml").write_text("\n".join(s), "utf-8")


class ScreenClient(threading.Thread):
    """A live hall-screen listener: reads `/screen/events` and notes when each call id first shows."""

    def __init__(self, port: int) -> None:
        super().__init__(name="screen-sse", daemon=True)
        self.port = port
        self.seen: dict[int, float] = {}          # call id -> perf_counter when its event arrived
        self.events = 0
        self.ready = threading.Event()
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.request("GET", "/screen/events", headers={"Accept": "text/event-stream"})
            r = conn.getresponse()
            kind = ""
            while not self.stop:
                raw = r.fp.readline()
                if not raw:
                    break                          # the stream ended (STREAM_MAX_S): reconnect
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "screen":
                    now = time.perf_counter()
                    data = json.loads(line[6:])
                    self.events += 1
                    for c in data.get("calls") or []:
                        self.seen.setdefault(int(c["id"]), now)
                    self.ready.set()
            conn.close()


def wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the hall server exited (see its log)")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the hall server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windows", type=int, default=100)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--gap-ms", type=float, default=20.0, help="pause between two calls")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        hall, data = work / "hall", work / "data"
        widen_hall(hall, args.windows)
        data.mkdir()
        terminals = [node_id(NodeKind.TERMINAL, n) for n in range(1, args.windows + 1)]
        for node in [*terminals, node_id(NodeKind.DISPENSER, 1), node_id(NodeKind.KIOSK, 1)]:
            new_node_key(data, node)
        bus_port, http_port = free_port(pair=True), free_port()
        log = open(work / "server.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "hall_server", "--config", str(hall), "--data", str(data),
                                 "--bus", f"127.0.0.1:{bus_port}", "--http", f"127.0.0.1:{http_port}",
                                 "--log-level", "WARNING"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        clients: list[HallClient] = []
        try:
            wait_http(f"http://127.0.0.1:{http_port}/api/health", proc)
            bus = f"127.0.0.1:{bus_port}"
            keys = data / "keys" / "issued"
            delta_seen: dict[int, float] = {}

            def on_change(key: str, value: Any) -> None:
                if key == "calls" and isinstance(value, dict):
                    now = time.perf_counter()
                    for c in value.get("recent") or []:
                        delta_seen.setdefault(int(c["id"]), now)

            kiosk = node_id(NodeKind.KIOSK, 1)
            sub = HallClient(kiosk, bus, load_node_keys(keys, kiosk), work / f"{kiosk}.db",
                             subscribe=True, on_change=on_change, outbox_sync="OFF").start()
            clients.append(sub)

            def node(name: str) -> HallClient:
                c = HallClient(name, bus, load_node_keys(keys, name), work / f"{name}.db", subscribe=False,
                               outbox_sync="OFF", heartbeat_s=2.0, silence_s=6.0).start()
                clients.append(c)
                return c

            dispenser = node(node_id(NodeKind.DISPENSER, 1))
            desks = [node(t) for t in terminals]
            t0 = time.perf_counter()
            for n, desk in enumerate(desks, start=1):
                desk.call(Msg.WINDOW_SIGN_IN, {"staff_no": f"B{n:04d}", "pin": PIN}, timeout_s=30)
            per_window = -(-args.calls // args.windows)
            for n in range(1, args.windows + 1):
                cat = ["A", "B", "C", "D", "E", "F", "G", "H"][(n - 1) % 8]
                for _ in range(per_window):
                    dispenser.call(Msg.QUEUE_TAKE, {"category": cat}, timeout_s=30)
            print(f"hall: {args.windows} windows signed in, {per_window * args.windows} tickets taken "
                  f"in {time.perf_counter() - t0:.1f} s")
            screen = ScreenClient(http_port)
            screen.start()
            if not screen.ready.wait(10):
                raise SystemExit("no screen event within 10 s")
            screen_ms: list[float] = []
            delta_ms: list[float] = []
            missed = 0
            called: set[int] = set()
            for i in range(args.calls):
                desk = desks[i % len(desks)]
                if i >= len(desks):
                    desk.call(Msg.QUEUE_NO_SHOW, {}, timeout_s=10)
                before = set(delta_seen)
                sent = time.perf_counter()
                desk.call(Msg.QUEUE_CALL_NEXT, {}, timeout_s=10)
                deadline = time.perf_counter() + 5
                new: set[int] = set()
                while time.perf_counter() < deadline:
                    new = set(delta_seen) - before - called
                    if new and all(k in screen.seen for k in new):
                        break
                    time.sleep(0.0005)
                if len(new) != 1 or not all(k in screen.seen for k in new):
                    missed += 1
                    continue
                call_id = new.pop()
                called.add(call_id)
                delta_ms.append((delta_seen[call_id] - sent) * 1000)
                screen_ms.append((screen.seen[call_id] - sent) * 1000)
                time.sleep(args.gap_ms / 1000)
            screen.stop = True
        finally:
            for c in clients:
                c.stop()
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()

    def row(name: str, values: list[float]) -> str:
        return (f"{name:<34} n={len(values):<4} p50 {percentile(values, 50):7.1f} ms   "
                f"p99 {percentile(values, 99):7.1f} ms   max {max(values) if values else float('nan'):7.1f} ms")

    print(f"{args.calls} calls, {args.windows} windows, one live hall-screen stream, one SUB client "
          f"({missed} not observed within 5 s)")
    print(row("state delta (SUB client of the bus)", delta_ms))
    print(row("hall screen (/screen/events)", screen_ms))
    extra = [s - d for s, d in zip(screen_ms, delta_ms)]
    print(row("screen minus delta", extra))
    p99 = percentile(screen_ms, 99)
    print(f"goal: hall screen p99 <= {GOAL_P99_MS:.0f} ms -> {p99:.1f} ms "
          f"({'met' if p99 <= GOAL_P99_MS else 'NOT met'})")


if __name__ == "__main__":
    main()
