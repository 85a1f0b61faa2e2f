"""Wire benchmark: durable acknowledged events/s and send→ack latency, beside two references.

  full    the product path: node outbox (SQLite, fsync) → DEALER → hall server process (ROUTER,
          dedupe, domain handler, group commit, fsync) → ack → outbox delete
  naive   baseline: REQ/REP, one round trip and one commit per event
  raw     bound: pipelined DEALER/ROUTER, batched inserts, no outbox, no dedupe, no domain logic
All three use CURVE and SQLite with synchronous=FULL, on loopback. Prints figures; never fails on time.

    .venv/bin/python bench/wire.py [--events 4000] [--nodes 1,20,200]
    .venv/bin/python bench/wire.py --stages      # where one event's time goes, stage by stage
"""

from __future__ import annotations

import os
import sys

# bench/http.py is named like the standard library's `http` package: drop this folder from the path
# before anything imports `http.client`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import multiprocessing as mp
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import zmq  # noqa: E402
import zmq.auth  # noqa: E402
from zmq.auth.thread import ThreadAuthenticator  # noqa: E402

from bench.measure import free_port, percentile  # noqa: E402
from bench.wire_stages import stage_report  # noqa: E402
from hallnet import messages as m  # noqa: E402
from hallnet.vocabulary import Msg  # noqa: E402
from hallnet import trace  # noqa: E402
from hallnet.client import HallClient  # noqa: E402
from hallnet.keys import load_node_keys, new_node_key  # noqa: E402


# --- full path ---------------------------------------------------------------------------------

class FullHall:
    def __init__(self, root: Path, nodes: int) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port(pair=True)
        self.http = free_port(pair=True)
        self.keys = None
        for i in range(1, nodes + 1):
            self.keys = new_node_key(self.data, f"bench-{i}")
        # the demo hall with the per-node quotas ([bus]) lifted: this measures the wire, not the quota
        config = root / "hall"
        shutil.copytree(ROOT / "config/examples/demo-hall", config)
        with open(config / "hall.toml", "a", encoding="utf-8") as f:
            f.write("\n[bus]\nnode_messages_per_s = 10000\nnode_burst = 1000000\n")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hall_server", "--config", str(config),
             "--data", str(self.data), "--bus", f"127.0.0.1:{self.port}", "--http", f"127.0.0.1:{self.http}",
             "--log-level", "WARNING"], cwd=ROOT,
            env={**os.environ, **({"HALLNET_TRACE": trace.FOLDER} if trace.ON else {})})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.http}/api/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("hall server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


OUTBOX_BASE: str | None = "/dev/shm" if os.path.isdir("/dev/shm") else None
PROCESSES = 4           # the simulated nodes are spread over this many processes (each with its share)
SENDERS = 1             # threads sending at once on each node (several: its outbox commits them in groups)


def run_full(nodes: int, events: int, rate_total: float = 0.0) -> dict[str, float]:
    """The server's database is on disk; the nodes' outboxes on OUTBOX_BASE (each node has its own disk
    in a hall; here they would all queue on the server's one disk for fsyncs)."""
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(dir=OUTBOX_BASE) as boxes:
        hall = FullHall(Path(tmp), nodes)
        try:
            return _drive_full(hall, Path(boxes), nodes, events, rate_total)
        finally:
            hall.stop()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _node_process(port: int, keys: str, boxes: str, first: int, counts: list[int], rate_node: float,
                  start_at: float, out: "mp.Queue[tuple[list[float], float, float]]") -> None:
    """One process of simulated nodes (`first`… `first + len(counts) - 1`): each node sends its count
    of events (paced at rate_node when set) and the process reports send→ack latencies."""
    total = sum(counts)
    acked_at: dict[str, float] = {}
    lock = threading.Lock()
    done = threading.Event()

    def on_reply(ref: str, body: dict) -> None:
        now = time.monotonic()
        with lock:
            acked_at[ref] = now
            if len(acked_at) == total:
                done.set()

    ids = range(first, first + len(counts))
    clients = [HallClient(f"bench-{i}", f"127.0.0.1:{port}", load_node_keys(Path(keys), f"bench-{i}"),
                          Path(boxes) / f"outbox-{i}.db", subscribe=False, on_reply=on_reply).start() for i in ids]
    deadline = time.monotonic() + 20
    while not all(c.connected for c in clients) and time.monotonic() < deadline:
        time.sleep(0.05)
    sent_at: list[dict[str, float]] = [{} for _ in clients]

    def sender(c: HallClient, count: int, mine: dict[str, float]) -> None:
        rate = rate_node / SENDERS
        for k in range(count):
            if rate:
                delay = start_at + k / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            t0 = time.monotonic()
            env = c.send(Msg.AUDIT_NOTE, {"kind": "bench", "subject": str(k)})   # durable, then wakes the I/O thread
            mine[env.id] = t0

    while time.monotonic() < start_at:
        time.sleep(0.001)
    cpu0 = time.process_time()
    threads = [threading.Thread(target=sender, args=(c, part, d))
               for c, n, d in zip(clients, counts, sent_at) for part in _shares(n, SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.wait(300)
    cpu_s = time.process_time() - cpu0
    commits = sum(c.outbox.commits for c in clients)
    for c in clients:
        c.stop()
    trace.dump()            # (a forked process ends without running atexit)
    lat_ms = [(acked_at[i] - t) * 1000 for d in sent_at for i, t in d.items() if i in acked_at]
    out.put((lat_ms, max(acked_at.values(), default=start_at), float(len(acked_at)), cpu_s, commits))


def _drive_full(hall: FullHall, tmp: Path, nodes: int, events: int, rate_total: float) -> dict[str, float]:
    procs = min(nodes, PROCESSES)
    node_shares = _shares(nodes, procs)
    per_node = _shares(events, nodes)
    rate_node = rate_total / nodes if rate_total else 0.0
    out: mp.Queue = mp.Queue()
    start_at = time.monotonic() + 2.0 + nodes * 0.01        # every process's nodes connected by then
    workers, first = [], 1
    for share in node_shares:
        counts = per_node[first - 1:first - 1 + share]
        workers.append(mp.Process(target=_node_process, args=(
            hall.port, str(hall.keys), str(tmp), first, counts, rate_node, start_at, out)))
        first += share
    for w in workers:
        w.start()
    while time.monotonic() < start_at:
        time.sleep(0.001)
    cpu0 = _cpu_s(hall.proc.pid)
    results = [out.get(timeout=400) for _ in workers]
    cpu1 = _cpu_s(hall.proc.pid)
    for w in workers:
        w.join(20)
    lat_ms = [x for r in results for x in r[0]]
    acked = int(sum(r[2] for r in results))
    elapsed = max(r[1] for r in results) - start_at
    return {"events_s": acked / elapsed, "p50_ms": percentile(lat_ms, 50), "p99_ms": percentile(lat_ms, 99),
            "acked": acked, "server_cpu_us": (cpu1 - cpu0) * 1e6 / max(1, acked),
            "nodes_cpu_us": sum(r[3] for r in results) * 1e6 / max(1, acked),
            "puts_per_commit": acked / max(1, sum(r[4] for r in results))}


# --- references: naive REQ/REP and raw pipelined DEALER/ROUTER ---------------------------------

def _curve_server(ctx: zmq.Context, sock: zmq.Socket, keydir: Path) -> ThreadAuthenticator:
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(keydir / "clients"))
    pub, sec = zmq.auth.load_certificate(str(keydir / "server.key_secret"))
    sock.curve_server, sock.curve_publickey, sock.curve_secretkey = True, pub, sec
    return auth


def _db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS ev (id BLOB, body BLOB)")
    return db


def _naive_server(keydir: str, port: int, ready) -> None:
    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    auth = _curve_server(ctx, rep, Path(keydir))
    rep.bind(f"tcp://127.0.0.1:{port}")
    db = _db(Path(keydir) / "naive.db")
    ready.set()
    while True:
        frame = rep.recv()
        if frame == b"STOP":
            rep.send(b"")
            break
        env = m.decode(frame)
        db.execute("INSERT INTO ev VALUES (?, ?)", [env.id, frame])   # autocommit: one commit per event
        rep.send(env.id.encode())
    auth.stop()
    ctx.destroy(0)


def _raw_server(keydir: str, port: int, ready) -> None:
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    auth = _curve_server(ctx, router, Path(keydir))
    router.bind(f"tcp://127.0.0.1:{port}")
    db = _db(Path(keydir) / "raw.db")
    ready.set()
    stop = False
    while not stop:
        batch = [router.recv_multipart()]
        while len(batch) < 2000:
            try:
                batch.append(router.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                break
        rows = []
        for ident, frame in batch:
            if frame == b"STOP":
                stop = True
                continue
            rows.append((frame[:16], frame))
        db.execute("BEGIN")
        db.executemany("INSERT INTO ev VALUES (?, ?)", rows)
        db.execute("COMMIT")
        for ident, frame in batch:
            router.send_multipart([ident, frame[:16]])
    auth.stop()
    ctx.destroy(0)


def _client_socket(ctx: zmq.Context, kind: int, keydir: Path, port: int) -> zmq.Socket:
    s = ctx.socket(kind)
    pub, sec = zmq.auth.load_certificate(str(keydir / "clients" / "c.key_secret"))
    s.curve_publickey, s.curve_secretkey = pub, sec
    s.curve_serverkey, _ = zmq.auth.load_certificate(str(keydir / "server.key"))
    s.linger = 0
    s.connect(f"tcp://127.0.0.1:{port}")
    return s


def _reference_nodes(kind: str, keydir: str, port: int, counts: list[int], start_at: float,
                     out: "mp.Queue[tuple[list[float], float]]") -> None:
    """One process of reference nodes: one thread and socket per node."""
    ctx = zmq.Context()
    lat_ms: list[float] = []
    lock = threading.Lock()
    keys = Path(keydir)

    def naive_node(count: int) -> None:
        s = _client_socket(ctx, zmq.REQ, keys, port)
        mine = []
        for k in range(count):
            t0 = time.monotonic()
            s.send(m.encode(m.Envelope(type=Msg.AUDIT_NOTE, node="c", seq=k, body={"kind": "bench"})))
            s.recv()
            mine.append((time.monotonic() - t0) * 1000)
        s.close()
        with lock:
            lat_ms.extend(mine)

    def raw_node(count: int) -> None:
        s = _client_socket(ctx, zmq.DEALER, keys, port)
        sent: dict[bytes, float] = {}
        mine = []
        for k in range(count):
            frame = m.encode(m.Envelope(type=Msg.AUDIT_NOTE, node="c", seq=k, body={"kind": "bench"}))
            sent[frame[:16]] = time.monotonic()
            s.send(frame)
        for _ in range(count):
            key = s.recv()
            mine.append((time.monotonic() - sent[key]) * 1000)
        s.close()
        with lock:
            lat_ms.extend(mine)

    fn = naive_node if kind == "naive" else raw_node
    while time.monotonic() < start_at:
        time.sleep(0.001)
    threads = [threading.Thread(target=fn, args=(n,)) for n in counts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((lat_ms, time.monotonic()))
    ctx.destroy(0)


def run_reference(kind: str, nodes: int, events: int) -> dict[str, float]:
    """The naive or raw reference, its nodes spread over processes like the full path's."""
    with tempfile.TemporaryDirectory() as tmp:
        keydir = Path(tmp)
        zmq.auth.create_certificates(tmp, "server")
        (keydir / "clients").mkdir()
        zmq.auth.create_certificates(str(keydir / "clients"), "c")
        port = free_port(pair=True)
        ready = mp.Event()
        target = _naive_server if kind == "naive" else _raw_server
        proc = mp.Process(target=target, args=(tmp, port, ready))
        proc.start()
        ready.wait(20)
        per_node = _shares(events, nodes)
        out: mp.Queue = mp.Queue()
        start_at = time.monotonic() + 1.0 + nodes * 0.005
        workers, first = [], 0
        for share in _shares(nodes, min(nodes, PROCESSES)):
            workers.append(mp.Process(target=_reference_nodes,
                                      args=(kind, tmp, port, per_node[first:first + share], start_at, out)))
            first += share
        for w in workers:
            w.start()
        results = [out.get(timeout=400) for _ in workers]
        for w in workers:
            w.join(20)
        lat_ms = [x for r in results for x in r[0]]
        elapsed = max(r[1] for r in results) - start_at
        ctx = zmq.Context()
        stopper = _client_socket(ctx, zmq.REQ if kind == "naive" else zmq.DEALER, keydir, port)
        stopper.send(b"STOP")
        proc.join(20)
        stopper.close()
        ctx.destroy(0)
        return {"events_s": len(lat_ms) / elapsed, "p50_ms": percentile(lat_ms, 50), "p99_ms": percentile(lat_ms, 99),
                "acked": len(lat_ms)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=4000, help="events per measurement (default 4000)")
    p.add_argument("--nodes", default="1,20,200", help="node counts (default 1,20,200)")
    p.add_argument("--rate", type=float, default=2000.0, help="offered load for the latency run, events/s")
    p.add_argument("--outbox-dir", default=OUTBOX_BASE,
                   help="where the simulated nodes keep their outboxes (default /dev/shm: a disk of their own)")
    p.add_argument("--senders", type=int, default=1,
                   help="threads sending at once on each simulated node (default 1; a gateway has several)")
    p.add_argument("--stages", action="store_true",
                   help="only the latency run, traced (HALLNET_TRACE): where an event's time goes, stage by stage")
    args = p.parse_args()
    if args.stages:
        with tempfile.TemporaryDirectory() as folder:
            trace.FOLDER, trace.ON = folder, True
            globals()["OUTBOX_BASE"] = args.outbox_dir
            paced = run_full(20, int(args.rate * 5), rate_total=args.rate)
            print(f"traced: 20 nodes, {args.rate:.0f} events/s offered: {paced['events_s']:.0f} ev/s acked, "
                  f"send→ack p50 {paced['p50_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms; "
                  f"server {paced['server_cpu_us']:.0f} µs CPU per event, nodes {paced['nodes_cpu_us']:.0f} µs")
            print("\n".join(stage_report(Path(folder))))
        return 0
    globals()["OUTBOX_BASE"] = args.outbox_dir
    globals()["SENDERS"] = max(1, args.senders)
    node_counts = [int(x) for x in args.nodes.split(",")]
    print(f"wire benchmark: {os.cpu_count()} cores, {args.events} events per run, CURVE + SQLite synchronous=FULL; "
          f"server db on disk, node outboxes in {OUTBOX_BASE or 'the temp folder'}, {SENDERS} sending thread(s) per node")
    print(f"{'nodes':>5} | {'full ev/s':>9} {'p50 ms':>7} {'p99 ms':>7} | {'naive ev/s':>10} {'p99 ms':>7} | "
          f"{'raw ev/s':>9} {'p99 ms':>7} | full/raw  full/naive | CPU µs/ev server nodes | puts/fsync")
    for n in node_counts:
        full = run_full(n, args.events)
        naive = run_reference("naive", n, args.events)
        raw = run_reference("raw", n, args.events)
        print(f"{n:>5} | {full['events_s']:>9.0f} {full['p50_ms']:>7.1f} {full['p99_ms']:>7.1f} | "
              f"{naive['events_s']:>10.0f} {naive['p99_ms']:>7.1f} | {raw['events_s']:>9.0f} {raw['p99_ms']:>7.1f} | "
              f"{full['events_s'] / raw['events_s']:>7.0%}  {full['events_s'] / naive['events_s']:>9.1f}× | "
              f"{full['server_cpu_us']:>17.0f} {full['nodes_cpu_us']:>5.0f} | {full['puts_per_commit']:>10.1f}", flush=True)
    paced_nodes = 20
    events = int(args.rate * 5)
    paced = run_full(paced_nodes, events, rate_total=args.rate)
    print(f"full path at {args.rate:.0f} events/s offered ({paced_nodes} nodes, {events} events): "
          f"{paced['events_s']:.0f} ev/s acked, send→ack p50 {paced['p50_ms']:.1f} ms, p99 {paced['p99_ms']:.1f} ms "
          f"(send = the node's own durable outbox write included); server {paced['server_cpu_us']:.0f} µs CPU per event, nodes {paced['nodes_cpu_us']:.0f} µs")
    print("goals: full ≥ 50 % of raw, ≥ 5× naive; p99 ≤ 10 ms at 2,000 events/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
