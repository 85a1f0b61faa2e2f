"""A window's evaluator as its own process, for the chaos test: the kiosk's own logic
(`kiosk.evaluator_logic.Evaluator`, what the Kivy screens display and forward taps to) on the kiosk
node `kiosk-N` with its durable hallnet outbox and state mirror — without the Kivy window, taking
the citizen's taps as control lines instead of touches.

    python tests/e2e/kiosk_node.py --window N --bus HOST:PORT --keys DIR --data DIR --control PATH [--clock-* …]

`rate {"job", "level", "tags", "phone"?}`: if the evaluator shows that 办件's rating, tap the level,
the reason tags, type the phone number, tap submit; answers `ok stored` once the rating is in the
outbox (as the kiosk does before it shows 谢谢), else `error: …` (the citizen tries again).
`status` answers `ok {"pending": n, "screen": …}`. The traffic simulator sends the taps
(`--kiosk-control N=PATH`); the chaos test SIGKILLs and restarts this process mid-day.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from config.loader import load_hall  # noqa: E402
from devices.control_lines import ControlLines  # noqa: E402
from hallnet.client import HallClient  # noqa: E402
from hallnet.clock import Clock  # noqa: E402
from hallnet.keys import load_node_keys  # noqa: E402
from kiosk.evaluator_logic import Evaluator, Screen  # noqa: E402
from kiosk.net import rated_jobs_in  # noqa: E402


def tap_rating(ev: Evaluator, job: str, level: int, tags: list[str], phone: str) -> str:
    """The citizen's taps for one rating; the reply line."""
    ev.tick()
    if job in ev.sent_jobs:                     # stored before (the answer was lost)
        return "ok stored earlier"
    if ev.opening is None or ev.opening.job != job:
        return "error: the evaluator does not show this 办件"
    if not ev.tap_level(level):
        return f"error: level not taken on screen {ev.screen.value}"
    for code in tags:
        ev.toggle_tag(code)
    if phone:
        ev.open_phone()
        for digit in phone:
            ev.phone_key(digit)
        if not ev.phone_done():
            return "error: phone refused: " + ev.message
    if ev.screen in (Screen.REASONS, Screen.TAGS) and not ev.submit():
        return "error: submit refused: " + ev.message
    if not ev.sent or ev.sent[-1].get("job") != job:
        return "error: nothing sent"
    return "ok stored " + json.dumps(ev.sent[-1], ensure_ascii=False)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--window", type=int, required=True)
    p.add_argument("--bus", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--clock-start")
    p.add_argument("--clock-speed", type=float, default=1.0)
    p.add_argument("--clock-anchor", type=float)
    args = p.parse_args()
    node = f"kiosk-{args.window}"
    Path(args.data).mkdir(parents=True, exist_ok=True)
    hall_clock = Clock.parse(args.clock_start, args.clock_speed, args.clock_anchor)
    client = HallClient(node, args.bus, load_node_keys(Path(args.keys), node), Path(args.data) / f"{node}.db")
    lock = threading.Lock()                     # the UI thread's role: one at a time
    evaluator = Evaluator(load_hall(args.config), args.window, client.send, wall_ms=hall_clock)
    evaluator.mark_sent(rated_jobs_in(client.outbox))

    def on_change(key: str, value: object) -> None:
        with lock:
            evaluator.on_state(key, value)

    client.on_change = on_change
    client.start()

    def handle(line: str) -> str:
        command, _, rest = line.partition(" ")
        if command == "rate":
            r = json.loads(rest)
            with lock:
                return tap_rating(evaluator, r["job"], r["level"], r.get("tags", []), r.get("phone", ""))
        if command == "status":
            with lock:
                return "ok " + json.dumps({"pending": client.pending_count(), "screen": evaluator.screen.value})
        return "error: commands: rate {json} | status | quit"

    lines = ControlLines(handle, socket_path=args.control)
    lines.start()
    print(f"KIOSK {node} ready", flush=True)
    try:
        lines.wait_until_stopped()
    finally:
        client.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
