"""Runs the real EvaluatorApp headlessly on a real bus, as `python -m kiosk` would, and plays the
citizen: waits for the rating screen and its QR code (the `rating.link` reply), taps a level and
"done", waits until the outbox is empty.
Prints one JSON line with what it saw. Used by test_app_headless.py (Kivy wants its own process).

    python tests/kiosk/app_driver.py BUS KEYS_DIR OUTBOX WINDOW LEVEL
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    bus, keys_dir, outbox, window, level = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    from kiosk.kivy_setup import prepare

    prepare(width=1280, height=800, fullscreen=False, headless=True, kivy_home=Path(tempfile.mkdtemp()))
    from kivy.clock import Clock

    from config.loader import load_hall
    from hallnet.client import HallClient
    from hallnet.keys import load_node_keys
    from kiosk.app import EvaluatorApp
    from kiosk.evaluator_logic import Evaluator

    config = load_hall(ROOT / "config" / "examples" / "demo-hall")
    node = f"kiosk-{window}"
    client = HallClient(node, bus, load_node_keys(keys_dir, node), outbox, heartbeat_s=0.2, silence_s=1.0)
    logic = Evaluator(config, window, client.send, qr_base="http://hall.test")
    app = EvaluatorApp(config, logic, client=client)
    client.on_change, client.on_connection, client.on_reply = app.hall_change, app.hall_connection, app.hall_reply
    seen: list[str] = []
    out: dict = {"seen": seen}
    started = time.monotonic()

    def watch(_dt: float) -> None:
        cur = app.sm.current
        if not seen or seen[-1] != cur:
            seen.append(cur)
            print(json.dumps({"screen": cur}), flush=True)
        if cur == "rate" and "rate_s" not in out:
            out["rate_s"] = time.monotonic()
        if cur == "rate" and "tapped" not in out and (app.sm.get_screen("rate").qr_url or
                                                      time.monotonic() - out["rate_s"] > 5):
            out["qr_shown"] = app.sm.get_screen("rate").qr_url     # the rating.link reply, drawn
            out["tapped"] = [app.tap_level(level), app.tap_level(level), app.tap_level(1)]
            out["rate_buttons"] = len([w for w in app.sm.get_screen("rate").walk() if type(w).__name__ == "LevelButton"])
            out["submitted"] = [app.submit(), app.submit()] if level >= 3 else []
            out["screen_after"] = app.sm.current
        if "tapped" in out and client.pending_count() == 0 and logic.screen.value in ("thanks", "identity"):
            out["delivered"] = True
            app.stop()
        if time.monotonic() - started > 25:
            out["timeout"] = True
            app.stop()

    Clock.schedule_interval(watch, 0.05)
    client.start()
    app.run()
    client.stop()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
