"""`python -m window_terminal`: the staff terminal of one window.

    python -m window_terminal --config DIR --window N [--bus HOST:PORT] [--keys DIR] [--data DIR]
                              [--lang zh|en] [--fullscreen | --windowed]

The terminal never prints the slip nor sees its QR link (a rating credential): the devices
gateway prints it on the window's printer; F8 finishes, Ctrl+P asks for a reprint (补打).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from config.errors import ConfigError
from config.fonts import FontsMissing, ui_font
from config.loader import load_hall
from hallnet.address import BadAddress, BusAddress
from hallnet.clock import BadClock, add_clock_flags, clock_from_flags
from hallnet.keys import KeyFileError, load_node_keys
from window_terminal.runtime import build, node_id

EPILOG = """\
keys: the folder holds terminal-N.key_secret and server.key, as issued by
  python -m hall_server keys new terminal-N --data SERVER_DATA   (in SERVER_DATA/keys/issued/)
data: the terminal keeps its outbox (terminal-N.outbox.db) and its local state
  (terminal-N.state.json: sign-in, the case being typed, parked tickets) there, so a restart
  or a lost connection loses nothing.
Keys on the terminal: F1 call next, F2 recall, F3 no-show, F4 park, F5 call back, F6 transfer,
  F7 start serving, F8 finish, F9 pause/resume, F10 find a service, F11 my day, F12 sign out,
  Ctrl+P reprint the slip (补打), Esc back, Ctrl+E 中文/English. Sign-in: digits, Tab, Enter.
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m window_terminal", description="The window staff terminal.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", required=True, help="hall configuration folder (TOML files)")
    p.add_argument("--window", metavar="N", type=int, required=True, help="this terminal's window number")
    p.add_argument("--bus", metavar="HOST:PORT", default="127.0.0.1:7700",
                   help="the hall server's bus (states on PORT+1), or ipc:///path (default 127.0.0.1:7700)")
    p.add_argument("--keys", metavar="DIR", help="folder with terminal-N.key_secret and server.key "
                                                  "(default: DATA/keys)")
    p.add_argument("--data", metavar="DIR", default=".window-terminal",
                   help="folder for the outbox and local state (default .window-terminal)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language at start (default zh; Ctrl+E switches)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--fullscreen", dest="fullscreen", action="store_true", default=True,
                      help="fill the screen (default)")
    mode.add_argument("--windowed", dest="fullscreen", action="store_false", help="run in a 1280×800 window")
    add_clock_flags(p)
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def _fail(message: str) -> int:
    print(f"window_terminal: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.log_level != "DEBUG":
        logging.getLogger("kivy").setLevel(logging.WARNING)     # Kivy's start-up chatter

    try:
        config = load_hall(args.config)
    except ConfigError as exc:
        return _fail(f"{args.config}: the hall configuration has problems:\n{exc}")
    except OSError as exc:
        return _fail(f"{args.config}: {exc}")
    numbers = [w.number for w in config.windows]
    if args.window not in numbers:
        return _fail(f"--window {args.window}: no such window in {args.config} (windows: "
                     f"{', '.join(map(str, numbers))})")
    try:
        BusAddress.parse(args.bus)
    except BadAddress as exc:
        return _fail(f"--bus: {exc}")
    data = Path(args.data)
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"--data {data}: {exc}")
    keys_dir = Path(args.keys) if args.keys else data / "keys"
    node = node_id(args.window)
    try:
        keys = load_node_keys(keys_dir, node)
    except KeyFileError as exc:
        return _fail(f"--keys {keys_dir}: {exc} (issue them with: python -m hall_server keys new {node} "
                     f"--data SERVER_DATA)")
    try:
        ui_font()
    except FontsMissing as exc:
        return _fail(str(exc))
    try:
        clock = clock_from_flags(args)
    except BadClock as exc:
        return _fail(str(exc))
    return run(config, args.window, args.bus, keys, data, args.lang, args.fullscreen, clock)


def run(config, window, bus, keys, data, lang, fullscreen, clock=None) -> int:  # type: ignore[no-untyped-def]
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")      # our logging, and sys.stderr left alone
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
    else:
        Config.set("graphics", "width", "1280")
        Config.set("graphics", "height", "800")
    from kivy.clock import Clock

    from window_terminal.app import TerminalApp

    def post(fn, *a):  # type: ignore[no-untyped-def]
        Clock.schedule_once(lambda dt: fn(*a), 0)

    term = build(config, window, bus, keys, data, post, lang=lang, now_ms=clock)
    term.client.start()
    app = TerminalApp(term.logic, on_stop_hook=term.stop)
    app.run()
    return 0
