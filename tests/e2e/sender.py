"""A test helper process: N nodes each send COUNT numbered events through their durable outboxes.

Resumes after a crash: each node continues after the last sequence its outbox ever stored.
Prints `DONE <acked>` once every outbox is empty.

    python tests/e2e/sender.py --bus HOST:PORT --keys DIR --outboxes DIR --nodes a,b --count 500 --rate 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hallnet.client import HallClient  # noqa: E402
from hallnet.keys import load_node_keys  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bus", required=True)
    p.add_argument("--keys", required=True, type=Path)
    p.add_argument("--outboxes", required=True, type=Path)
    p.add_argument("--nodes", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=0.0, help="events/s per node; 0 = as fast as possible")
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    clients = []
    for node in args.nodes.split(","):
        c = HallClient(node, args.bus, load_node_keys(args.keys, node), args.outboxes / f"{node}.db",
                       subscribe=False, heartbeat_s=0.5, silence_s=1.5, resend_s=1.0)
        clients.append(c.start())
    next_i = {c.node: c.outbox.last_seq() + 1 for c in clients}
    interval = 1.0 / args.rate if args.rate else 0.0
    t0 = time.monotonic()
    k = 0
    while any(i <= args.count for i in next_i.values()):
        for c in clients:
            i = next_i[c.node]
            if i <= args.count:
                c.send("audit.note", {"kind": "e2e", "subject": f"{c.node}:{i}"})
                next_i[c.node] = i + 1
        k += 1
        if interval:
            delay = t0 + k * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    print("SENT", flush=True)
    deadline = time.monotonic() + args.timeout
    while any(c.pending_count() for c in clients):
        if time.monotonic() > deadline:
            print("TIMEOUT", sum(c.pending_count() for c in clients), flush=True)
            return 1
        time.sleep(0.05)
    acked = sum(c.acked for c in clients)
    for c in clients:
        c.stop()
    print("DONE", acked, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
