"""A test helper process playing the hall's nodes (terminals, dispenser) over the real bus.

Reads one JSON command per stdin line: {"node": "terminal-1", "type": "queue.call_next", "body": {}};
answers one JSON line per command with the server's reply body ({"ok", "result" | "error", ...}).
Node keys are read from --keys (the server's keys/issued folder). Stops at EOF.

    python tests/web/node_actor.py --bus HOST:PORT --keys DIR --outboxes DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hallnet.client import HallClient, NotDelivered  # noqa: E402
from hallnet.keys import load_node_keys  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--bus", required=True)
    p.add_argument("--keys", required=True, type=Path)
    p.add_argument("--outboxes", required=True, type=Path)
    args = p.parse_args()
    args.outboxes.mkdir(parents=True, exist_ok=True)
    clients: dict[str, HallClient] = {}
    print("READY", flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            node = cmd["node"]
            if node not in clients:
                clients[node] = HallClient(node, args.bus, load_node_keys(args.keys, node),
                                           args.outboxes / f"{node}.db", subscribe=False, heartbeat_s=0.5,
                                           silence_s=2.0, resend_s=0.5).start()
            try:
                reply = clients[node].call(cmd["type"], cmd.get("body", {}), timeout_s=10.0)
            except NotDelivered as exc:
                reply = {"ok": False, "error": "not_delivered", "message": str(exc)}
            print(json.dumps(reply, ensure_ascii=False), flush=True)
    finally:
        for c in clients.values():
            c.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
