"""Runs the real EvaluatorApp headlessly (SDL2 offscreen, 1280x800) without a hall server and gives
it ROUNDS ratings the way the hall does: the window calls a new ticket, the rating opens, the QR link
arrives; the citizen rates on the screen (level 5 and "done"), or on the keypad (the rating closes).
After each round, back on the identity screen, it samples what could pile up per rating: live
textures, widgets, Clock events, sounds, the logic's memory of sent ratings, frames drawn and the C
heap in use (glibc's mallinfo2: the renderer's memory is native). Prints one JSON line.

    python tests/kiosk/memory_driver.py ROUNDS

Used by test_memory.py (Kivy wants its own process).
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

STAFF = {"staff_no": "HC2103", "name": "张丽娟", "department": "区人力资源和社会保障局", "stars": 4,
         "promise": "马上就办，办就办好"}


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                       "fsmblks", "uordblks", "fordblks", "keepcost")]


def c_heap_mb() -> float:
    """Bytes malloc has handed out and not got back (arenas and mmapped chunks), in MB; NaN without glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return float("nan")
    return (info.uordblks + info.hblkhd) / 2**20


def main() -> int:
    rounds = int(sys.argv[1])
    from kiosk.kivy_setup import prepare

    prepare(width=1280, height=800, fullscreen=False, headless=True, kivy_home=Path(tempfile.mkdtemp()))
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    from config.loader import load_hall
    from kiosk import app as kapp
    from kiosk.evaluator_logic import Evaluator
    from kiosk.shots import Recorder

    config = load_hall(ROOT / "config" / "examples" / "demo-hall")
    recorder = Recorder()
    logic = Evaluator(config, 3, recorder, qr_base="http://hall.test", thanks_s=0.2)
    app = kapp.EvaluatorApp(config, logic, prompt_audio=ROOT / "kiosk" / "assets" / "prompt.wav")
    frames = [0]
    Window.bind(on_flip=lambda *_a: frames.__setitem__(0, frames[0] + 1))
    samples: list[dict[str, Any]] = []
    out: dict[str, Any] = {"samples": samples}
    state = {"round": 0, "step": 0, "t": time.monotonic()}

    def sample() -> None:
        gc.collect()
        objects = gc.get_objects()
        samples.append({
            "round": state["round"], "frames": frames[0], "c_heap_mb": round(c_heap_mb(), 2),
            "textures": sum(1 for o in objects if isinstance(o, Texture)),
            "widgets": sum(1 for o in objects if isinstance(o, Widget)),
            "clock_events": len(Clock.get_events()),
            "sounds": sum(1 for o in objects if type(o).__name__.startswith("Sound")),
            "sent_kept": len(logic.sent), "jobs_kept": len(logic.sent_jobs),
        })

    def step(_dt: float) -> None:
        n, s = state["round"], state["step"]
        if time.monotonic() - state["t"] > 15:
            out["stuck"] = {"round": n, "step": s, "screen": logic.screen.value}
            app.stop()
            return
        if s == 0:                      # the window calls the next ticket, then finishes a 办件
            if n >= rounds:
                out["idle_frames"] = frames[0]
                state["step"] = 9
                Clock.schedule_once(lambda _d: finish_idle(), 2.0)
                return
            app.hall_change("window/3", {"window": 3, "state": "serving", "staff": STAFF, "pause_reason": None,
                                         "ticket": f"A{n + 1:03d}"})
            app.hall_change("rating/3", {"job": f"job-{n + 1}", "staff_no": "HC2103", "staff_name": "张丽娟",
                                         "department": "区人力资源和社会保障局", "stars": 4,
                                         "expires_ms": int(time.time() * 1000) + 60_000})
            state.update(step=1, t=time.monotonic())
        elif s == 1 and logic.screen.value == "rate" and logic.links.asked():
            for msg_id, job in logic.links.asked().items():
                app.hall_reply(msg_id, {"ok": True, "result": {"job": job, "qr_path": f"/r/{job}-{'x' * 40}"}})
            state["step"] = 2
        elif s == 2 and logic.opening is not None and logic.opening.qr_url:
            if n % 2 == 0:              # on the screen: level 5, then "done" on the tags
                app.tap_level(5)
                app.submit()
            else:                       # on the keypad: the server closes the rating
                app.hall_change("rating/3", None)
            state["step"] = 3
        elif s == 3 and logic.screen.value == "identity":
            state.update(round=n + 1, step=0)
            sample()

    def finish_idle() -> None:
        out["idle_frames"] = frames[0] - out["idle_frames"]      # drawn in 2 s with nothing to show
        app.stop()

    Clock.schedule_once(lambda _dt: app.hall_connection(True), 0)
    Clock.schedule_interval(step, 0.05)
    app.run()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
