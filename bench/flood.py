"""One node floods the hall server; every other node's send→ack latency is measured meanwhile.

    python bench/flood.py                      # an hour, 6 honest nodes, against a fresh demo hall
    python bench/flood.py --duration-s 60      # a minute

A real `python -m hall_server` process on loopback (demo hall, default quotas); the flooder is a
separate process with a registered key that sends `audit.note` as fast as its socket takes them
and ignores every `busy`. Honest nodes (HallClient, durable outboxes) each send one message every
`--interval-ms` and wait for its acknowledgement. Prints the figures; never passes or fails on time.
tests/e2e/test_bus_attacks.py runs it scaled down to ~20 s and asserts that nothing is lost.
"""

from __future__ import annotations

import os
import sys

# bench/http.py is named like the standard library's `http` package: drop this folder from the path
# before anything imports `http.client`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import json
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import zmq  # noqa: E402

from hallnet import messages as m  # noqa: E402
from hallnet.client import HallClient  # noqa: E402
from hallnet.keys import load_node_keys, new_node_key  # noqa: E402
from hallnet.vocabulary import Msg, NodeKind, node_id  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FLOODER = node_id(NodeKind.KIOSK, 99)


@dataclass
class Figures:
    duration_s: float = 0.0
    flood_sent: int = 0
    flood_stored: int = 0
    honest_sent: int = 0
    honest_stored: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_rss_mb: tuple[float, float] = (0.0, 0.0)

    def p(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> str:
        return (f"flood {self.duration_s:.0f} s: flooder sent {self.flood_sent}, stored {self.flood_stored}; "
                f"honest sent {self.honest_sent}, stored {self.honest_stored}; send→ack ms "
                f"p50 {self.p(0.5):.1f} p99 {self.p(0.99):.1f} max {max(self.latencies_ms, default=0):.1f} "
                f"mean {statistics.fmean(self.latencies_ms) if self.latencies_ms else 0:.1f}; "
                f"server RSS {self.server_rss_mb[0]:.0f} → {self.server_rss_mb[1]:.0f} MB")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def flood(bus: str, keys_dir: Path, node: str, duration_s: float) -> int:
    """Send as fast as the socket takes them for `duration_s`; read and ignore the answers."""
    keys = load_node_keys(keys_dir, node)
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.curve_secretkey, s.curve_publickey, s.curve_serverkey = keys.node.secret, keys.node.public, keys.server_public
    s.linger = 0
    s.connect(f"tcp://{bus}")
    sent = 0
    deadline = time.monotonic() + duration_s
    try:
        while time.monotonic() < deadline:
            frame = m.encode(m.Envelope(type=Msg.AUDIT_NOTE, node=node, seq=sent + 1,
                                        body={"kind": "flood", "subject": str(sent + 1)}))
            try:
                s.send(frame, zmq.NOBLOCK)
                sent += 1
            except zmq.Again:
                s.poll(5, zmq.POLLOUT)
            while s.poll(0):
                s.recv()
    finally:
        s.close()
        ctx.term()
    return sent


def run(bus: str, data: Path, work: Path, duration_s: float, honest: int = 6, interval_ms: int = 200,
        server_pid: int | None = None, flooding: bool = True) -> Figures:
    """Flood `bus` (a running server whose data folder is `data`) and measure; keys are made here."""
    flood_keys = new_node_key(data, FLOODER)
    names = [node_id(NodeKind.TERMINAL, i) for i in range(1, honest + 1)]
    keys = {n: new_node_key(data, n) for n in names}
    figures = Figures(duration_s=duration_s)
    if server_pid:
        figures.server_rss_mb = (rss_mb(server_pid), 0.0)
    flooder = subprocess.Popen(
        [sys.executable, __file__, "--flooder", *(["--bus", bus] if flooding else []), "--keys", str(flood_keys),
         "--duration-s", str(duration_s)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    clients = [HallClient(n, bus, load_node_keys(keys[n], n), work / f"{n}.db", heartbeat_s=0.5, silence_s=1.5)
               for n in names]
    lock = threading.Lock()
    sent_per_node: dict[str, int] = {}

    def honest_node(c: HallClient) -> None:
        count = 0
        t_start = time.monotonic()
        while time.monotonic() - t_start < duration_s:
            t0 = time.perf_counter()
            count += 1
            try:
                c.call(Msg.AUDIT_NOTE, {"kind": "honest", "subject": f"{c.node}:{count}"}, timeout_s=30)
                with lock:
                    figures.latencies_ms.append((time.perf_counter() - t0) * 1000)
            except TimeoutError:
                pass                                    # still in the outbox; counted at the end
            time.sleep(max(0.0, interval_ms / 1000 - (time.perf_counter() - t0)))
        sent_per_node[c.node] = count

    for c in clients:
        c.start()
    time.sleep(1.0)
    threads = [threading.Thread(target=honest_node, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out, _ = flooder.communicate(timeout=60)
    figures.flood_sent = int(out.strip() or 0)
    deadline = time.monotonic() + 60
    while any(c.pending_count() for c in clients) and time.monotonic() < deadline:
        time.sleep(0.1)
    for c in clients:
        c.stop()
    if server_pid:
        figures.server_rss_mb = (figures.server_rss_mb[0], rss_mb(server_pid))
    figures.honest_sent = sum(sent_per_node.values())
    db = sqlite3.connect(data / "hall.db")
    try:
        figures.flood_stored = db.execute("SELECT COUNT(*) FROM audit WHERE kind = 'note.flood'").fetchone()[0]
        figures.honest_stored = db.execute(
            "SELECT COUNT(DISTINCT subject) FROM audit WHERE kind = 'note.honest'").fetchone()[0]
    finally:
        db.close()
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration-s", type=float, default=3600.0)
    p.add_argument("--honest", type=int, default=6)
    p.add_argument("--interval-ms", type=int, default=200)
    p.add_argument("--no-flood", action="store_true", help="the honest nodes alone (the baseline)")
    p.add_argument("--flooder", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--bus", help=argparse.SUPPRESS)
    p.add_argument("--keys", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.flooder:
        print(flood(args.bus, args.keys, FLOODER, args.duration_s) if args.bus else 0, flush=True)
        return 0
    from tests.conftest import ServerProcess

    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(data=Path(tmp) / "server")
        srv.data.mkdir()
        srv.new_key(node_id(NodeKind.KIOSK, 0))   # the key folder exists before the server starts
        srv.start()
        try:
            assert srv.proc is not None
            fig = run(srv.bus, srv.data, Path(tmp), args.duration_s, args.honest, args.interval_ms, srv.proc.pid,
                      flooding=not args.no_flood)
        finally:
            srv.stop()
    print(fig.summary())
    print(json.dumps({"p50_ms": fig.p(0.5), "p99_ms": fig.p(0.99), "flood_sent": fig.flood_sent,
                      "flood_stored": fig.flood_stored, "honest_sent": fig.honest_sent,
                      "honest_stored": fig.honest_stored, "cores": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
