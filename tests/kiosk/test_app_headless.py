"""Every screen built and exercised headlessly (SDL2 offscreen), in child processes: Kivy has one
window per process. Sizes, fonts and glyphs are checked on every screen (kiosk.shots.inspect)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.kiosk.conftest import ROOT, kivy_env
from tests.kiosk.hall import Hall, wait

EVALUATOR_SCREENS = {"identity", "identity-paused", "identity-closed", "identity-offline", "rate", "rate-offline",
                     "tags", "thanks", "reasons", "phone", "text", "reasons-filled", "reasons-offline", "thanks-bad"}
DISPENSER_SCREENS = {"tickets", "tickets-wait", "tickets-ticket", "tickets-priority", "tickets-offline"}


def shots(tmp_path: Path, only: str, lang: str = "zh") -> dict:
    out = tmp_path / "shots"
    r = subprocess.run([sys.executable, "-m", "kiosk.shots", "--out", str(out), "--only", only, "--lang", lang],
                       cwd=ROOT, env=kivy_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.stdout.strip(), r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    report["rc"] = r.returncode
    report["dir"] = out
    return report


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_evaluator_screen(tmp_path: Path, lang: str) -> None:
    r = shots(tmp_path, "evaluator", lang)
    assert set(r["screens"]) == EVALUATOR_SCREENS
    problems = {k: v["problems"] for k, v in r["screens"].items() if v["problems"]}
    assert not problems and r["rc"] == 0
    s = r["screens"]
    assert s["rate"]["buttons"] == 5 and s["rate"]["smallest_button_px"] >= r["min_button_px"] >= 94
    assert all(v["smallest_font_px"] >= 24 for v in s.values())
    if lang == "zh":
        assert any("王𬀩" in text for text in s["identity"]["texts"])          # R13: Ext C / Ext B names
        assert any("周𠇔" in text for text in s["identity-paused"]["texts"])
        assert any("暂停服务（午休）" in text for text in s["identity-paused"]["texts"])
        assert any("未连接大厅服务器" in text for text in s["identity-offline"]["texts"])
    # what the screens sent: one rating per 办件, the second with reasons, phone and text; and for each
    # 办件 shown, one request for its QR link (public state carries none)
    rated = [b for type_, b in r["sent"] if type_ == "rating.submit"]
    assert [b["job"] for b in rated] == ["demo-job-1", "demo-job-2"]
    assert rated[1]["tags"] == ["N02", "N08"] and rated[1]["phone"] == "13912345678"
    assert [b["job"] for type_, b in r["sent"] if type_ == "rating.link"] == ["demo-job-1", "demo-job-2"]
    assert all((r["dir"] / v["file"]).stat().st_size > 10_000 for v in s.values())


def test_every_dispenser_screen(tmp_path: Path) -> None:
    r = shots(tmp_path, "tickets")
    assert set(r["screens"]) == DISPENSER_SCREENS
    assert not {k: v["problems"] for k, v in r["screens"].items() if v["problems"]} and r["rc"] == 0
    assert r["sent"] == [["queue.take", {"category": "A"}]]          # the second tap was ignored
    assert r["screens"]["tickets"]["buttons"] == 9
    assert r["screens"]["tickets-offline"]["buttons"] == 1            # only the staff button stays usable
    assert any("A013" in text for text in r["screens"]["tickets-ticket"]["texts"])


@pytest.mark.parametrize("level", [4])
def test_the_app_on_a_real_bus(tmp_path: Path, level: int) -> None:
    hall = Hall(tmp_path).start_bus()
    try:
        keys = hall.keys("kiosk-3")
        proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "kiosk" / "app_driver.py"), hall.address,
                                 str(keys), str(tmp_path / "kiosk-3.db"), "3", str(level)],
                                cwd=ROOT, env=kivy_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        try:
            assert wait(lambda: any('"identity"' in line for line in lines), 30), proc.stderr.read()[-3000:] if proc.poll() is not None else lines
            done = hall.finish_job()
            assert proc.wait(40) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(5)
        out = json.loads(lines[-1])
        assert out.get("delivered") and not out.get("timeout"), out
        assert out["tapped"] == [True, False, False] and out["submitted"] == [True, False]
        assert out["rate_buttons"] == 5 and "rate" in out["seen"] and out["screen_after"] == "thanks"
        assert out["qr_shown"].startswith("http://hall.test/r/")          # the rating.link reply, on screen
        rows = hall.ratings_of(done["job"])
        assert len(rows) == 1 and rows[0]["level"] == level and rows[0]["channel"] == 4
    finally:
        hall.close()
