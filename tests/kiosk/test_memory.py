"""The evaluator's memory stays flat over many ratings (issue #12, "Kiosk memory").

- In the real app (SDL2 offscreen, child process: tests/kiosk/memory_driver.py), the Nth rating
  makes no new texture, widget, Clock event or sound: what one rating builds is reused by the next.
- `python -m kiosk` on a real bus, rated from the keypad like bench/kiosk.py: its resident memory
  does not grow with the ratings. Headless, the frames were never finished (an EGL pbuffer's swap
  does nothing), and the software renderer kept every frame's commands and textures: +5–8 MB per
  rating at first, +200 MB over 500 ratings (kiosk.kivy_setup.finish_offscreen_frame).
- The logic remembers only the last SENT_KEPT ratings it sent.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from kiosk.evaluator_logic import SENT_KEPT, Evaluator
from tests.kiosk.conftest import ROOT, kivy_env
from tests.kiosk.hall import DEMO, Hall, wait

ROUNDS = 20


def test_no_texture_widget_clock_event_or_sound_per_rating(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "kiosk" / "memory_driver.py"), str(ROUNDS)],
                       cwd=ROOT, env=kivy_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip(), r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "stuck" not in out, out
    samples = out["samples"]
    assert [s["round"] for s in samples] == list(range(1, ROUNDS + 1))
    fifth, last = samples[4], samples[-1]
    assert last["frames"] > fifth["frames"]                 # the ratings were drawn
    for what in ("widgets", "sounds"):
        assert max(s[what] for s in samples[4:]) == fifth[what], (what, [s[what] for s in samples])
    half = ROUNDS // 2
    for what in ("textures", "clock_events"):       # a label's texture or an apply may be in flight: ±2
        first, second = [s[what] for s in samples[:half]], [s[what] for s in samples[half:]]
        assert max(second) <= max(first) + 2, (what, first, second)
    assert last["sounds"] <= 1                              # the prompt is loaded once, not per rating
    assert out["idle_frames"] == 0                          # nothing is redrawn while nothing changes


def test_resident_memory_flat_over_ratings_on_a_real_bus(tmp_path: Path) -> None:
    hall = Hall(tmp_path).start_bus()
    proc = None
    try:
        hall.keys("kiosk-3")
        events: list[dict] = []
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(DEMO), "--window", "3",
                                 "--bus", hall.address, "--keys", str(tmp_path / "keys" / "issued"),
                                 "--data", str(tmp_path / "data"), "--headless", "--trace", "--no-sound"],
                                cwd=ROOT, env={**kivy_env(tmp_path), "PYTHONPATH": str(ROOT)},
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        def read() -> None:
            for line in proc.stdout:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass

        threading.Thread(target=read, daemon=True).start()

        def drawn(screen: str, job: str | None = None) -> list[dict]:
            return [e for e in list(events) if e["event"] == "drawn" and e["screen"] == screen
                    and (job is None or e.get("job") == job)]

        assert wait(lambda: drawn("identity") and any(e["event"] == "connection" and e["up"] for e in list(events)), 60)
        term, disp, keypad = hall.client("terminal-3"), hall.client("dispenser-9"), hall.client("gateway-9")
        assert wait(lambda: term.connected and disp.connected and keypad.connected)
        assert term.call("window.sign_in", {"staff_no": "HC2103", "pin": "1234"})["ok"]
        rss_mb: list[float] = []
        for _ in range(ROUNDS):
            disp.call("queue.take", {"category": "A"})
            term.call("queue.call_next", {})
            term.call("job.start", {})
            job = term.call("job.finish", {"service_code": "SB-0101"})["result"]["job"]
            assert wait(lambda: drawn("rate", job), 15)
            wait(lambda: any(e["event"] == "qr" and e.get("job") == job for e in list(events)), 5)
            rss_mb.append(_rss_mb(proc.pid))
            before = len(drawn("identity"))
            keypad.call("rating.submit", {"window": 3, "level": 5})     # the keypad closes the kiosk's rating
            assert wait(lambda: len(drawn("identity")) > before, 15)
            time.sleep(0.1)
        early, late = rss_mb[4], statistics.median(rss_mb[-5:])
        assert late - early < 12, rss_mb           # before the fix: +40-60 MB over these 15 ratings
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        hall.close()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def test_the_logic_remembers_only_its_last_ratings(demo, clock, outbox) -> None:
    ev = Evaluator(demo, 3, outbox, clock=clock, wall_ms=clock.wall_ms)
    ev.mark_sent({"old-1", "old-2"})
    for n in range(SENT_KEPT + 10):
        ev.on_rating({"job": f"job-{n}", "staff_no": "HC2103", "expires_ms": clock.wall_ms() + 60_000})
        assert ev.tap_level(4) or ev.view().screen.value == "tags"
        ev.submit()
        clock.advance(10)
        ev.tick()
    rated = [body["job"] for type_, body in outbox.sent if type_ == "rating.submit"]
    assert len(rated) == SENT_KEPT + 10 and len(set(rated)) == len(rated)
    assert len(ev.sent_jobs) == SENT_KEPT and len(ev.sent) == SENT_KEPT
    assert f"job-{SENT_KEPT + 9}" in ev.sent_jobs and "old-1" not in ev.sent_jobs
    assert ev.sent[-1]["job"] == f"job-{SENT_KEPT + 9}"
    # the latest is still not shown or sent twice when the hall publishes it again
    ev.on_rating({"job": f"job-{SENT_KEPT + 9}", "staff_no": "HC2103", "expires_ms": clock.wall_ms() + 60_000})
    assert ev.view().screen.value == "identity"


PINYIN_PROBE = """
import gc, json, sys
from pathlib import Path
def rss_mb():
    return int(next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS:")).split()[1]) / 1024
from kiosk import pinyin
before = rss_mb()
chars, phrases = pinyin.index()
gc.collect()
print(json.dumps({"grown_mb": rss_mb() - before, "fuwu": pinyin.candidates("fuwu")[:2], "syllables": len(chars),
                  "pypinyin_imported": any(m.split(".")[0] == "pypinyin" for m in sys.modules)}))
"""


def test_the_pinyin_index_leaves_the_kiosk_heap_small(tmp_path: Path) -> None:
    """The comment screen's index: about 14 MB in the kiosk, not the 60-70 MB its build takes."""
    r = subprocess.run([sys.executable, "-c", PINYIN_PROBE], cwd=ROOT, env={**kivy_env(tmp_path), "PYTHONPATH": str(ROOT)},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["fuwu"] == ["服务", "服"] and out["syllables"] > 400
    assert not out["pypinyin_imported"]
    assert out["grown_mb"] < 30, out          # built in this process: +60 MB
