"""Chromium plays an announcement WAV from a page of the hall's site (the page's Content-Security-Policy
allows sound from the same origin), and reports the duration the wave module computes."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from hall_server.web.app import make_app
from tests.web.conftest import Hall
from tests.web.live_server import LiveServer

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required", "--mute-audio"]

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh)", allow_module_level=True)

PLAY = """async (url) => {
  const audio = new Audio(url);
  const loaded = new Promise((ok, fail) => { audio.onloadedmetadata = ok; audio.onerror = () => fail(String(audio.error && audio.error.code)); });
  await loaded;
  await audio.play();
  await new Promise(r => setTimeout(r, 400));
  const out = {duration: audio.duration, playing: !audio.paused, at: audio.currentTime};
  audio.pause();
  return out;
}"""


def test_chromium_plays_the_announcement_from_a_hall_page(hall_env: Hall) -> None:
    hall_env.sync()
    hall_env.drv.sign_in(2, "1001")
    hall_env.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall_env.drv.ok("queue.call_next", {}, "terminal-2")
    event = hall_env.backend.snapshot("calls")[1]["calls"]["recent"][0]["id"]
    with LiveServer(make_app(hall_env.backend)) as server, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            violations: list[str] = []
            page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
            assert page.goto(f"{server.url}/login").status == 200
            url = f"{server.url}/screen/announce/{event}.wav"
            got = page.evaluate(PLAY, url)
            wav = page.request.get(url).body()
        finally:
            browser.close()
    with wave.open(io.BytesIO(wav), "rb") as w:
        seconds = w.getnframes() / w.getframerate()
    assert violations == []
    assert got["duration"] == pytest.approx(seconds, abs=0.01)
    assert got["playing"] and got["at"] > 0.1, got
