"""Floor benchmark: the live floor's reads beside the HTTP stack's own bound, in the same run.

A real hall server (`python -m hall_server`, the demo hall, some tickets waiting) and client
processes on loopback. For 1 and 8 clients, each with a new connection per request and with one
kept connection, it times
  GET /api/health    the bound: the HTTP stack, no floor
  GET /api/floor     the public floor (one snapshot per state change, serialised once)
  GET /floor/data    the managers' floor (a logged-in session: the guard checks it every time)
and prints requests/s, p50 and p99, the server process's CPU per request (from /proc: robust to
other work on the machine), and the floor's rate and CPU as a share of the health route's
(goal: ≥ 80 %). Then, in this process, what one snapshot costs to make and what a memoised
read costs (why the coordinator makes it lazily, once per state change). Never fails on time.

    .venv/bin/python bench/floor.py [--seconds 4] [--rounds 4] [--clients 1,8]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.loader import load_hall  # noqa: E402
from hall_server.core.backend import LocalBackend  # noqa: E402
from hall_server.domain.floor_snapshot import FloorCoordinator  # noqa: E402
from hall_server.core.hub import Hub  # noqa: E402
from hall_server.web.users import add_user  # noqa: E402
from hall_server.web.app import make_app  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from tests.conftest import free_port, free_port_pair  # noqa: E402
from hallnet.vocabulary import Msg, NodeKind, node_id  # noqa: E402

DEMO = ROOT / "config" / "examples" / "demo-hall"
PASSWORD = "bench-floor-pass-1"
ROUTES = ("/api/health", "/api/floor", "/floor/data")
GOAL_SHARE = 0.80


def _client(port: int, path: str, cookie: str, keep: bool, seconds: float, out: "mp.Queue[list[float]]") -> None:
    headers = {"Cookie": cookie} if cookie else {}
    if not keep:
        headers["Connection"] = "close"
    lat: list[float] = []
    conn: http.client.HTTPConnection | None = None
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        if t0 >= end:
            break
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"{path}: HTTP {r.status}")
        if not keep:
            conn.close()
            conn = None
        lat.append(time.perf_counter() - t0)
    if conn is not None:
        conn.close()
    out.put(lat)


def run(port: int, path: str, cookie: str, clients: int, keep: bool, seconds: float) -> list[float]:
    """The latencies (s) of `clients` processes hitting `path` for `seconds`."""
    q: "mp.Queue[list[float]]" = mp.Queue()
    procs = [mp.Process(target=_client, args=(port, path, cookie, keep, seconds, q)) for _ in range(clients)]
    for p in procs:
        p.start()
    lat = [x for _ in procs for x in q.get(timeout=seconds + 60)]
    for p in procs:
        p.join()
    return lat


def figures(lat: list[float], seconds: float) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms)."""
    lat = sorted(lat)
    return len(lat) / seconds, lat[len(lat) // 2] * 1000, lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000


def cpu_s(pid: int) -> float:
    """The process's CPU time so far (user + system), from /proc: robust to a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _login(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/login", body=f"user=boss&password={PASSWORD}",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    cookies = [v.split(";")[0] for k, v in r.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    if r.status != 303 or not cookies:
        raise SystemExit(f"login failed: HTTP {r.status}")
    return "; ".join(cookies)


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the hall server exited")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the hall server did not start")


async def _asgi_get(app: Any, path: str, cookie: str) -> int:
    """One GET through the app itself (no socket, no HTTP parser): its status."""
    headers = [(b"host", b"hall.test")] + ([(b"cookie", cookie.encode())] if cookie else [])
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("hall.test", 80), "root_path": ""}
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def in_process(tickets: int, n: int = 3000) -> tuple[float, float, int, dict[str, float]]:
    """On the demo hall, in this process: (ms to make one snapshot, µs per memoised read, windows,
    the app's own CPU µs per request by route: ASGI calls, no socket and no HTTP parser)."""
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp) / "hall.db", load_hall(DEMO))
        cats = [c.code for c in hub.config.categories] if hub.config else []
        for i in range(tickets):
            hub.submit(Msg.QUEUE_TAKE, {"category": cats[i % len(cats)]}, node_id(NodeKind.DISPENSER, 1))
        backend = LocalBackend(hub)
        coordinator = FloorCoordinator(backend, lambda: int(time.time() * 1000), max_age_s=0.0)
        made = []
        for _ in range(30):
            t0 = time.perf_counter()
            snap = coordinator.current()
            made.append(time.perf_counter() - t0)
        coordinator.max_age_s = 3600.0
        coordinator.current()
        reads = 20_000
        t0 = time.perf_counter()
        for _ in range(reads):
            coordinator.current()
        hit_us = (time.perf_counter() - t0) / reads * 1e6
        add_user(Path(tmp), "boss", "manager", PASSWORD)
        app = make_app(backend, api_keys={})
        with TestClient(app, base_url="http://hall.test") as c:
            c.post("/login", data={"user": "boss", "password": PASSWORD}, follow_redirects=False)
            cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        app_us: dict[str, float] = {}

        async def measure() -> None:
            for path in ROUTES:
                session = cookie if path == "/floor/data" else ""     # as over HTTP: the public floor
                for _ in range(50):
                    await _asgi_get(app, path, session)
                t0 = time.process_time()
                for _ in range(n):
                    status = await _asgi_get(app, path, session)
                app_us[path] = (time.process_time() - t0) / n * 1e6
                if status != 200:
                    raise SystemExit(f"{path}: HTTP {status}")

        asyncio.run(measure())
        hub.close()
    return statistics.median(made) * 1000, hit_us, len(snap.windows), app_us


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--rounds", type=int, default=4, help="each case's time split in interleaved rounds")
    ap.add_argument("--tickets", type=int, default=40, help="tickets waiting on the floor")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "server"
        data.mkdir()
        subprocess.run([sys.executable, "-m", "hall_server", "users", "add", "boss", "--role", "manager",
                        "--data", str(data), "--password-stdin"], input=PASSWORD.encode(), cwd=ROOT, env=env,
                       check=True, capture_output=True)
        port, bus = free_port(), free_port_pair()
        log = open(data / "server.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "hall_server", "--config", str(DEMO), "--data", str(data),
                                 "--bus", f"127.0.0.1:{bus}", "--http", f"127.0.0.1:{port}", "--log-level", "WARNING"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_http(f"http://127.0.0.1:{port}/api/health", proc)
            for i in range(args.tickets):
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/tickets", data=b'{"category": "A"}',
                                             headers={"Content-Type": "application/json"}, method="POST")
                try:
                    urllib.request.urlopen(req, timeout=10).read()
                except OSError:
                    break                           # the public write limit: enough tickets
            cookie = _login(port)
            print(f"hall server pid {proc.pid}, {os.cpu_count()} cores, {args.seconds:.0f} s per case in {args.rounds} "
                  f"interleaved rounds\n")
            print(f"{'route':<14}{'clients':>8}{'connection':>12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
                  f"{'CPU µs':>10}{'rate/hlth':>11}{'CPU hlth/':>10}")
            for clients in counts:
                for keep in (False, True):
                    lat: dict[str, list[float]] = {path: [] for path in ROUTES}
                    cpu: dict[str, float] = {path: 0.0 for path in ROUTES}
                    for i in range(args.rounds):       # interleaved: a busy moment of the machine hits every route
                        order = ROUTES if i % 2 == 0 else tuple(reversed(ROUTES))
                        for path in order:
                            c0 = cpu_s(proc.pid)
                            lat[path] += run(port, path, cookie if path == "/floor/data" else "", clients, keep,
                                             args.seconds / args.rounds)
                            cpu[path] += cpu_s(proc.pid) - c0
                    base = figures(lat["/api/health"], args.seconds)[0]
                    base_cpu = cpu["/api/health"] / len(lat["/api/health"])
                    for path in ROUTES:
                        rate, p50, p99 = figures(lat[path], args.seconds)
                        per = cpu[path] / len(lat[path])
                        share = (f"{rate / base:>10.0%}{base_cpu / per:>10.0%}" if path != "/api/health"
                                 else f"{'':>20}")
                        print(f"{path:<14}{clients:>8}{'kept' if keep else 'new':>12}{rate:>10,.0f}{p50:>9.2f}"
                              f"{p99:>9.2f}{per * 1e6:>10.0f} {share}")
        finally:
            proc.terminate()
            proc.wait(20)
            log.close()
    made_ms, hit_us, windows, app_us = in_process(args.tickets)
    print(f"\ngoal: each floor route ≥ {GOAL_SHARE:.0%} of the health route's rate, same clients and connections")
    print("CPU µs: the server process's CPU per request; 'CPU hlth/' = health's CPU per request / the route's,")
    print("the rate share the route would reach on an idle machine where the server's CPU is the limit")
    print(f"one floor snapshot ({windows} windows, {args.tickets} tickets): made in {made_ms:.2f} ms; "
          f"a memoised read {hit_us:.1f} µs")
    print("the app's own CPU per request (ASGI call in this process: no socket, no HTTP parser): " + ", ".join(
        f"{path} {us:.0f} µs" for path, us in app_us.items()))


if __name__ == "__main__":
    main()
