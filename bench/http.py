"""HTTP benchmark: take a ticket, the public floor and the health route, against a real server process.

  health  GET /api/health: the HTTP stack's own bound (uvicorn + Starlette + a few attribute reads)
  ticket  POST /api/tickets {"category": ...}: a normal ticket through the bus thread (the one writer)
  floor   GET /api/floor: the public live floor

Each measurement starts a fresh hall with 200 tickets waiting. 1 and 8 clients, each a separate process (so the load generator is not one Python thread pool);
a new connection per request, and kept (keep-alive) connections. The hall server is
`python -m hall_server` on a loopback port, its database on disk with synchronous=FULL.

Issue #11's public write limits (10 writes per client, 150 per address) would refuse a bench
at once: the bench sends the manager's X-Api-Key (HALL_MANAGER_KEY in the server's environment),
so the product's public limits stay as they are; a manager takes the same normal ticket (no
priority), through the same route and command. Prints figures; never fails on time.

`--baseline DIR` measures another checkout of the project (e.g. main's) in the same sitting: each
row is measured on it right after this checkout, and printed beneath. Both also print, in
process (no HTTP), the SQL statements one ticket costs and the hub's CPU per ticket (a hub on a
temporary file, `synchronous=OFF`: CPU only), one ticket per batch and eight per batch.

    .venv/bin/python bench/http.py [--seconds 3] [--clients 1,8] [--baseline /path/to/main]
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's `http` package: drop its own folder from the path
# before anything imports `http.client`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import json
import multiprocessing as mp
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import free_port, percentile  # noqa: E402
MANAGER_KEY = "bench-manager-key-0123456789abcdef"
CATEGORIES = "ABCDEFGH"         # the demo hall's service categories
SEED_TICKETS = 200              # waiting when a measurement starts


class Server:
    """The hall server as a process: demo hall, data on disk, the manager key in its environment;
    `code`: the checkout it runs (default: this one)."""

    def __init__(self, root: Path, code: Path = ROOT, extra_path: tuple[str, ...] = ()) -> None:
        config = root / "hall"
        shutil.copytree(code / "config/examples/demo-hall", config)
        self.http = free_port()
        bus = free_port(pair=True)
        while self.http in (bus, bus + 1):
            bus = free_port(pair=True)
        env = {**os.environ, "HALL_MANAGER_KEY": MANAGER_KEY, "PYTHONPATH": os.pathsep.join([str(code), *extra_path]),
               **_READ_ONLY(code)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hall_server", "--config", str(config), "--data", str(root / "data"),
             "--bus", f"127.0.0.1:{bus}", "--http", f"127.0.0.1:{self.http}", "--log-level", "WARNING"],
            cwd=code, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.http}/api/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("hall server did not start")

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server process so far (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# --- the load: one process per client, raw sockets (the client must cost as little as possible) ---

def _request(route: str, port: int, keep: bool, k: int) -> bytes:
    conn = b"keep-alive" if keep else b"close"
    head = b"Host: 127.0.0.1:%d\r\nConnection: %s\r\n" % (port, conn)
    if route == "ticket":
        body = json.dumps({"category": CATEGORIES[k % len(CATEGORIES)]}).encode()
        return (b"POST /api/tickets HTTP/1.1\r\n" + head + b"X-Api-Key: " + MANAGER_KEY.encode() +
                b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    path = b"/api/health" if route == "health" else b"/api/floor"
    return b"GET " + path + b" HTTP/1.1\r\n" + head + b"\r\n"


class BadResponse(Exception):
    """The server answered something else than the expected status, or closed early."""


def _read_response(sock: socket.socket, buf: bytearray) -> int:
    """Read one response off `sock` (buf keeps what is left over); returns its status."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise BadResponse("connection closed before the headers")
        buf += chunk
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end]).lower()
    status = int(head[9:12])
    i = head.find(b"content-length:")
    if i < 0:
        raise BadResponse("no content-length")
    length = int(head[i + 15:head.index(b"\r\n", i)])
    while len(buf) < end + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise BadResponse("connection closed in the body")
        buf += chunk
    del buf[:end + length]
    return status


def _client(route: str, port: int, keep: bool, start_at: float, stop_at: float, worker: int, out: mp.Queue) -> None:
    lat_ms: list[float] = []
    errors = 0
    want = 201 if route == "ticket" else 200
    sock: socket.socket | None = None
    buf = bytearray()
    k = worker
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        req = _request(route, port, keep, k)
        k += 1
        t0 = time.perf_counter()
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buf.clear()
            sock.sendall(req)
            status = _read_response(sock, buf)
        except (OSError, BadResponse):
            errors += 1
            if sock is not None:
                sock.close()
            sock = None
            continue
        lat_ms.append((time.perf_counter() - t0) * 1000)
        if status != want:
            errors += 1
        if not keep:
            sock.close()
            sock = None
    if sock is not None:
        sock.close()
    out.put((lat_ms, errors))


@dataclass
class Result:
    rate_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float           # server CPU per request


def run(server: Server, route: str, clients: int, keep: bool, seconds: float) -> Result:
    out: mp.Queue = mp.Queue()
    start_at = time.time() + 0.3
    stop_at = start_at + seconds
    procs = [mp.Process(target=_client, args=(route, server.http, keep, start_at, stop_at, i, out))
             for i in range(clients)]
    for p in procs:
        p.start()
    while time.time() < start_at:
        time.sleep(0.001)
    cpu0 = server.cpu_s()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    cpu1 = server.cpu_s()
    for p in procs:
        p.join(10)
    lat = [x for r in results for x in r[0]]
    errors = sum(r[1] for r in results)
    return Result(len(lat) / seconds, percentile(lat, 50), percentile(lat, 99), errors,
                  (cpu1 - cpu0) * 1000 / max(1, len(lat)))


def _READ_ONLY(code: Path) -> dict[str, str]:
    """Another checkout is measured, not written to: no bytecode files in it."""
    return {} if code == ROOT else {"PYTHONDONTWRITEBYTECODE": "1"}


def measure(route: str, clients: int, keep: bool, seconds: float, code: Path = ROOT,
            extra_path: tuple[str, ...] = ()) -> Result:
    """One measurement on a fresh hall with SEED_TICKETS waiting (a busy morning), so every figure
    starts from the same floor: tickets taken by an earlier run would make later ones slower."""
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), code, extra_path)
        try:
            run(server, "ticket", 2, True, 0.1)             # warm up
            seed = f"http://127.0.0.1:{server.http}/api/tickets"
            for k in range(SEED_TICKETS):
                req = urllib.request.Request(seed, json.dumps({"category": CATEGORIES[k % len(CATEGORIES)]}).encode(),
                                             {"X-Api-Key": MANAGER_KEY, "Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=10).read()
            return run(server, route, clients, keep, seconds)
        finally:
            server.stop()


# --- in process: what one ticket costs the hub (SQL statements, CPU), no HTTP -----------------------

IN_PROCESS = r"""
import json, sys, tempfile, time
from pathlib import Path
from config.loader import load_hall
from hall_server.core.hub import Hub
from hallnet.messages import Envelope
cats = "ABCDEFGH"
with tempfile.TemporaryDirectory() as tmp:
    hub = Hub(Path(tmp) / "hall.db", load_hall(Path("config/examples/demo-hall")))
    hub.db.execute("PRAGMA synchronous=OFF")
    for k in range(SEED):
        hub.submit("queue.take", {"category": cats[k % 8]}, "manager-bench")
    def batch(n, k):
        return [Envelope(type="queue.take", node="manager-bench", seq=0, body={"category": cats[(k + j) % 8]})
                for j in range(n)]
    statements = []
    hub.db.conn.set_trace_callback(statements.append)
    for k in range(80):
        hub.apply(batch(1, k))
    hub.db.conn.set_trace_callback(None)
    out = {"statements": len(statements) / 80}
    for n in (1, 8):
        t0 = time.process_time()
        for k in range(0, 800, n):
            hub.apply(batch(n, k))
        out[f"cpu_ms_{n}"] = (time.process_time() - t0) / 800 * 1000
    hub.close()
print(json.dumps(out))
"""


def in_process(code: Path) -> dict[str, float]:
    """SQL statements per ticket (one per batch) and the hub's CPU ms per ticket, batches of 1 and 8,
    after SEED_TICKETS: measured in a subprocess on `code`'s checkout."""
    env = {**os.environ, "PYTHONPATH": str(code), **_READ_ONLY(code)}
    done = subprocess.run([sys.executable, "-c", IN_PROCESS.replace("SEED", str(SEED_TICKETS))], cwd=code, env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=3.0, help="seconds per measurement (default 3)")
    p.add_argument("--clients", default="1,8", help="client counts (default 1,8)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="another checkout (e.g. main's) measured in the same sitting, row by row")
    p.add_argument("--server-path", action="append", default=[], metavar="DIR",
                   help="a folder added to the servers' import path (e.g. an unpacked wheel to try), repeatable")
    args = p.parse_args()
    extra = tuple(args.server_path)
    counts = [int(x) for x in args.clients.split(",")]
    codes: list[tuple[str, Path]] = [("this", ROOT)]
    if args.baseline is not None:
        codes.append(("base", args.baseline.resolve()))
    print(f"HTTP benchmark: {os.cpu_count()} cores, {args.seconds:g} s per measurement, one process per client, "
          "a real hall server process (uvicorn) on loopback, SQLite synchronous=FULL on disk; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
          + (f"; servers' extra import path {':'.join(extra)}" if extra else ""))
    for name, code in codes:
        ip = in_process(code)
        print(f"in process ({name}, {code}): {ip['statements']:.1f} SQL statements per ticket; hub CPU per ticket "
              f"{ip['cpu_ms_1']:.3f} ms (one per batch), {ip['cpu_ms_8']:.3f} ms (eight per batch)", flush=True)
    print(f"{'route':<7} {'code':<5} {'conn':<5} {'clients':>7} | {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'cpu ms/req':>10} {'errors':>6} | {'of health':>9}")
    for keep in (False, True):
        conn = "kept" if keep else "new"
        for n in counts:
            health = {name: measure("health", n, keep, args.seconds, code, extra) for name, code in codes}
            for route in ("health", "floor", "ticket"):
                for name, code in codes:
                    r = health[name] if route == "health" else measure(route, n, keep, args.seconds, code, extra)
                    print(f"{route:<7} {name:<5} {conn:<5} {n:>7} | {r.rate_s:>7.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} "
                          f"{r.cpu_ms:>10.2f} {r.errors:>6} | {r.rate_s / health[name].rate_s:>8.0%}", flush=True)
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("goals (8 clients): ticket ≥ 50 % of health and p99 ≤ 15 ms; floor ≥ 80 % of health")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
