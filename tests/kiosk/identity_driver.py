"""Runs the real EvaluatorApp headlessly on a real hall server (bus and HTTP), as `python -m kiosk`
would with `--http`, with the kiosk's own copy of the demo hall folder; waits until the identity
screen shows the clerk named NAME with the photo downloaded from the server (not the placeholder),
checks the layout (kiosk.shots.inspect), saves a screenshot to OUT and stops.
Prints one JSON line with what it saw. Used by test_new_clerk_e2e.py (Kivy wants its own process).

    python tests/kiosk/identity_driver.py BUS HTTP KEYS_DIR DATA_DIR WINDOW NAME OUT
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SETTLE_S = 0.3          # after the photo shows: layout passes and the texture is drawn
TIMEOUT_S = 40.0


def main() -> int:
    bus, http, keys_dir, data, window, name, out_png = sys.argv[1:8]
    data_dir, window_n, out = Path(data), int(window), Path(out_png)
    from kiosk.kivy_setup import prepare

    prepare(width=1280, height=800, fullscreen=False, headless=True, kivy_home=Path(tempfile.mkdtemp()))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from config.loader import load_hall
    from hallnet.client import HallClient
    from hallnet.keys import load_node_keys
    from kiosk.app import EvaluatorApp
    from kiosk.evaluator_logic import Evaluator
    from kiosk.layout_check import plain_text
    from kiosk.screens import PHOTO_PLACEHOLDER
    from kiosk.shots import inspect
    from kiosk.staff_photos import PhotoCache

    config = load_hall(ROOT / "config" / "examples" / "demo-hall")
    node = f"kiosk-{window_n}"
    data_dir.mkdir(parents=True, exist_ok=True)
    client = HallClient(node, bus, load_node_keys(Path(keys_dir), node), data_dir / f"{node}-outbox.db",
                        heartbeat_s=0.2, silence_s=1.0)
    photos = PhotoCache(http, data_dir / "staff-photos")
    logic = Evaluator(config, window_n, client.send, qr_base=http, photos=photos)
    app = EvaluatorApp(config, logic, client=client)
    photos.on_ready = app.photo_ready
    client.on_change, client.on_connection, client.on_reply = app.hall_change, app.hall_connection, app.hall_reply
    out_info: dict = {"shot": False, "problems": [], "first_photo_placeholder": None}
    started = time.monotonic()
    state = {"seen_at": None}

    def watch(_dt: float) -> None:
        screen = app.sm.get_screen("identity")
        if name in plain_text(screen.staff_name) and out_info["first_photo_placeholder"] is None:
            out_info["first_photo_placeholder"] = screen.photo == str(PHOTO_PLACEHOLDER)
        photo_ready = screen.photo and screen.photo != str(PHOTO_PLACEHOLDER)
        if app.sm.current == "identity" and name in plain_text(screen.staff_name) and photo_ready:
            if state["seen_at"] is None:
                state["seen_at"] = time.monotonic()
            elif time.monotonic() - state["seen_at"] >= SETTLE_S:
                info = inspect(app.root, app.min_button_px)
                out_info.update(name=plain_text(screen.staff_name), photo=screen.photo, problems=info["problems"],
                                texts=info["texts"], served=(logic.window_state or {}).get("staff", {}).get("photo"))
                path = Window.screenshot(name=str(out.with_name(out.stem + "-tmp.png")))
                Path(path).replace(out)
                out_info["shot"] = True
                app.stop()
                return
        if time.monotonic() - started > TIMEOUT_S:
            out_info["timeout"] = True
            out_info["name"], out_info["photo"] = plain_text(screen.staff_name), screen.photo
            app.stop()

    Clock.schedule_interval(watch, 0.05)
    client.start()
    app.run()
    client.stop()
    photos.stop()
    print(json.dumps(out_info, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
