"""`python -m kiosk`: the citizen evaluator of one window, or the ticket dispenser.

    python -m kiosk --config DIR --window N --bus HOST:PORT --keys DIR [--data DIR] [--lang zh|en]
    python -m kiosk --config DIR --mode tickets --bus HOST:PORT --keys DIR [--printer URL]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from config.errors import ConfigError
from config.fonts import FontsMissing, ui_font
from config.loader import load_hall
from hallnet.address import BadAddress, BusAddress
from hallnet.client import HallClient
from hallnet.clock import BadClock, add_clock_flags, clock_from_flags
from hallnet.keys import KeyFileError, load_node_keys
from kiosk.dispenser_logic import Dispenser
from kiosk.drafts import DraftStore
from kiosk.evaluator_logic import Evaluator
from kiosk.kivy_setup import prepare
from kiosk.net import rated_jobs_in
from kiosk.printing import ticket_printer
from kiosk.staff_photos import PhotoCache

PROMPT_WAV = Path(__file__).resolve().parent / "assets" / "prompt.wav"

EPILOG = """\
Keys: the folder given by the hall server's `python -m hall_server keys new kiosk-3 --data DATA`
(DATA/keys/issued), holding NODE.key_secret and server.key. The node id is kiosk-N for window N's
evaluator and dispenser-1 for the ticket dispenser unless --node says otherwise.
Ratings go into the durable outbox DATA/NODE-outbox.db before "thank you" shows, and are sent
when the hall server is reachable (also after a restart of the kiosk).
A level tapped on the evaluator and waiting on the reasons or tags screen is kept in DATA/NODE-drafts.db
and sent at the next start if the kiosk stopped before (a 差评 then with the reason 原因待回访).
The QR code of a 办件 is the signed link the hall server gives this kiosk (rating.link) when the rating
opens: its hall.public_url, or --qr-base + the signed path; --qr-base is the hall server's public HTTP address.
Staff photos: the evaluator shows the photo the hall server names for the clerk signed in (window/N's staff
card), downloaded in the background from --http and kept in DATA/staff-photos; meanwhile, or if the
download fails, the photo in --config's folder or a placeholder.
The dispenser prints on each ticket a QR code to the ticket's status page (/t/<id>) the same way.
"""


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (320 <= int(w) <= 7680 and 240 <= int(h) <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r}: expected WIDTHxHEIGHT in px, e.g. 1280x800")
    return int(w), int(h)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kiosk", description="The citizen kiosk: 一次一评 evaluator or ticket dispenser.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", required=True, help="hall configuration folder (TOML files)")
    p.add_argument("--mode", choices=["evaluator", "tickets"], default="evaluator",
                   help="evaluator (one window, needs --window) or tickets (the dispenser); default evaluator")
    p.add_argument("--window", metavar="N", type=int, help="the window this evaluator stands at")
    p.add_argument("--bus", metavar="HOST:PORT", default="127.0.0.1:7700",
                   help="hall server bus: HOST:PORT (states on PORT+1) or ipc:///path (default 127.0.0.1:7700)")
    p.add_argument("--keys", metavar="DIR", help="folder with NODE.key_secret and server.key (required)")
    p.add_argument("--node", metavar="ID", help="node id (default kiosk-N, or dispenser-1 in tickets mode)")
    p.add_argument("--data", metavar="DIR", default="kiosk-data", help="local data: the outbox (default ./kiosk-data)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="screen language (default zh)")
    fs = p.add_mutually_exclusive_group()
    fs.add_argument("--fullscreen", dest="fullscreen", action="store_true", help="full screen (for the hall)")
    fs.add_argument("--windowed", dest="fullscreen", action="store_false", help="in a window (default)")
    p.set_defaults(fullscreen=False)
    p.add_argument("--size", metavar="WxH", type=_size, default=(1280, 800), help="window size in px (default 1280x800)")
    p.add_argument("--qr-base", metavar="URL", help="public address of the hall server's QR pages "
                   "(default http://BUS-HOST:8080)")
    p.add_argument("--http", metavar="URL", help="evaluator: the hall server's HTTP address on the hall's network, "
                   "where staff photos are downloaded from (default: --qr-base, else http://BUS-HOST:8080)")
    p.add_argument("--printer", metavar="URL", help="tickets mode: ESC/POS printer port (pyserial URL or device); "
                   "sim://… is a placeholder that only logs")
    p.add_argument("--printer-baud", metavar="N", type=int, default=9600, help="printer line speed (default 9600)")
    snd = p.add_mutually_exclusive_group()
    snd.add_argument("--prompt-audio", metavar="FILE", type=Path,
                     help="audio clip played when a rating opens (default: the bundled chime)")
    snd.add_argument("--no-sound", action="store_true", help="no audio prompt")
    p.add_argument("--headless", action="store_true", help="draw offscreen (tests, benchmarks, screenshots)")
    p.add_argument("--trace", action="store_true", help="print timing events as JSON lines on stdout")
    add_clock_flags(p)
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   help="logging level (default WARNING)")
    return p


def _fail(message: str) -> int:
    print(f"kiosk: {message}", file=sys.stderr)
    return 2


def _default_qr_base(bus: str) -> str:
    if bus.startswith("ipc://"):
        return "http://127.0.0.1:8080"
    host = bus.rpartition(":")[0] or "127.0.0.1"
    return f"http://{host}:8080"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    tickets = args.mode == "tickets"
    if not tickets and args.window is None:
        return _fail("--window N is required for the evaluator (or use --mode tickets)")
    if tickets and args.window is not None:
        return _fail("--window is for the evaluator; the dispenser (--mode tickets) serves the whole hall")
    if args.keys is None:
        return _fail("--keys DIR is required: the folder from `python -m hall_server keys new NODE --data DATA`")
    for flag, url in (("--http", args.http), ("--qr-base", args.qr_base)):
        if url is not None and not url.startswith(("http://", "https://")):
            return _fail(f"{flag} {url}: expected an address like http://HOST:PORT")
    try:
        address = BusAddress.parse(args.bus)
    except BadAddress as exc:
        return _fail(f"--bus {exc}")
    try:
        config = load_hall(Path(args.config))
    except ConfigError as exc:
        return _fail(f"configuration {args.config} is not valid:\n{exc}")
    except OSError as exc:
        return _fail(f"configuration {args.config}: {exc}")
    if not tickets:
        try:
            window = config.window(args.window)
        except KeyError:
            return _fail(f"--window {args.window}: not in the hall configuration "
                         f"(windows: {', '.join(str(w.number) for w in config.windows)})")
        if not window.kiosk:
            return _fail(f"--window {args.window}: windows.toml says this window has no kiosk (kiosk = false)")
    node = args.node or ("dispenser-1" if tickets else f"kiosk-{args.window}")
    try:
        keys = load_node_keys(Path(args.keys), node)
    except KeyFileError as exc:
        return _fail(f"{exc} (create the key with `python -m hall_server keys new {node} --data DATA`)")
    try:
        ui_font()
    except FontsMissing as exc:
        return _fail(str(exc))
    audio: Path | None = None
    if not args.no_sound and not tickets:
        audio = args.prompt_audio or PROMPT_WAV
        if not audio.is_file():
            return _fail(f"--prompt-audio {audio}: no such file")
    try:
        args.clock = clock_from_flags(args)
    except BadClock as exc:
        return _fail(str(exc))
    data = Path(args.data)
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"--data {data}: {exc}")

    width, height = args.size
    prepare(width=width, height=height, fullscreen=args.fullscreen, headless=args.headless,
            kivy_home=data / "kivy")
    return run(config, args, node, address, keys, data / f"{node}-outbox.db", audio)


def run(config, args, node, address, keys, outbox_path, audio) -> int:   # noqa: ANN001 (after Kivy setup)
    from kiosk import app as kapp

    trace = kapp.Trace() if args.trace else None
    if trace is not None:
        trace("start", node=node)
    client = HallClient(node, address, keys, outbox_path)
    drafts: DraftStore | None = None
    if args.mode == "tickets":
        logic = Dispenser(config, client.send, lang=args.lang, qr_base=args.qr_base or _default_qr_base(args.bus),
                          print_ticket=ticket_printer(config, args.printer, args.printer_baud, args.lang))
        app: kapp.KioskApp = kapp.DispenserApp(config, logic, client=client, lang=args.lang, trace=trace)
    else:
        drafts = DraftStore(outbox_path.with_name(f"{node}-drafts.db"))
        photos = PhotoCache(args.http or args.qr_base or _default_qr_base(args.bus), outbox_path.parent / "staff-photos")
        logic = Evaluator(config, args.window, client.send, lang=args.lang,
                          qr_base=args.qr_base or _default_qr_base(args.bus), wall_ms=args.clock, drafts=drafts,
                          photos=photos)
        logic.mark_sent(rated_jobs_in(client.outbox))
        logic.resume_kept()         # taps an earlier run kept and did not send (the citizen is gone)
        app = kapp.EvaluatorApp(config, logic, client=client, lang=args.lang, trace=trace, prompt_audio=audio)
        photos.on_ready = app.photo_ready
    client.on_reply = app.hall_reply
    client.on_change = app.hall_change
    client.on_connection = app.hall_connection
    client.start()
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    finally:
        client.stop()
        if drafts is not None:
            drafts.close()
    return 0
