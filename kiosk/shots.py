"""Drive every kiosk screen headlessly with demo data: screenshots and a layout check.

    python -m kiosk.shots --out docs/screens [--lang zh|en] --only evaluator|tickets [--sizes all]

No hall server: the logic gets the hall state a server would publish, and taps go through the
same App methods the buttons call. For each screen, at each size (`--sizes all`: 800x480,
1024x600, 1280x800, 1920x1080, and 1080x1920 for the dispenser), it writes
kiosk-<name>-<W>x<H>.png and checks what an elderly citizen needs (kiosk.layout_check): nothing
overlaps or leaves the screen, no text overflows its box, every usable button at least 15 mm
(at hall.screen_dpi or --dpi), every text at least 24 px, no character without a glyph (rare ones
routed to the SC fallback face). Prints a JSON report on stdout; exit status 1 if a check failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from config.loader import load_hall
from kiosk.dispenser_logic import Dispenser
from kiosk.evaluator_logic import Evaluator
from kiosk.kivy_setup import prepare
from kiosk.layout_check import check
from kiosk.theme import LANDSCAPE_SIZES, PORTRAIT_SIZES, button_px
from hallnet.vocabulary import Key

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "config" / "examples" / "demo-hall"
SETTLE_S = 0.15          # after a step or a resize: layout passes and textures are done by then


class _Env:
    def __init__(self, n: int) -> None:
        self.id = f"msg-{n}"


class Recorder:
    """Stands in for the outbox: remembers what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, type_: str, body: dict[str, Any]) -> _Env:
        self.sent.append((type_, body))
        return _Env(len(self.sent))


def inspect(root: Any, min_button_px: float) -> dict[str, Any]:
    """Sizes, overlaps and glyphs of what is visible under `root` (kiosk.layout_check)."""
    win = root.get_root_window()
    size = tuple(win.size) if win is not None else (10_000, 10_000)
    return check(root, window_size=size, min_button_px=min_button_px).as_dict()


def evaluator_steps(app: Any, clock: list[float]) -> list[tuple[str, Callable[[], None]]]:
    logic = app.logic
    w = logic.window
    wall = lambda: int(time.time() * 1000)  # noqa: E731
    staff = {"staff_no": "HC2101", "name": "王𬀩", "department": "区行政审批服务局", "stars": 5,
             "promise": "微笑服务，一次告知，限时办结"}

    def serving() -> None:
        logic.on_connection(True)
        logic.on_state(Key.window(w), {"window": w, "state": "serving", "staff": staff, "pause_reason": None,
                                       "ticket": "A012"})

    def paused() -> None:
        logic.on_state(Key.window(w), {"window": w, "state": "paused", "pause_reason": "lunch", "staff": {
            "staff_no": "HC2106", "name": "周𠇔", "department": "区不动产登记中心", "stars": 3,
            "promise": "换位思考，用心服务"}})

    def closed() -> None:
        logic.on_state(Key.window(w), {"window": w, "state": "closed", "pause_reason": None, "staff": None})

    def offline() -> None:
        serving()
        logic.on_connection(False)

    def opening(job: str) -> Callable[[], None]:
        def go() -> None:
            serving()
            logic.on_state(Key.rating(w), {"window": w, "job": job, "handle": 1, "staff_no": "HC2101",
                                           "staff_name": "王𬀩", "department": "区行政审批服务局", "stars": 5,
                                           "expires_ms": wall() + 60_000, "tag_version": 2})
            logic.ask_link()                  # the hall server answers with the signed link
            for ref, asked in logic.links.asked().items():
                logic.on_reply(ref, {"ok": True, "result": {"job": asked, "qr_path": f"/r/SIGNED-{asked}",
                                                            "qr_url": None}})
        return go

    def tags() -> None:
        app.tap_level(5)
        app.tap_level(1)                      # ignored: a second tap
        app.toggle_tag("P02")
        app.toggle_tag("P03")

    def thanks() -> None:
        app.submit()

    def reasons() -> None:
        opening("demo-job-2")()
        app.tap_level(2)
        app.submit()                          # no tag yet: a hint
        app.toggle_tag("N02")
        app.toggle_tag("N08")

    def phone() -> None:
        app.open_phone()
        for d in "1391234":
            app.phone_key(d)
        app.phone_done()                      # too short: a hint

    def text() -> None:
        for d in "5678":
            app.phone_key(d)
        app.phone_done()
        app.open_text()
        for word in ("dengdai", "shijian"):
            for k in word:
                app.text_key(k)
            app.text_key("cand:0")
        for k in "taichang":
            app.text_key(k)

    def reasons_filled() -> None:
        app.text_key("cand:1")              # 太
        app.text_key("cand:0")              # 长
        app.text_key("。")
        app.text_done()

    def thanks_bad() -> None:
        app.submit()

    def lost() -> None:                       # the hall server goes away: the banner takes its line
        logic.on_connection(False)

    return [("identity", serving), ("identity-paused", paused), ("identity-closed", closed),
            ("identity-offline", offline), ("rate", opening("demo-job-1")), ("rate-offline", lost), ("tags", tags),
            ("thanks", thanks), ("reasons", reasons), ("phone", phone), ("text", text),
            ("reasons-filled", reasons_filled), ("reasons-offline", lost), ("thanks-bad", thanks_bad)]


def dispenser_steps(app: Any) -> list[tuple[str, Callable[[], None]]]:
    logic = app.logic
    counts = {"A": (12, 2), "B": (5, 0), "C": (3, 1), "D": (0, 0), "E": (2, 0), "F": (7, 0), "G": (1, 0), "H": (9, 1)}

    def home() -> None:
        logic.on_connection(True)
        for code, (n, p) in counts.items():
            logic.on_state(Key.queue(code), {"category": code, "waiting": n, "priority_waiting": p})

    def wait() -> None:
        app.tap_category("A")
        app.tap_category("B")                 # ignored while the first is on its way

    def ticket() -> None:
        ref = next(iter(logic.pending))
        logic.on_reply(ref, {"ok": True, "result": {"ticket_id": 1, "ticket": "A013", "category": "A",
                                                    "priority": None, "waiting_before": 12,
                                                    "taken_ms": int(time.time() * 1000), "ahead": 12,
                                                    "wait_min_minutes": 18, "wait_max_minutes": 45,
                                                    "status_path": "/t/0123456789abcdef0123", "status_url": None}})
        app.refresh()

    def priority() -> None:
        app.cancel()
        app.open_priority()
        app.choose_kind("elderly")
        app.choose_category("C")
        app.confirm_priority(0.2)             # a quick tap does not issue a priority ticket

    def offline() -> None:
        app.cancel()
        logic.on_connection(False)

    return [("tickets", home), ("tickets-wait", wait), ("tickets-ticket", ticket), ("tickets-priority", priority),
            ("tickets-offline", offline)]


def parse_sizes(text: str, only: str) -> list[tuple[int, int]]:
    """`all` (every size the app must fit: landscape, and portrait for the dispenser) or
    `WxH[,WxH…]`."""
    if text == "all":
        return list(LANDSCAPE_SIZES) + (list(PORTRAIT_SIZES) if only == "tickets" else [])
    sizes = []
    for part in text.split(","):
        w, sep, h = part.strip().partition("x")
        if not (sep and w.isdigit() and h.isdigit()):
            raise argparse.ArgumentTypeError(f"--sizes: {part!r} is not WIDTHxHEIGHT (e.g. 800x480) or all")
        sizes.append((int(w), int(h)))
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kiosk.shots", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--config", type=Path, default=DEMO)
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--only", choices=["evaluator", "tickets"], required=True,
                   help="one app per process (Kivy has one window per process)")
    p.add_argument("--size", default=None, help="one window size, files kiosk-<screen>.png (default 1280x800)")
    p.add_argument("--sizes", default=None,
                   help="every screen at each of these sizes (WxH,WxH… or all), files kiosk-<screen>-<W>x<H>.png")
    p.add_argument("--save", default=None, help="write the PNGs of these screens only (comma list); all are checked")
    p.add_argument("--dpi", type=int, default=None, help="screen density for the 15 mm check (default hall.screen_dpi)")
    args = p.parse_args(argv)
    if args.size and args.sizes:
        p.error("--size and --sizes exclude each other")
    try:
        sizes = parse_sizes(args.sizes, args.only) if args.sizes else parse_sizes(args.size or "1280x800", args.only)
    except argparse.ArgumentTypeError as exc:
        p.error(str(exc))
    named_by_size = args.sizes is not None
    save = set(args.save.split(",")) if args.save else None
    # The offscreen window's framebuffer keeps the size it was created with: create it large enough
    # for every size, then resize the window (the first shot is drawn at its own size).
    width, height = max(w for w, _ in sizes), max(h for _, h in sizes)

    prepare(width=width, height=height, fullscreen=False, headless=True,
            kivy_home=Path(tempfile.mkdtemp(prefix="kivy-home-")))

    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk import app as kapp

    config = load_hall(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    rec = Recorder()
    suffix = "" if args.lang == "zh" else f"-{args.lang}"
    if args.only == "evaluator":
        logic = Evaluator(config, 1, rec, lang=args.lang, qr_base="http://hall.example:8080", tag_timeout_s=600,
                          thanks_s=600)
        app: Any = kapp.EvaluatorApp(config, logic, lang=args.lang)
        steps = evaluator_steps(app, [])
    else:
        dlogic = Dispenser(config, rec, lang=args.lang, ticket_s=600)
        app = kapp.DispenserApp(config, dlogic, lang=args.lang)
        steps = dispenser_steps(app)
    if args.dpi is not None:
        app.min_button_px = button_px(args.dpi)
    report: dict[str, Any] = {"screens": {}, "sent": None, "min_button_px": None, "sizes": [list(s) for s in sizes]}
    queue = list(steps)

    def shoot(name: str, todo: list[tuple[int, int]]) -> None:
        # drawn at least once since the step (or the resize) ran
        w, h = todo.pop(0)
        key = f"{name}-{w}x{h}" if named_by_size else name
        info = inspect(app.root, app.min_button_px)
        if save is None or name in save:
            path = Window.screenshot(name=str(args.out / f"kiosk-{key}{suffix}-tmp.png"))
            final = args.out / f"kiosk-{key}{suffix}.png"
            Path(path).replace(final)
            info["file"] = final.name
        info["screen"] = app.sm.current
        info["size"] = [w, h]
        info["scale"] = round(app.scale, 3)
        report["screens"][key] = info
        Clock.schedule_once(lambda _dt: resize(name, todo) if todo else step(), 0)

    def resize(name: str, todo: list[tuple[int, int]]) -> None:
        if tuple(Window.size) != todo[0]:
            Window.size = todo[0]
        Clock.schedule_once(lambda _dt: shoot(name, todo), SETTLE_S)

    def step() -> None:
        if not queue:
            report["sent"] = rec.sent
            report["min_button_px"] = app.min_button_px
            app.stop()
            return
        name, action = queue.pop(0)
        action()
        if hasattr(app.logic, "set_pending") and app.logic.connected:
            app.logic.set_pending(0)          # as if the hall server had taken it at once
        app.refresh()
        resize(name, list(sizes))

    Clock.schedule_once(lambda _dt: step(), 0.3)
    app.run()
    print(json.dumps(report, ensure_ascii=False))
    return 1 if any(s["problems"] for s in report["screens"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
