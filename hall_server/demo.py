"""`python -m hall_server.demo`: run the demo hall on this machine until Ctrl-C.

Starts, as separate processes on loopback: the hall server on the demo hall configuration with
an embedded SQLite store in --data, and every simulated node that exists in this build (device
simulators, gateway, traffic). Creates the node keys on first run. Prints the addresses, then a
line of live hall state every few seconds. Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_HALL = ROOT / "config" / "examples" / "demo-hall"


@dataclass
class Child:
    name: str
    proc: subprocess.Popen


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hall_server.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", default=str(DEMO_HALL), help="hall configuration (default: the demo hall)")
    p.add_argument("--data", metavar="DIR", default=str(ROOT / ".demo-data"), help="data folder (default .demo-data)")
    p.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8080", help="HTTP address (default 127.0.0.1:8080)")
    p.add_argument("--bus", metavar="HOST:PORT", default="127.0.0.1:7700", help="bus address (default 127.0.0.1:7700)")
    p.add_argument("--status-every", metavar="S", type=float, default=5.0, help="print the hall state every S seconds")
    p.add_argument("--for", dest="run_for_s", metavar="S", type=float, default=0.0,
                   help="stop by itself after S seconds (default: run until Ctrl-C)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    http_host, _, http_port = args.http.rpartition(":")
    bus_host, _, bus_port = args.bus.rpartition(":")
    for host, port in ((http_host, http_port), (bus_host, bus_port)):
        if not port.isdigit() or not _port_free(host, int(port)):
            print(f"demo: {host}:{port} is in use or invalid; choose another with --http / --bus", file=sys.stderr)
            return 2

    children: list[Child] = []
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    log = open(data / "demo.log", "ab")
    try:
        server = subprocess.Popen(
            [sys.executable, "-m", "hall_server", "--config", args.config, "--data", str(data),
             "--http", args.http, "--bus", args.bus, "--log-level", "WARNING"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        children.append(Child("hall server", server))
        url = f"http://{args.http}"
        if not _wait_ready(url + "/api/health", server):
            print(f"demo: the hall server did not start; see {data / 'demo.log'}", file=sys.stderr)
            return 1
        print(f"演示大厅已启动 / demo hall running")
        print(f"  hall server API: {url}/api/state   (OpenAPI: {url}/api/openapi.json)")
        print(f"  bus: {args.bus} (+1 for state)   data: {data}   log: {data / 'demo.log'}")
        print("  Ctrl-C stops everything.", flush=True)
        started = time.monotonic()
        next_status = 0.0
        while not stopping:
            now = time.monotonic()
            if args.run_for_s and now - started >= args.run_for_s:
                break
            for child in children:
                if child.proc.poll() is not None:
                    print(f"demo: {child.name} exited with {child.proc.returncode}; stopping", file=sys.stderr)
                    return 1
            if now >= next_status:
                print(_status_line(url), flush=True)
                next_status = now + args.status_every
            time.sleep(0.2)
        return 0
    finally:
        for child in reversed(children):
            if child.proc.poll() is None:
                child.proc.terminate()
        for child in reversed(children):
            try:
                child.proc.wait(10)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()
        print("演示已停止 / demo stopped", flush=True)


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _status_line(url: str) -> str:
    try:
        with urllib.request.urlopen(url + "/api/state", timeout=2) as r:
            state = json.load(r)
        with urllib.request.urlopen(url + "/api/nodes", timeout=2) as r:
            nodes = json.load(r)["nodes"]
    except (OSError, ValueError) as exc:
        return f"[{time.strftime('%H:%M:%S')}] hall server not answering: {exc}"
    alive = sum(1 for n in nodes.values() if n.get("alive"))
    return (f"[{time.strftime('%H:%M:%S')}] state seq {state['seq']}, {len(state['state'])} keys, "
            f"nodes alive {alive}/{len(nodes)}")


if __name__ == "__main__":
    raise SystemExit(main())
