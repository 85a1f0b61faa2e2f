"""`python -m demo.traffic`: simulated people for the demo hall, acting through real nodes.

Citizens arrive along a daily curve (morning and afternoon peaks) and take tickets at the
dispenser; staff sign in at their window terminals (some late), call, serve for a realistic share
of each 事项's promised time, finish, pause for lunch and now and then for a few minutes, and sign
out (some early); citizens rate with a realistic mix, some 差评 with reasons, some not at all —
on the window's touchscreen evaluator (kiosk), on its serial keypad (windows with a keypad, when
--keypad-control names the keypad simulator's control socket: the citizen presses a key once the
keypad shows the rating), or later by the QR code on the slip (at windows whose printer is a
simulator named by --slips N=FILE, when --http names the hall server's web address: the citizen
reads the QR code the devices gateway printed on their slip, and their phone posts its page; the
staff side never holds that link, so windows without a printed slip get no QR ratings). Every command goes through the hall
server's bus as a real node with its durable outbox. Runs on the same demo clock as the server
(same --clock-* flags).

A citizen rates only while the evaluator still asks (the rating's `expires_ms`); one who finds it
closed walks away (未评价). Every rating given — a kiosk tap stored in the kiosk's outbox, a key press
the keypad took, a QR page that said thanks — is written to --log as a JSON line, so a test can
check that the hall server recorded exactly those and nothing else. Before each attempt it logs the
intent (and after a failed one, its withdrawal), so a traffic process killed mid-attempt leaves a
trace: `--resume` (a restart mid-day) re-sends the kiosk taps it had not confirmed, picks up every
window's state from the hall server (signed in, paused, calling, serving) and plans the rest of
the day; a killed key press or QR post stays an open intent (a test accepts it either way).
"""

from __future__ import annotations

import argparse
import logging
import random
import signal
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from config.errors import ConfigError
from config.loader import load_hall
from config.schema import HallConfig
from demo.printed_slips import SlipReader
from demo.traffic.channels import RATED_SHARE, Channels
from demo.traffic.people import Desk, People
from demo.traffic.roster import MANAGER_NODE
from demo.traffic.schedule import LOAD, Event, Schedule
from hallnet.client import HallClient
from hallnet.clock import BadClock, Clock
from hallnet.keys import load_node_keys
from hallnet.vocabulary import NodeKind, node_id

log = logging.getLogger("traffic")


def node_ids(config: HallConfig) -> list[str]:
    """Every node the traffic simulator speaks as (the demo registers their keys)."""
    ids = [node_id(NodeKind.DISPENSER, 1), MANAGER_NODE]
    for w in config.windows:
        ids += [node_id(NodeKind.TERMINAL, w.number), node_id(NodeKind.KIOSK, w.number)]
    return ids


class Traffic(Schedule, People, Channels):
    """The simulated hall: its day (`Schedule`), its people (`People`) and their ratings (`Channels`)."""

    def __init__(self, config: HallConfig, bus: str, keys_dir: Path, data_dir: Path, clock: Clock,
                 seed: int = 1, log_path: Path | None = None, arrivals_per_window_day: float | None = None, load: float = LOAD,
                 staffed_share: float = 0.85, rated_share: float = RATED_SHARE,
                 keypad_control: str | None = None, http: str | None = None,
                 kiosk_controls: dict[int, str] | None = None, skip_windows: set[int] | None = None,
                 slip_files: dict[int, Path] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(config.hall.timezone)
        self.arrivals_per_window_day = arrivals_per_window_day
        self.load = load
        self.rated_share = rated_share
        self.keypad_control = keypad_control
        self.http = http.rstrip("/") if http else None
        self.kiosk_controls = dict(kiosk_controls or {})     # window → control socket of its kiosk process
        self.slips = SlipReader(slip_files or {})            # what the windows' printers printed
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        skip = skip_windows or set()
        self.clients: dict[str, HallClient] = {}
        for node in node_ids(config):
            kind, _, n = node.partition("-")
            if kind in ("terminal", "kiosk") and (int(n) in skip or (kind == "kiosk" and int(n) in self.kiosk_controls)):
                continue                                    # a person's, or another process's node
            self.clients[node] = HallClient(node, bus, load_node_keys(keys_dir, node), data_dir / f"{node}.db",
                                            subscribe=node == node_id(NodeKind.DISPENSER, 1))
        self._handles: dict[str, int] = {}                   # 办件 → the keypad handle of its rating
        self._unanswered: set[str] = set()                  # 办件 whose attempt got no answer: maybe taken
        self.clients[node_id(NodeKind.DISPENSER, 1)].on_change = self._on_change
        windows = [w for w in config.windows if w.number not in skip]
        staff = list(config.staff)
        self.rng.shuffle(staff)
        staffed = windows[: max(1, round(len(windows) * staffed_share))]
        self.desks = {w.number: Desk(w, s.staff_no) for w, s in zip(staffed, staff)}
        self.rostered_weeks: set[str] = set()                 # the Mondays whose 排班 this process entered
        self._events: list[Event] = []
        self._n = 0
        self._stop = threading.Event()
        self.counts = {"tickets": 0, "jobs": 0, "ratings": 0, "bad": 0, "refused": 0, "undelivered": 0,
                       "kiosk": 0, "keypad": 0, "qr": 0, "walked_away": 0, "retries": 0, "no_slip": 0}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo.traffic", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", required=True, help="hall configuration folder")
    p.add_argument("--bus", metavar="HOST:PORT", required=True, help="the hall server's bus")
    p.add_argument("--keys", metavar="DIR", required=True, help="folder with the nodes' key files and server.key")
    p.add_argument("--data", metavar="DIR", required=True, help="folder for the nodes' outboxes")
    p.add_argument("--log", metavar="FILE", help="write every rating given as a JSON line here")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--clock-start", metavar="ISO", help="the demo clock's start (as given to the server)")
    p.add_argument("--clock-speed", metavar="N", type=float, default=1.0, help="the demo clock's speed-up")
    p.add_argument("--clock-anchor", metavar="EPOCH_S", type=float, help="the demo clock's anchor")
    p.add_argument("--arrivals", metavar="N", type=float, default=None,
                   help="citizens per window per day (default: as many as the staffed windows can serve, see --load)")
    p.add_argument("--load", metavar="X", type=float, default=LOAD,
                   help=f"arrivals as a share of what the staffed windows can serve over the day (default {LOAD})")
    p.add_argument("--until", metavar="ISO", help="stop at this (simulated) time")
    p.add_argument("--keypad-control", metavar="PATH",
                   help="the keypad simulator's control socket: citizens at windows with a keypad press keys there")
    p.add_argument("--http", metavar="URL", help="the hall server's web address: some citizens rate later by QR")
    p.add_argument("--kiosk-control", metavar="N=PATH", action="append", default=[],
                   help="window N's evaluator is a separate process taking `rate {json}` lines on PATH (repeatable)")
    p.add_argument("--slips", metavar="N=FILE", action="append", default=[],
                   help="window N's printer is a simulator decoding into FILE (`devices simulate printer --out`): "
                        "its citizens may rate by the QR code on their printed slip (repeatable)")
    p.add_argument("--resume", action="store_true",
                   help="a restart mid-day: confirm open kiosk taps from --log, take over the windows' state")
    p.add_argument("--skip-window", metavar="N", type=int, action="append", default=[],
                   help="leave window N (its terminal and kiosk) to a person (repeatable)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s traffic: %(message)s")

    try:
        config = load_hall(args.config)
        clock = Clock.parse(args.clock_start, args.clock_speed, args.clock_anchor)
        until = int(datetime.fromisoformat(args.until).timestamp() * 1000) if args.until else None
        kiosk_controls = {int(n): path for n, _, path in (item.partition("=") for item in args.kiosk_control)}
        slip_files = {int(n): Path(path) for n, _, path in (item.partition("=") for item in args.slips)}
    except (ConfigError, BadClock, ValueError) as exc:
        print(f"traffic: {exc}")
        return 2
    Path(args.data).mkdir(parents=True, exist_ok=True)
    traffic = Traffic(config, args.bus, Path(args.keys), Path(args.data), clock, args.seed,
                      Path(args.log) if args.log else None, args.arrivals, args.load, keypad_control=args.keypad_control,
                      http=args.http, kiosk_controls=kiosk_controls, skip_windows=set(args.skip_window),
                      slip_files=slip_files)
    signal.signal(signal.SIGTERM, lambda *_: traffic.stop())
    signal.signal(signal.SIGINT, lambda *_: traffic.stop())
    try:
        traffic.run(until, Path(args.log) if args.resume and args.log else None)
    finally:
        deadline = time.monotonic() + 30
        while any(c.pending_count() for c in traffic.clients.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        traffic.close()
        log.info("stopped: %s", traffic.counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
