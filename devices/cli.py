"""`python -m devices`: the keypad gateway, and the device simulators.

    python -m devices --config DIR --bus HOST:PORT --keys DIR --data DIR [--node gateway-1] [--map NAME=URL ...]
                      [--qr-base URL] [--printer-status-timeout-s S]
                      [--clock-start ISO --clock-speed N --clock-anchor EPOCH_S]

    python -m devices simulate keypad --addresses 1-8 [--baud 9600] [--keys 5] [--noise 0.01] [--seed N]
                                      [--control PATH] [--pace] [--reply-ms 5-40] [--verbose]
    python -m devices simulate printer [--out FILE] [--tcp PORT] [--control PATH] [--verbose]

A simulator prints `PTY /dev/pts/N` as its first stdout line; open that path as the serial port
(the printer with `--tcp PORT`: `TCP socket://127.0.0.1:PORT`, a network printer's raw port).
It then reads control lines from stdin (and from the unix socket `--control PATH`), answering
each with one line; `help` lists them, `quit` (or Ctrl-C, or SIGTERM) stops it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from functools import partial
from typing import Protocol, Sequence

from config.errors import ConfigError
from config.loader import load_hall
from devices.control_lines import ControlLines
from devices.gateway import Gateway
from devices.keypad import control
from devices.keypad.codec import MAX_ADDRESS
from devices.keypad.simulator import KeypadSimulator
from devices.printer.blocks import Feed, Line, Qr
from devices.printer.decoder import Document
from devices.printer.simulator import PrinterSimulator
from hallnet.address import BadAddress, BusAddress
from hallnet.client import HallClient
from hallnet.clock import BadClock, Clock
from hallnet.keys import KeyFileError, load_node_keys

EXIT_USAGE = 2
BAUD_RATES = (9600, 19200, 38400)      # what EKP-2 devices can be set to (datasheet §1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    if args.command is None:
        return _gateway(args)
    if args.command == "simulate" and args.device is None:
        parser.error("simulate needs a device: keypad or printer")
    return int(args.run(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devices",
        description="Serial devices of the hall. Without a command: the devices gateway, which mirrors every "
                    "window's state onto its EKP-2 keypad and sends each press to the hall server (channel 5), "
                    "and prints the windows' rating slips on their printers when the hall server asks. "
                    "With `simulate`: keypad and receipt-printer simulators.",
    )
    parser.add_argument("--config", metavar="DIR", help="hall configuration folder (the gateway's windows and keypads)")
    parser.add_argument("--bus", metavar="HOST:PORT", default="127.0.0.1:7700",
                        help="the hall server's bus (default 127.0.0.1:7700)")
    parser.add_argument("--keys", metavar="DIR", help="folder with NODE.key_secret and server.key "
                        "(from `python -m hall_server keys new gateway-1`)")
    parser.add_argument("--data", metavar="DIR", default="gateway-data",
                        help="folder for the outbox and the slips' print journal (default gateway-data)")
    parser.add_argument("--printer-status-timeout-s", metavar="S", type=_status_timeout, default=0.5,
                        help="how long a printer has to answer a status request (DLE EOT) before, and for "
                             "network printers after, a slip is printed (default 0.5; 0.05-30)")
    parser.add_argument("--node", default="gateway-1", help="this gateway's node id (default gateway-1)")
    parser.add_argument("--map", metavar="NAME=URL", action="append", default=[],
                        help="open the configured port NAME (a keypad's or a printer's) as URL instead (a device "
                             "path, a pty, socket://…); repeatable, e.g. --map sim://keypad=/dev/pts/5")
    parser.add_argument("--qr-base", metavar="URL",
                        help="the hall server's web address as citizens' phones reach it, put before the slip's "
                             "signed link when hall.toml has no public_url (default http://BUS-HOST:8080)")
    parser.add_argument("--clock-start", metavar="ISO", help="the hall's demo clock (as given to the hall server), "
                        "so presses are stamped in the hall's time")
    parser.add_argument("--clock-speed", metavar="N", type=float, default=1.0, help="the demo clock's speed-up")
    parser.add_argument("--clock-anchor", metavar="EPOCH_S", type=float, help="the demo clock's anchor")
    parser.add_argument("--verbose", "-v", action="store_true", help="log device activity on stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    simulate = commands.add_parser("simulate", help="run a device simulator on a pty",
                                   description="Run a device simulator on a pseudo-terminal.")
    devices = simulate.add_subparsers(dest="device", metavar="DEVICE")

    keypad = devices.add_parser(
        "keypad", help="a bus of EKP-2 evaluator keypads",
        description="A bus of EKP-2 evaluator keypads on a pty. Prints 'PTY /dev/pts/N', then takes "
                    "control lines on stdin: press ADDR LEVEL, reboot ADDR, silent ADDR on|off, "
                    "slow ADDR MS, noise RATE, status [ADDR], help, quit.",
    )
    keypad.add_argument("--addresses", type=_addresses, default=[1], metavar="LIST",
                        help=f"device addresses 1–{MAX_ADDRESS}, e.g. 1-8 or 1,3,5-7 (default 1)")
    keypad.add_argument("--baud", type=int, choices=BAUD_RATES, default=9600, help="line speed (default 9600)")
    keypad.add_argument("--keys", type=int, choices=(3, 4, 5), default=5, help="keys per keypad (default 5)")
    keypad.add_argument("--noise", type=_rate, default=0.0, metavar="RATE",
                        help="fraction of bytes corrupted, both ways (default 0)")
    keypad.add_argument("--seed", type=int, default=None, help="random seed (boot ids, event numbers, noise)")
    keypad.add_argument("--reply-ms", type=_range_ms, default=(5.0, 40.0), metavar="MIN-MAX",
                        help="reply delay after a request, ms (default 5-40, the datasheet's)")
    keypad.add_argument("--pace", action="store_true",
                        help="send at the baud rate instead of as fast as the pty allows")
    keypad.add_argument("--control", metavar="PATH", help="also take control lines on this unix socket")
    keypad.add_argument("--verbose", "-v", action="store_true", help="log device activity on stderr")
    keypad.set_defaults(run=_simulate_keypad)

    printer = devices.add_parser(
        "printer", help="an 80 mm ESC/POS receipt printer",
        description="An ESC/POS receipt printer on a pty (or, with --tcp, a network printer's raw TCP port). "
                    "Prints 'PTY /dev/pts/N' (or 'TCP socket://127.0.0.1:PORT'), then each document "
                    "it receives, decoded (text lines and QR payloads). Control lines: status, "
                    "paper out|in (status replies say 缺纸 / paper end), cover open|closed (off line, 脱机), "
                    "replies on|off (answer DLE EOT status requests or not), quit.",
    )
    printer.add_argument("--tcp", metavar="PORT", type=int,
                         help="listen on this TCP port of 127.0.0.1 instead of a pty (0: any free port)")
    printer.add_argument("--baud", type=int, default=9600, help="line speed (informational; a pty has none)")
    printer.add_argument("--out", metavar="FILE", help="append each document as one JSON line to FILE")
    printer.add_argument("--idle-flush-s", type=float, default=2.0, metavar="S",
                         help="end a document without a cut after S seconds of silence (default 2)")
    printer.add_argument("--control", metavar="PATH", help="also take control lines on this unix socket")
    printer.add_argument("--verbose", "-v", action="store_true", help="log activity on stderr")
    printer.set_defaults(run=_simulate_printer)
    return parser


# --------------------------------------------------------------------------- commands


def _gateway(args: argparse.Namespace) -> int:
    import threading
    from pathlib import Path

    if not args.config or not args.keys:
        print("python -m devices: the gateway needs --config DIR and --keys DIR (see --help)", file=sys.stderr)
        return EXIT_USAGE
    port_map = {}
    for item in args.map:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            print(f"python -m devices: --map {item!r}: expected NAME=URL", file=sys.stderr)
            return EXIT_USAGE
        port_map[name] = url
    try:
        config = load_hall(args.config)
        address = BusAddress.parse(args.bus)
        keys = load_node_keys(Path(args.keys), args.node)
        clock = Clock.parse(args.clock_start, args.clock_speed, args.clock_anchor)
    except (ConfigError, BadAddress, KeyFileError, BadClock) as exc:
        print(f"python -m devices: {exc}", file=sys.stderr)
        return EXIT_USAGE
    client = HallClient(args.node, address, keys, Path(args.data) / f"{args.node}.db")
    gateway = Gateway(config, client, port_map, clock=clock, qr_base=args.qr_base or _default_qr_base(args.bus),
                      printer_status_timeout_s=args.printer_status_timeout_s)
    if not gateway.spots and not gateway.slips.spots:
        print("python -m devices: no window in this configuration has a keypad or a printer; nothing to do",
              file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    gateway.start()
    print(f"gateway {args.node}: {len(gateway.spots)} keypads on {len(gateway.sessions)} bus(es), "
          f"{len(gateway.slips.spots)} slip printers", flush=True)
    try:
        stop.wait()
    finally:
        gateway.stop()
    return 0


def _status_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0.05 <= value <= 30:
        raise argparse.ArgumentTypeError(f"must be between 0.05 and 30 seconds, got {text}")
    return value


def _default_qr_base(bus: str) -> str:
    """The hall server's web address by default: the bus host, port 8080."""
    if bus.startswith("ipc://"):
        return "http://127.0.0.1:8080"
    return f"http://{bus.rpartition(':')[0] or '127.0.0.1'}:8080"


def _simulate_keypad(args: argparse.Namespace) -> int:
    sim = KeypadSimulator(args.addresses, keys=args.keys, baud=args.baud, noise=args.noise,
                          seed=args.seed, reply_delay_ms=args.reply_ms, pace=args.pace)
    lines = ControlLines(partial(control.execute, sim), stdin=sys.stdin, stdout=sys.stdout,
                         socket_path=args.control)
    return _serve(sim, lines, args.control)


def _simulate_printer(args: argparse.Namespace) -> int:
    def command(line: str) -> str:
        words = line.split()
        if words[0] == "status":
            return f"ok {len(sim.documents)} documents"
        if words[0] == "paper" and words[1:] in (["out"], ["in"]):
            sim.set_paper(words[1] == "in")
            return f"ok paper {words[1]}"
        if words[0] == "cover" and words[1:] in (["open"], ["closed"]):
            sim.set_cover_open(words[1] == "open")
            return f"ok cover {words[1]}"
        if words[0] == "replies" and words[1:] in (["on"], ["off"]):
            sim.set_status_replies(words[1] == "on")
            return f"ok replies {words[1]}"
        return "error: printer commands: status | paper out|in | cover open|closed | replies on|off | quit"

    if args.tcp is not None and not 0 <= args.tcp <= 65535:
        print(f"python -m devices: --tcp {args.tcp}: must be a port number 0-65535", file=sys.stderr)
        return EXIT_USAGE
    lines = ControlLines(command, stdin=sys.stdin, stdout=sys.stdout, socket_path=args.control)
    sim = PrinterSimulator(out_path=args.out, idle_flush_s=args.idle_flush_s, tcp=args.tcp is not None,
                           tcp_port=args.tcp or 0,
                           on_document=lambda doc: lines.write(_render_document(len(sim.documents), doc)))
    return _serve(sim, lines, args.control, label="TCP" if args.tcp is not None else "PTY")


class _Simulator(Protocol):
    def start(self) -> str: ...

    def stop(self) -> None: ...


def _serve(sim: _Simulator, lines: ControlLines, control_path: str | None, label: str = "PTY") -> int:
    """Start `sim`, announce its pty (or TCP URL), take control lines until quit, Ctrl-C or SIGTERM."""
    try:
        path = sim.start()
    except OSError as exc:
        print(f"python -m devices: cannot open a {'pty' if label == 'PTY' else 'TCP port'}: {exc}", file=sys.stderr)
        return 1
    try:
        lines.start()
    except OSError as exc:
        print(f"python -m devices: cannot listen on {control_path}: {exc}", file=sys.stderr)
        sim.stop()
        return 1
    lines.write(f"{label} {path}")
    try:
        lines.wait_until_stopped()
    finally:
        sim.stop()
    return 0


def _render_document(number: int, doc: Document) -> str:
    out = [f"--- document {number} (cut: {doc.cut or 'none'}) ---"]
    for item in doc.items:
        if isinstance(item, Line):
            out.append(item.text)
        elif isinstance(item, Qr):
            out.append(f"[QR {item.error} size {item.size}] {item.data}")
        elif isinstance(item, Feed):
            out.append(f"[feed {item.lines}]")
    out += [f"[unknown {u}]" for u in doc.unknown]
    return "\n".join(out)


# --------------------------------------------------------------------------- argument types


def _addresses(text: str) -> list[int]:
    addresses: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            first, last = int(low), int(high or low)
            if not 1 <= first <= last <= MAX_ADDRESS:
                raise ValueError
            addresses.update(range(first, last + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: want addresses 1–{MAX_ADDRESS} like 1-8 or 1,3,5-7") from None
    return sorted(addresses)


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: want a fraction 0–1, e.g. 0.01")
    return rate


def _range_ms(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        first, last = float(low), float(high or low)
    except ValueError:
        first, last = -1.0, -1.0
    if not 0 <= first <= last:
        raise argparse.ArgumentTypeError(f"{text!r}: want MIN-MAX milliseconds, e.g. 5-40")
    return first, last
