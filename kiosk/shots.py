"""Drive every kiosk screen headlessly with demo data: screenshots and a layout check.

    python -m kiosk.shots --out docs/screens [--lang zh|en] [--only evaluator|tickets]

No hall server: the logic gets the hall state a server would publish, and taps go through the
same App methods the buttons call. For each screen it writes kiosk-<name>.png and checks what
an elderly citizen needs: every visible button at least 15 mm (at hall.screen_dpi), every text
at least 24 px, no character without a glyph (rare ones routed to a fallback face). Prints a
JSON report on stdout; exit status 1 if a check failed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from config.fonts import fallback_for, missing
from config.loader import load_hall
from kiosk.dispenser_logic import Dispenser
from kiosk.evaluator_logic import Evaluator
from kiosk.kivy_setup import prepare

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "config" / "examples" / "demo-hall"
MARKUP_RE = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")


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


def inspect(root: Any, min_button_px: int) -> dict[str, Any]:
    """Sizes and glyphs of what is visible under `root`."""
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    problems: list[str] = []
    buttons = 0
    smallest_button = 10_000.0
    smallest_font = 10_000.0
    texts: list[str] = []

    def visible(w: Any) -> bool:
        while w is not None:
            if getattr(w, "opacity", 1) == 0:
                return False
            w = w.parent if w.parent is not w else None
        return True

    rects: list[tuple[str, tuple[float, float, float, float]]] = []
    win_w, win_h = root.get_root_window().size if root.get_root_window() else (10_000, 10_000)
    for w in root.walk(restrict=True):
        if isinstance(w, Button) and visible(w) and w.width > 0 and w.height > 0 and not w.disabled:
            x, y = w.to_window(w.x, w.y)
            rects.append((MARKUP_RE.sub("", w.text)[:12], (x, y, x + w.width, y + w.height)))
            if x < -0.5 or y < -0.5 or x + w.width > win_w + 0.5 or y + w.height > win_h + 0.5:
                problems.append(f"button {w.text[:12]!r} goes off the screen")
        if not isinstance(w, Label) or not visible(w) or not w.text.strip():
            continue
        plain = MARKUP_RE.sub("", w.text).replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")
        texts.append(plain)
        smallest_font = min(smallest_font, float(w.font_size))
        for size in re.findall(r"\[size=(\d+)\]", w.text):
            smallest_font = min(smallest_font, float(size))
        if missing(plain):
            problems.append(f"no glyph for {sorted(missing(plain))} in {plain!r}")
        rare = [ch for ch in plain if ord(ch) > 0x2E7F and fallback_for(ch) is not None]
        if rare and "[font=" not in w.text:
            problems.append(f"{rare} shown without its fallback face in {plain!r}")
        if isinstance(w, Button) and not w.disabled:
            buttons += 1
            side = min(w.width, w.height)
            smallest_button = min(smallest_button, side)
            if side + 0.5 < min_button_px:
                problems.append(f"button {plain[:20]!r} is {w.width:.0f}x{w.height:.0f} px < {min_button_px} px")
    for i, (name_a, a) in enumerate(rects):
        for name_b, b in rects[i + 1:]:
            if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                problems.append(f"buttons {name_a!r} and {name_b!r} overlap")
    if smallest_font < 24:
        problems.append(f"text of {smallest_font:.0f} px < 24 px")
    return {"buttons": buttons, "smallest_button_px": round(smallest_button, 1) if buttons else None,
            "smallest_font_px": smallest_font, "texts": texts, "problems": problems}


def evaluator_steps(app: Any, clock: list[float]) -> list[tuple[str, Callable[[], None]]]:
    logic = app.logic
    w = logic.window
    wall = lambda: int(time.time() * 1000)  # noqa: E731
    staff = {"staff_no": "HC2101", "name": "王𬀩", "department": "区行政审批服务局", "stars": 5,
             "promise": "微笑服务，一次告知，限时办结"}

    def serving() -> None:
        logic.on_connection(True)
        logic.on_state(f"window/{w}", {"window": w, "state": "serving", "staff": staff, "pause_reason": None,
                                       "ticket": "A012"})

    def paused() -> None:
        logic.on_state(f"window/{w}", {"window": w, "state": "paused", "pause_reason": "lunch", "staff": {
            "staff_no": "HC2106", "name": "周𠇔", "department": "区不动产登记中心", "stars": 3,
            "promise": "换位思考，用心服务"}})

    def closed() -> None:
        logic.on_state(f"window/{w}", {"window": w, "state": "closed", "pause_reason": None, "staff": None})

    def offline() -> None:
        serving()
        logic.on_connection(False)

    def opening(job: str) -> Callable[[], None]:
        def go() -> None:
            serving()
            logic.on_state(f"rating/{w}", {"window": w, "job": job, "handle": 1, "staff_no": "HC2101",
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

    return [("identity", serving), ("identity-paused", paused), ("identity-closed", closed),
            ("identity-offline", offline), ("rate", opening("demo-job-1")), ("tags", tags), ("thanks", thanks),
            ("reasons", reasons), ("phone", phone), ("text", text), ("reasons-filled", reasons_filled),
            ("thanks-bad", thanks_bad)]


def dispenser_steps(app: Any) -> list[tuple[str, Callable[[], None]]]:
    logic = app.logic
    counts = {"A": (12, 2), "B": (5, 0), "C": (3, 1), "D": (0, 0), "E": (2, 0), "F": (7, 0), "G": (1, 0), "H": (9, 1)}

    def home() -> None:
        logic.on_connection(True)
        for code, (n, p) in counts.items():
            logic.on_state(f"queue/{code}", {"category": code, "waiting": n, "priority_waiting": p})

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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kiosk.shots", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--config", type=Path, default=DEMO)
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument("--only", choices=["evaluator", "tickets"], required=True,
                   help="one app per process (Kivy has one window per process)")
    p.add_argument("--size", default="1280x800")
    args = p.parse_args(argv)
    width, height = (int(x) for x in args.size.split("x"))

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
    report: dict[str, Any] = {"screens": {}, "sent": None, "min_button_px": None}
    queue = list(steps)

    def shoot(name: str) -> None:
        # drawn at least once since the step ran
        path = Window.screenshot(name=str(args.out / f"kiosk-{name}{suffix}-tmp.png"))
        final = args.out / f"kiosk-{name}{suffix}.png"
        Path(path).replace(final)
        info = inspect(app.root, app.min_button_px)
        info["screen"] = app.sm.current
        info["file"] = final.name
        report["screens"][name] = info
        Clock.schedule_once(lambda _dt: step(), 0)

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
        Clock.schedule_once(lambda _dt: shoot(name), 0.15)

    Clock.schedule_once(lambda _dt: step(), 0.3)
    app.run()
    print(json.dumps(report, ensure_ascii=False))
    return 1 if any(s["problems"] for s in report["screens"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
