"""`python -m hall_server`: run the hall server, or manage node keys.

    python -m hall_server --config DIR --data DIR [--http HOST:PORT] [--bus HOST:PORT]
    python -m hall_server keys new NODE --data DIR
    python -m hall_server keys list --data DIR
    python -m hall_server keys revoke NODE --data DIR
    python -m hall_server users add NAME --role manager|viewer --data DIR [--password-stdin]
    python -m hall_server users list --data DIR
    python -m hall_server users set-role|set-password|revoke|remove NAME --data DIR
    python -m hall_server config export DIR --data DIR
    python -m hall_server config import DIR --data DIR [--apply]

The hall's configuration: on the first start (an empty store) the server imports the --config
folder into its store; from then on the store is the source of truth (the browser's 管理 pages
change it at once on every node), --config is read only while the store is empty, and
`config export` / `config import` move it to and from a TOML folder.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from config.errors import ConfigError
from hall_server.assembly import hall_handlers
from hall_server.core.backend import BusBackend
from hall_server.core import notify_runner
from hall_server.core.export_runner import ExportRunner
from hall_server.core.hub import Hub
from hall_server.core.migrations import HALL
from hall_server.core.store import StoreError, check_writable, open_store
from hall_server.domain.workdays import calendar_warnings
from hall_server.transport.bus import Bus
from hall_server.web.app import make_app
from hall_server.web.users import main_users
from hall_server.admin_cli import add_parser as add_config_parser, main_config
from hall_server.domain.hall_config_store import (
    CONFIG_FOLDER, StoreConfigError, diff_docs, folder_docs, load_from_store, seed_from_folder, store_docs,
)
from hallnet.address import BadAddress, BusAddress
from hallnet.clock import BadClock, Clock
from hallnet.keys import KeyFileError, KeyRegistry, new_node_key, revoke_node_key, server_keys
from hallnet.vocabulary import Msg

EXIT_THREAD_DIED = 3
WATCH_EVERY_S = 0.5

EPILOG = """\
The bus listens on --bus (commands, ROUTER) and on the next port (state deltas, PUB); every
socket uses CURVE and accepts only node keys registered with `keys new`; `keys revoke NODE`
drops that node at once on a running server and its key is never accepted again. Data folder:
hall.db (SQLite, WAL), keys/ (server key, registered, issued and revoked node keys),
secret.key (signs QR rating links and web sessions), users.json (web accounts); a relative
`folder:` export sink ([export] in hall.toml) is inside it too. The API's manager and viewer keys
come from the environment: HALL_MANAGER_KEY, HALL_VIEWER_KEY (HALL_INTEGRATION_KEY: business system).
SIGINT or SIGTERM stop the server cleanly (exit 0); a restart keeps everything. Exit 2: it could
not start (bad configuration or address, an unwritable data folder). Exit 3: the bus thread (which
is also the one writer) died; a supervisor (systemd Restart=on-failure) restarts the server.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hall_server", description="The hall server.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", help="hall configuration folder (TOML files): imported into the store "
                                                  "on the first start; later the store is the configuration")
    p.add_argument("--data", metavar="DIR", help="data folder: hall.db and keys/ (created if missing)")
    p.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8080",
                   help="HTTP address for the API and pages (default 127.0.0.1:8080)")
    p.add_argument("--bus", metavar="HOST:PORT", default="127.0.0.1:7700",
                   help="ZeroMQ command address; state deltas on PORT+1; or ipc:///path (default 127.0.0.1:7700)")
    p.add_argument("--clock-start", metavar="ISO",
                   help="run on a demo clock that starts at this time, e.g. 2026-11-23T08:30+08:00 (default: real time)")
    p.add_argument("--clock-speed", metavar="N", type=float, default=1.0,
                   help="demo clock speed-up, e.g. 60 = an hour a minute (needs --clock-start)")
    p.add_argument("--clock-anchor", metavar="EPOCH_S", type=float,
                   help="real time (epoch seconds) at which the demo clock read --clock-start; lets a restarted "
                        "server continue the same simulated time (default: now)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   help="logging level (default INFO)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    keys = sub.add_parser("keys", help="manage node keys")
    ksub = keys.add_subparsers(dest="keys_command", metavar="keys COMMAND", required=True)
    new = ksub.add_parser("new", help="create and register a key pair for a node")
    new.add_argument("node", metavar="NODE", help="node id, e.g. kiosk-3, terminal-3, gateway-1")
    new.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    lst = ksub.add_parser("list", help="list registered node keys")
    lst.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    rev = ksub.add_parser("revoke", help="revoke a node's key: a running server drops the node at once, "
                                         "and the key is never accepted again")
    rev.add_argument("node", metavar="NODE", help="node id, e.g. kiosk-3")
    rev.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    users = sub.add_parser("users", help="managers' accounts for the web pages")
    usub = users.add_subparsers(dest="users_command", metavar="users COMMAND", required=True)
    uadd = usub.add_parser("add", help="create or replace an account (prints a new password unless given)")
    uadd.add_argument("name", metavar="NAME", help="login name: letters, digits, _ . -")
    uadd.add_argument("--role", choices=["manager", "viewer", "inspector", "admin"], required=True,
                      help="manager handles cases and the 管理 pages; viewer reads; inspector records patrols; "
                           "admin also manages the accounts")
    uadd.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    uadd.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    ulst = usub.add_parser("list", help="list accounts")
    ulst.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    urole = usub.add_parser("set-role", help="change an account's role (ends its sessions)")
    urole.add_argument("name", metavar="NAME", help="login name")
    urole.add_argument("--role", choices=["manager", "viewer", "inspector", "admin"], required=True, help="the new role")
    urole.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    upw = usub.add_parser("set-password", help="set a new password (ends its sessions; prints one unless given)")
    upw.add_argument("name", metavar="NAME", help="login name")
    upw.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    upw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    urev = usub.add_parser("revoke", help="end every session of an account (log it out everywhere)")
    urev.add_argument("name", metavar="NAME", help="login name")
    urev.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    urem = usub.add_parser("remove", help="delete an account (ends its sessions)")
    urem.add_argument("name", metavar="NAME", help="login name")
    urem.add_argument("--data", metavar="DIR", required=True, help="the server's data folder")
    add_config_parser(sub)
    return p


def _fail(message: str, code: int = 2) -> int:
    print(f"hall_server: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "keys":
        return _keys(args)
    if args.command == "users":
        return main_users(args)
    if args.command == "config":
        return main_config(args)
    if not args.data or (not args.config and not (Path(args.data) / "hall.db").is_file()):
        return _fail("--config DIR and --data DIR are required to run the server (see --help)")

    try:
        clock = Clock.parse(args.clock_start, args.clock_speed, args.clock_anchor)
    except BadClock as exc:
        return _fail(str(exc))
    return run(Path(args.config) if args.config else None, Path(args.data), args.http, args.bus, args.log_level, clock)


def _keys(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if args.keys_command == "revoke":
        try:
            fp = revoke_node_key(data, args.node)
        except (KeyFileError, OSError) as exc:
            return _fail(str(exc))
        print(f"revoked {args.node} (key {fp}); a running server drops it now; "
              f"`keys new {args.node}` issues a new key")
        return 0
    if args.keys_command == "new":
        try:
            folder = new_node_key(data, args.node)
        except (KeyFileError, OSError) as exc:
            return _fail(str(exc))
        print(f"registered {args.node}; give the node the folder {folder} "
              f"({args.node}.key_secret and server.key)")
        return 0
    for name in KeyRegistry(data / "keys" / "nodes").nodes():
        print(name)
    return 0


def _parse_http(text: str) -> tuple[str, int] | None:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not (1 <= int(port) <= 65535):
        return None
    return host.strip("[]"), int(port)


def run(config_dir: Path | None, data_dir: Path, http: str, bus_addr: str, log_level: str = "INFO",
        clock: "Clock | None" = None) -> int:
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    http_addr = _parse_http(http)
    if http_addr is None:
        return _fail(f"--http {http!r}: expected HOST:PORT")
    try:
        address = BusAddress.parse(bus_addr)
    except BadAddress as exc:
        return _fail(f"--bus {exc}")
    try:
        check_writable(data_dir)                 # creates it; refuses a read-only or unwritable folder
        hub, first = _open_hub(config_dir, data_dir, clock)
        keys = server_keys(data_dir)
    except ConfigError as exc:
        return _fail(f"configuration {config_dir} is not valid:\n{exc}")
    except (StoreError, StoreConfigError, KeyFileError, OSError) as exc:
        return _fail(str(exc))
    config = hub.config
    bus = Bus(hub, address, keys, data_dir / "keys" / "nodes")
    try:
        bus.start()
    except OSError as exc:
        return _fail(str(exc))
    log = logging.getLogger("hall_server")
    log.info("hall configuration: %s", f"imported from {config_dir} into the store" if first else
             "the store's (the source of truth; `config export` writes it as a folder)")
    log.info("hall %s: bus %s + %s, http %s:%d, state seq %d", config.hall.name, address.commands,
             address.states, http_addr[0], http_addr[1], hub.state.seq)
    for warning in calendar_warnings(config, hub.clock()):
        log.warning("calendar: %s", warning)

    bus.submit(Msg.SCREEN_NOTICE, {"text": config.hall.screen.notice}, node="system")   # the hall screen's line
    runners = [r for r in (ExportRunner.from_config(hub, bus.submit, data_dir),   # R11, when [export] sink is set
                           ExportRunner.for_city(hub, bus.submit, data_dir),     # the city tier, when [city] url is set
                           notify_runner.runner_for(hub, bus.submit))            # issue 15, when [notify] has a channel
               if r is not None]
    for runner in runners:
        runner.start()
    try:
        return _serve_http(BusBackend(hub, bus), http_addr)
    finally:
        for runner in runners:
            runner.stop()
        bus.stop()
        hub.close()
        log.info("stopped")


def _open_hub(config_dir: Path | None, data_dir: Path, clock: Clock | None) -> tuple[Hub, bool]:
    """The hub on the store, with the store's configuration; on the first start (no configuration
    in the store) the --config folder is checked and imported first (True). Afterwards the folder
    is not read at all. The configuration is read before the hub is built, so a hub always has one.
    Raises ConfigError, StoreConfigError, StoreError."""
    config_folder = data_dir / CONFIG_FOLDER
    clock = clock or Clock()
    db = open_store(data_dir / "hall.db", HALL)
    try:
        first = config_dir is not None and seed_from_folder(db, config_dir, config_folder, clock())
        config = load_from_store(db, config_folder)
    finally:
        db.close()
    hub = Hub(data_dir / "hall.db", config, clock, handlers=hall_handlers())
    if config_dir is not None and not first:
        _say_if_folder_differs(hub, config_dir)
    return hub, first


def _say_if_folder_differs(hub: Hub, config_dir: Path) -> None:
    """One warning line when --config no longer matches the store (the store is used)."""
    log = logging.getLogger("hall_server")
    try:
        differences = diff_docs(store_docs(hub.db), folder_docs(config_dir))
    except ConfigError:
        log.warning("--config %s is not a valid hall folder; the store's configuration is used", config_dir)
        return
    if differences:
        log.warning("the store's hall configuration differs from --config %s in %d items; the store is used "
                    "(see them with `python -m hall_server config import %s --data DIR`)", config_dir,
                    len(differences), config_dir)


def _serve_http(backend: "BusBackend", addr: tuple[str, int]) -> int:
    import uvicorn

    # Open live-floor streams (SSE) never end by themselves: give them 2 s on shutdown, then cancel.
    # No access log (it would log at INFO, below the level shown, on every request). uvicorn takes
    # the faster HTTP parser (httptools) and event loop (uvloop) by itself when they are installed.
    server = uvicorn.Server(uvicorn.Config(make_app(backend), host=addr[0], port=addr[1],
                                           log_level="warning", access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=2))
    stopped = threading.Event()          # the HTTP server is done (or asked to be): the watcher ends
    signalled = threading.Event()
    died = threading.Event()

    def stop(signum: int, frame: object) -> None:
        signalled.set()
        stopped.set()
        server.should_exit = True

    def watch() -> None:  # the bus thread is also the one writer: without it nothing is stored
        while not stopped.wait(WATCH_EVERY_S):
            if not backend.bus.alive().alive:
                logging.getLogger("hall_server").error("the bus thread (the one writer) died; stopping")
                died.set()
                server.should_exit = True
                return

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=watch, name="hall-watch", daemon=True).start()
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        return _fail(f"HTTP server could not start on {addr[0]}:{addr[1]}") if exc.code else 0
    finally:
        stopped.set()
    if died.is_set():
        return _fail("the bus thread died (see the log above); exiting for the supervisor to restart the server",
                     EXIT_THREAD_DIED)
    if not server.started and not signalled.is_set():
        return _fail(f"HTTP server could not start on {addr[0]}:{addr[1]}")
    return 0
