"""`python -m demo`: run the demo hall on this machine until Ctrl-C.

Starts, as separate processes on loopback: the hall server on the demo hall configuration with
an embedded SQLite store in --data, a keypad-bus simulator on a pty for each simulated keypad port
and a receipt-printer simulator for each simulated printer port (`sim://…` in windows.toml), the
devices gateway mapped onto them (it mirrors the windows on the keypads and prints each finished
办件's slip on its window's printer), and the traffic simulator (citizens and staff: tickets,
sign-ins, 办件, ratings on kiosks, keypads and by the QR code of the printed slip). `--gui` also opens one
kiosk and one window terminal for a person (window --gui-window, which the traffic leaves alone).
Every process runs on the same demo clock. Creates the node keys on first run. Prints the live
floor's address and the manager's login, then a line of live hall state every few seconds.
Ctrl-C (or SIGTERM) stops every process it started.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from config.errors import ConfigError
from config.loader import load_hall
from config.i18n import t
from demo import console
from demo.traffic import node_ids
from hallnet.clock import Clock
from hall_server.web.users import add_user, users_path
from hallnet.keys import new_node_key
from hallnet.vocabulary import NodeKind, node_id

ROOT = Path(__file__).resolve().parent.parent
DEMO_HALL = ROOT / "config" / "examples" / "demo-hall"


@dataclass
class Child:
    name: str
    proc: subprocess.Popen
    essential: bool = True        # the demo stops when it exits


GATEWAY_NODE = node_id(NodeKind.GATEWAY, 1)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as the servers bind: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", default=str(DEMO_HALL), help="hall configuration (default: the demo hall)")
    p.add_argument("--data", metavar="DIR", default=str(ROOT / ".demo-data"), help="data folder (default .demo-data)")
    p.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8080", help="HTTP address (default 127.0.0.1:8080)")
    p.add_argument("--bus", metavar="HOST:PORT", default="127.0.0.1:7700", help="bus address (default 127.0.0.1:7700)")
    p.add_argument("--speed", metavar="N", type=float, default=None,
                   help="how much faster than real time the demo hall runs (default 30: a day in about 20 "
                        "minutes; with --gui, 1: a person at a window works in real time)")
    p.add_argument("--start", metavar="HH:MM", default="08:40",
                   help="the hall's local time when the demo starts (default 08:40, before opening)")
    p.add_argument("--no-traffic", action="store_true", help="run the hall without simulated people")
    p.add_argument("--seed", metavar="N", type=int, default=1, help="the traffic simulator's random seed (default 1)")
    p.add_argument("--gui", action="store_true",
                   help="also open one kiosk and one window terminal (windowed) for you to use")
    p.add_argument("--gui-window", metavar="N", type=int, default=1,
                   help="the window of --gui; the traffic leaves it to you (default 1)")
    p.add_argument("--status-every", metavar="S", type=float, default=5.0, help="print the hall state every S seconds")
    p.add_argument("--for", dest="run_for_s", metavar="S", type=float, default=0.0,
                   help="stop by itself after S seconds (default: run until Ctrl-C)")
    return p


def _web_accounts(data: Path) -> list[str]:
    """The demo's web accounts `admin` (manager) and `viewer`, created on first run; their
    passwords are kept in DATA/demo-accounts.txt (demo only) and printed at every start."""
    note = data / "demo-accounts.txt"
    if not users_path(data).exists():
        lines = [f"{name} ({role}) password: {add_user(data, name, role)}"
                 for name, role in (("admin", "manager"), ("viewer", "viewer"))]
        note.write_text("\n".join(lines) + "\n", encoding="utf-8")
        note.chmod(0o600)
    if note.exists():
        return ["web login " + line for line in note.read_text(encoding="utf-8").splitlines()]
    return [f"web accounts: see {users_path(data)} (python -m hall_server users add NAME --role manager --data {data})"]


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

    try:
        config = load_hall(args.config)
        hh, mm = (int(x) for x in args.start.split(":"))
    except ConfigError as exc:
        print(f"demo: configuration {args.config} is not valid:\n{exc}", file=sys.stderr)
        return 2
    except ValueError:
        print(f"demo: --start {args.start!r}: expected HH:MM", file=sys.stderr)
        return 2
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(config.hall.timezone)
    clock_start = datetime.now(tz).replace(hour=hh, minute=mm, second=0, microsecond=0).isoformat()
    if args.speed is None:
        args.speed = 1.0 if args.gui else 30.0
    clock_args = ["--clock-start", clock_start, "--clock-speed", str(args.speed), "--clock-anchor", f"{time.time():.3f}"]
    keys_dir = data / "keys" / "issued"
    for node in [*node_ids(config), GATEWAY_NODE]:
        if not (keys_dir / f"{node}.key_secret").exists():
            new_node_key(data, node)
    accounts = _web_accounts(data)

    children: list[Child] = []
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    log = open(data / "demo.log", "ab")
    url = f"http://{args.http}"

    def spawn(name: str, cmd: list[str], essential: bool = True, **kw: object) -> subprocess.Popen:
        kw.setdefault("stdout", log)
        proc = subprocess.Popen([sys.executable, *cmd], cwd=ROOT, stdin=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT, **kw)  # type: ignore[call-overload]
        children.append(Child(name, proc, essential))
        return proc

    try:
        server = spawn(t("demo.proc.server"), ["-m", "hall_server", "--config", args.config, "--data", str(data),
                                       "--http", args.http, "--bus", args.bus, "--log-level", "WARNING", *clock_args])
        if not _wait_ready(url + "/api/health", server):
            print(f"demo: the hall server did not start; see {data / 'demo.log'}", file=sys.stderr)
            return 1
        keypads = _start_keypads(config, data, spawn, args)
        printers = _start_printers(config, data, spawn)
        if keypads is None or printers is None:
            print(f"demo: a device simulator did not start; see {data / 'demo.log'}", file=sys.stderr)
            return 1
        keypad_maps, keypad_controls = keypads
        printer_maps, slip_files = printers
        if keypad_maps or printer_maps:
            spawn(t("demo.proc.gateway"), ["-m", "devices", "--config", args.config, "--bus", args.bus,
                                      "--keys", str(keys_dir), "--data", str(data / "nodes"), "--node", GATEWAY_NODE,
                                      "--qr-base", url, *keypad_maps, *printer_maps, *clock_args])
        gui_window = args.gui_window if args.gui else None
        if args.gui:
            for app, extra in (("kiosk", ["--windowed", "--http", url, *clock_args]),
                               ("window_terminal", ["--windowed", *clock_args])):
                label = "demo.proc.kiosk" if app == "kiosk" else "demo.proc.terminal"
                spawn(t(label, n=gui_window),
                      ["-m", app, "--config", args.config, "--window", str(gui_window), "--bus", args.bus,
                       "--keys", str(keys_dir), "--data", str(data / "gui" / app), *extra], essential=False)
        if not args.no_traffic:
            spawn(t("demo.proc.traffic"),
                  ["-m", "demo.traffic", "--config", args.config, "--bus", args.bus,
                   "--keys", str(keys_dir), "--data", str(data / "nodes"), "--log", str(data / "ratings-given.jsonl"),
                   "--seed", str(args.seed), "--http", url, *clock_args,
                   *(["--keypad-control", keypad_controls[0]] if keypad_controls else []),
                   *[arg for window, path in slip_files.items() for arg in ("--slips", f"{window}={path}")],
                   *(["--skip-window", str(gui_window)] if gui_window is not None else [])])
        print(console.banner(hall_name=config.hall.name, url=url, accounts=accounts, clock_start=clock_start,
                             speed=args.speed, data=data, running=[c.name for c in children],
                             account_note=data / "demo-accounts.txt"), flush=True)
        hall_clock = Clock.parse(clock_start, args.speed, float(clock_args[-1]))
        started = time.monotonic()
        next_status = 0.0
        gone: set[str] = set()
        while not stopping:
            now = time.monotonic()
            if args.run_for_s and now - started >= args.run_for_s:
                break
            for child in children:
                if child.proc.poll() is not None and child.essential:
                    print(f"demo: {child.name} exited with {child.proc.returncode}; stopping", file=sys.stderr)
                    return 1
                if child.proc.poll() is not None and child.name not in gone:
                    gone.add(child.name)
                    print(f"demo: {child.name} exited with {child.proc.returncode} (no display?); the hall goes on; "
                          f"see {data / 'demo.log'}", file=sys.stderr, flush=True)
            if now >= next_status:
                print(console.status_line(url, data / "ratings-given.jsonl", hall_clock, tz), flush=True)
                next_status = now + args.status_every
            time.sleep(0.2)
        return 0
    finally:
        _stop_all(children)
        log.close()
        print(t("demo.stopped"), flush=True)


def _start_keypads(config: object, data: Path, spawn: object,
                   args: argparse.Namespace) -> tuple[list[str], list[str]] | None:
    """A keypad-bus simulator per simulated keypad port. Returns the gateway's `--map NAME=PTY`
    arguments and the simulators' control sockets (None if one did not start)."""
    buses: dict[str, list[int]] = {}
    for w in config.windows:  # type: ignore[attr-defined]
        if w.keypad is not None and w.keypad.port.startswith("sim://"):
            buses.setdefault(w.keypad.port, []).append(w.keypad.address)
    maps: list[str] = []
    controls: list[str] = []
    for i, (port, addresses) in enumerate(sorted(buses.items()), start=1):
        control = str(data / f"keypad-{i}.sock")
        out_path = data / f"keypad-{i}.out"
        out = open(out_path, "wb")
        proc = spawn(t("demo.proc.keypad"),  # type: ignore[operator]
                     ["-m", "devices", "simulate", "keypad", "--addresses", ",".join(map(str, sorted(addresses))),
                      "--control", control, "--seed", str(args.seed + i)], stdout=out)
        pty = _first_line(out_path, "PTY ", proc)
        if pty is None:
            return None
        maps += ["--map", f"{port}={pty}"]
        controls.append(control)
    return maps, controls


def _start_printers(config: object, data: Path, spawn: object) -> tuple[list[str], dict[int, Path]] | None:
    """A receipt-printer simulator per simulated printer port (windows.toml `printer = {port="sim://…"}`);
    each decodes what the gateway prints into DATA/printer-N.jsonl (where the traffic's citizens read
    their slip's QR code). Returns the gateway's `--map NAME=PTY` arguments and, per window, its
    printer's file (None if a simulator did not start)."""
    ports = sorted({w.printer.port for w in config.windows  # type: ignore[attr-defined]
                    if w.printer is not None and w.printer.port.startswith("sim://")})
    maps: list[str] = []
    files: dict[str, Path] = {}
    for i, port in enumerate(ports, start=1):
        out_path = data / f"printer-{i}.out"
        files[port] = data / f"printer-{i}.jsonl"
        proc = spawn(t("demo.proc.printer"),  # type: ignore[operator]
                     ["-m", "devices", "simulate", "printer", "--out", str(files[port]), "--idle-flush-s", "0.5"],
                     stdout=open(out_path, "wb"))
        pty = _first_line(out_path, "PTY ", proc)
        if pty is None:
            return None
        maps += ["--map", f"{port}={pty}"]
    by_window = {w.number: files[w.printer.port] for w in config.windows  # type: ignore[attr-defined]
                 if w.printer is not None and w.printer.port in files}
    return maps, by_window


def _first_line(path: Path, prefix: str, proc: subprocess.Popen, timeout_s: float = 20.0) -> str | None:
    """What follows `prefix` on the first line of a child's output file, once it is written."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        time.sleep(0.05)
    return None


def _stop_all(children: list[Child], timeout_s: float = 10.0) -> None:
    """Newest first (traffic and gateway flush their outboxes while the server still runs)."""
    for child in reversed(children):
        if child.proc.poll() is None:
            child.proc.terminate()
            try:
                child.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait()


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


if __name__ == "__main__":
    raise SystemExit(main())
