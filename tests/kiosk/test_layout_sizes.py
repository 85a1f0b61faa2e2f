"""Every kiosk screen at every supported size (800x480, 1024x600, 1280x800, 1920x1080 landscape, and
1080x1920 portrait for the dispenser), laid out in a real offscreen Kivy window and checked by
kiosk.layout_check: nothing overlaps, leaves the screen or overflows its box, every usable button is
at least 15 mm at the hall's screen_dpi, every text at least 24 px, rare-character names in their SC
face; larger screens get larger type and buttons. One Kivy process per app (it resizes its window)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import theme
from tests.kiosk.conftest import ROOT, kivy_env
from tests.kiosk.test_app_headless import DISPENSER_SCREENS, EVALUATOR_SCREENS

LANDSCAPE = ["800x480", "1024x600", "1280x800", "1920x1080"]
PORTRAIT = ["1080x1920"]


def shots_at_every_size(tmp_path: Path, only: str, *more: str, sizes: str = "all") -> dict:
    out = tmp_path / "shots"
    r = subprocess.run([sys.executable, "-m", "kiosk.shots", "--out", str(out), "--only", only, "--sizes", sizes, *more],
                       cwd=ROOT, env=kivy_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert r.stdout.strip(), r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    report["rc"], report["dir"] = r.returncode, out
    return report


def _common(r: dict, screens: set[str], sizes: list[str]) -> dict:
    assert set(r["screens"]) == {f"{s}-{size}" for s in screens for size in sizes}
    problems = {k: v["problems"] for k, v in r["screens"].items() if v["problems"]}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    assert r["rc"] == 0
    s = r["screens"]
    for key, v in s.items():
        assert v["smallest_font_px"] >= theme.MIN_BODY_PX, key
        assert v["smallest_button_px"] is None or v["smallest_button_px"] >= r["min_button_px"] >= 94, key
        png = r["dir"] / v["file"]
        assert png.stat().st_size > 5_000 and png.read_bytes()[16:24] == int(v["size"][0]).to_bytes(4, "big") + \
            int(v["size"][1]).to_bytes(4, "big"), key           # the PNG's IHDR: the size it claims
    return s


def test_every_evaluator_screen_fits_every_landscape_size(tmp_path: Path) -> None:
    s = _common(shots_at_every_size(tmp_path, "evaluator"), EVALUATOR_SCREENS, LANDSCAPE)
    for size in LANDSCAPE:
        assert s[f"rate-{size}"]["buttons"] == 5                       # the five levels, none wrapped or hidden
        assert any("王𬀩" in text for text in s[f"identity-{size}"]["texts"])         # R13, in its SC face
        assert any("周𠇔" in text for text in s[f"identity-paused-{size}"]["texts"])
        assert s[f"phone-{size}"]["buttons"] == 14                     # 0-9, clear, delete, back, OK
    # larger screens use their space: type and buttons grow with the window
    small, large = s["rate-800x480"], s["rate-1920x1080"]
    assert large["smallest_button_px"] >= 2 * small["smallest_button_px"]
    assert large["smallest_font_px"] >= 2 * small["smallest_font_px"]
    assert s["rate-1920x1080"]["scale"] == 2.25 and s["rate-800x480"]["scale"] == 1.0
    # the pinyin keyboard where its 15 mm keys fit, else the QR code only
    for size in ("1280x800", "1920x1080"):
        assert s[f"text-{size}"]["buttons"] >= 30, size
    for size in ("800x480", "1024x600"):
        assert s[f"text-{size}"]["buttons"] == 1, size                # back; the QR code is the way to write


def test_every_dispenser_screen_fits_every_size_and_the_portrait_kiosk(tmp_path: Path) -> None:
    s = _common(shots_at_every_size(tmp_path, "tickets"), DISPENSER_SCREENS, LANDSCAPE + PORTRAIT)
    for size in LANDSCAPE + PORTRAIT:
        assert any("A013" in text for text in s[f"tickets-ticket-{size}"]["texts"])   # the number, on screen
        assert s[f"tickets-{size}"]["buttons"] == 9
        assert s[f"tickets-priority-{size}"]["buttons"] == 3 + 8 + 2
    assert s["tickets-ticket-1080x1920"]["smallest_font_px"] >= 2 * theme.MIN_BODY_PX


@pytest.mark.parametrize("only", ["evaluator", "tickets"])
def test_english_fits_the_smallest_screen(tmp_path: Path, only: str) -> None:
    r = shots_at_every_size(tmp_path, only, "--lang", "en", "--save", "none", sizes="800x480")
    assert r["screens"] and not {k: v["problems"] for k, v in r["screens"].items() if v["problems"]}
    assert r["rc"] == 0


def test_the_checker_fails_on_each_kind_of_fault(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "kiosk" / "layout_driver.py")], cwd=ROOT,
                       env=kivy_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    found = json.loads(r.stdout.strip().splitlines()[-1])
    assert found["sound"] == []
    assert found["overlapping"] == ["Button '一' and Button '二' overlap by 110x110 px"]
    assert any("leaves the 800x480 screen" in p for p in found["off_screen"])
    assert any("< 95 px (15 mm)" in p for p in found["small"]) and any("14 px < 24 px" in p for p in found["small"])
    assert any("text does not fit" in p for p in found["overflowing"])
    assert any("text cut off" in p for p in found["overflowing"])
    assert found["wrapped"] == ["Button '非常不满意': its text breaks over 2 lines instead of 1"]
    assert any("sticks out of its BoxLayout" in p for p in found["sticking_out"])


def test_a_screen_too_dense_for_the_configured_dpi_fails(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    r = subprocess.run([sys.executable, "-m", "kiosk.shots", "--out", str(out), "--only", "tickets",
                        "--sizes", "800x480", "--dpi", "300", "--save", "none"],
                       cwd=ROOT, env=kivy_env(tmp_path), capture_output=True, text=True, timeout=60)
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert r.returncode == 1 and report["min_button_px"] == theme.button_px(300) == 178
    assert any("sticks out" in p or "overlap" in p or "leaves" in p
               for v in report["screens"].values() for p in v["problems"])
    assert not list(out.glob("*.png"))


@pytest.mark.parametrize("w, h, scale", [(800, 480, 1.0), (1024, 600, 1.25), (1280, 800, 1.6), (1920, 1080, 2.25),
                                         (1080, 1920, 2.25), (640, 400, 1.0)])
def test_scale_follows_the_short_and_long_sides(w: int, h: int, scale: float) -> None:
    assert theme.scale_for(w, h) == pytest.approx(scale)


def test_the_keyboard_fits_only_where_its_keys_keep_15_mm() -> None:
    key_px = theme.button_px(160)
    assert not theme.keyboard_fits(800, 480, key_px, theme.scale_for(800, 480))
    assert not theme.keyboard_fits(1024, 600, key_px, theme.scale_for(1024, 600))
    assert theme.keyboard_fits(1280, 800, key_px, theme.scale_for(1280, 800))
    assert theme.keyboard_fits(1920, 1080, key_px, theme.scale_for(1920, 1080))
    assert theme.keyboard_fits(1024, 600, theme.button_px(96), theme.scale_for(1024, 600))   # a 96 dpi panel
