"""The hall screen and a window screen in headless Chromium (Debian's, driven by Playwright) against
a real hall server process, with the terminals and the dispenser in another process on the real bus
(tests/web/node_actor.py): a call shows within a second and is announced once; a burst of ten calls
gives ten announcements in order, never overlapping; a server restart in the middle of a burst
loses none and repeats none, across a page reload too; a window screen follows sign-in, call, pause
and sign-out, with a rare-character name in its Simplified Chinese form. Screenshots go to
docs/screens/screen-*.png.

What the page played is read from `window.__announced` (static/screen.js: `{id, url, start_ms,
end_ms, ok}` per announcement, in the order played). While the voice route
(`GET /screen/announce/{id}.wav`, another change) is not in this tree, the browser is given a short
valid WAV at that path (`page.route`); once the route exists the real WAV is played.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import struct
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO_HALL, ROOT, ServerProcess, wait_until
from tests.web.test_browser import (  # noqa: F401  (the fixture no_csp_violations)
    ARGS, CHROMIUM, CSP_VIOLATIONS, Actor, no_csp_violations, watch,
)

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

SCREENS = ROOT / "docs" / "screens"
NODES = ("terminal-3", "terminal-4", "terminal-7", "dispenser-1")
TV = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
STORE = "hallscreen.announced"          # static/screen.js: the ids this TV announced (localStorage)


def voice_route_exists() -> bool:
    """Whether some module other than the screens' own serves `/screen/announce/…` (the voice route)."""
    mine = {"screens.py", "screen_events.py"}
    return any("/screen/announce/" in p.read_text("utf-8")
               for p in (ROOT / "hall_server").rglob("*.py") if p.name not in mine)


def stub_wav(seconds: float = 0.3, rate_hz: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(b"\x00\x00" * int(seconds * rate_hz))
    return buf.getvalue()


@pytest.fixture(scope="module")
def browser():
    """Chromium as the hall's TV runs it: sound may start without a touch (docs/screens.md)."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, "--autoplay-policy=no-user-gesture-required"],
                              headless=True)
        try:
            yield b
        finally:
            b.close()


SHIPPED_PACK = ROOT / "config" / "voicepacks" / "zh-mandarin"


def quick_pack(folder: Path, clip_s: float = 0.03) -> None:
    """A voice pack with every clip of the shipped one, each a 30 ms tone in the same format: the real
    route assembles and serves real WAVs, and a burst of ten plays in seconds, not minutes."""
    folder.mkdir(parents=True)
    for clip in SHIPPED_PACK.glob("*.wav"):
        with wave.open(str(clip), "rb") as src:
            rate, channels, width = src.getframerate(), src.getnchannels(), src.getsampwidth()
        frames = b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
                          for i in range(int(clip_s * rate)))
        with wave.open(str(folder / clip.name), "wb") as out:
            out.setnchannels(channels)
            out.setsampwidth(width)
            out.setframerate(rate)
            out.writeframes(frames)
    for extra in ("words.toml",):
        if (SHIPPED_PACK / extra).exists():
            shutil.copy(SHIPPED_PACK / extra, folder / extra)


def quick_hall(root: Path) -> Path:
    """The demo hall's folder with the quick voice pack, said once."""
    config = root / "hall-config"
    shutil.copytree(DEMO_HALL, config)
    quick_pack(config / "quick-voice")
    with open(config / "hall.toml", "a", encoding="utf-8") as f:
        f.write('\n[calling]\nvoice_pack = "quick-voice"\nannounce_repeat = 1\n')
    return config


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("screens-e2e")
    srv = ServerProcess(data=root / "server", config=quick_hall(root))
    srv.data.mkdir()
    for n in NODES:
        srv.new_key(n)
    srv.start()
    actor = Actor(srv, root / "outboxes")
    actor.ok("terminal-3", "window.sign_in", {"staff_no": "HC2103", "pin": "1234"})
    actor.ok("terminal-4", "window.sign_in", {"staff_no": "HC2104", "pin": "1234"})
    try:
        yield srv, actor
    finally:
        actor.close()
        srv.stop()
        srv.kill()


def calls(srv: ServerProcess) -> list[dict[str, Any]]:
    """The public `calls` key, newest first."""
    state = httpx.get(f"{srv.http}/api/state", params={"prefix": "calls"}).json()["state"]
    return state["calls"]["recent"] if "calls" in state else []


def hall_page(browser: Any, srv: ServerProcess, width: int, height: int, seen: list[dict[str, Any]]) -> Any:
    """The hall screen in a new TV context that has already announced the calls `seen`."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, **TV)
    seed = json.dumps({str(c["id"]): c["at_ms"] for c in seen})
    ctx.add_init_script(f"if(localStorage.getItem('{STORE}')===null){{localStorage.setItem('{STORE}', '{seed}');}}")
    if not voice_route_exists():
        wav = stub_wav()
        ctx.route("**/screen/announce/*.wav", lambda route: route.fulfill(status=200, body=wav,
                                                                          headers={"Content-Type": "audio/wav"}))
    page = watch(ctx.new_page())
    page.goto(f"{srv.http}/screen/hall")
    assert wait_until(lambda: page.evaluate("window.__screen && window.__screen.events") >= 1, 5)
    return page


def announced(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.__announced.slice()")


def settle(page: Any, count: int, timeout_s: float) -> list[dict[str, Any]]:
    """Wait until `count` announcements have finished playing; returns the log."""
    assert wait_until(lambda: sum(1 for a in announced(page) if a["end_ms"] is not None) >= count
                      and not page.evaluate("window.__announced.some(function(a){return a.end_ms===null;})"),
                      timeout_s, 0.05), announced(page)
    return announced(page)


def assert_in_order_without_overlap(log: list[dict[str, Any]]) -> None:
    assert [a["id"] for a in log] == sorted(a["id"] for a in log)
    assert len({a["id"] for a in log}) == len(log), "an id was announced twice"
    for before, after in zip(log, log[1:]):
        assert after["start_ms"] >= before["end_ms"], (before, after)
    assert all(a["ok"] for a in log), log
    assert all(a["url"] == f"/screen/announce/{a['id']}.wav" for a in log)


def call_at(actor: Actor, terminal: str, times: int) -> list[str]:
    """`times` calls at the terminal's window (each ticket then marked a no-show): the numbers called."""
    out = []
    for _ in range(times):
        out.append(actor.ok(terminal, "queue.call_next")["ticket"])
        actor.ok(terminal, "queue.no_show")
    return out


def announce_seconds(n: int) -> float:
    return 10.0 + n * 4.0          # (a quick pack's announcement lasts about two seconds)


def shot(page: Any, name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"screen-{name}.png"
    page.screenshot(path=str(path))
    return path


def test_a_call_shows_within_a_second_and_is_announced_once(hall, browser) -> None:
    srv, actor = hall
    for _ in range(12):
        actor.ok("dispenser-1", "queue.take", {"category": "A"})
    call_at(actor, "terminal-4", 11)                          # A001…A011 at window 4, before the screen
    page = hall_page(browser, srv, 1920, 1080, calls(srv))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if "/screen/announce/" in r.url else None)
    sent_ms = time.time() * 1000
    called = actor.ok("terminal-3", "queue.call_next")
    acked_ms = time.time() * 1000 - sent_ms
    assert called["ticket"] == "A012"
    new_id = calls(srv)[0]["id"]
    page.wait_for_selector('#newest.fresh .newest-ticket:text-is("A012")', timeout=2000)
    heard_ms = page.evaluate(f"window.__screen.heard[{new_id}]") - sent_ms    # the page's own clock: same machine
    print(f"hall screen got A012 {heard_ms:.0f} ms after the call was sent ({acked_ms:.0f} ms to its ack)")
    assert heard_ms < 1000
    assert "请到 3 号窗口" in page.text_content("#newest")
    assert page.text_content('.windows [data-window="3"] .wt') == "A012"
    log = settle(page, 1, announce_seconds(1))
    assert [a["id"] for a in log] == [new_id]
    assert {u.removeprefix(srv.http) for u in requested} == {f"/screen/announce/{new_id}.wav"}
    assert "请携带本人身份证件" in page.text_content("#notice")     # hall.toml [screen] notice
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    shot(page, "hall-1920")
    small = hall_page(browser, srv, 1366, 768, calls(srv))
    small.wait_for_selector('.newest-ticket:text-is("A012")')
    assert small.evaluate("document.documentElement.scrollWidth") <= 1366
    shot(small, "hall-1366")
    small.context.close()
    page.context.close()


def test_ten_calls_in_a_second_are_ten_announcements_in_order(hall, browser) -> None:
    srv, actor = hall
    actor.ok("terminal-3", "queue.no_show")                    # A012 (the test above) leaves window 3
    for _ in range(10):
        actor.ok("dispenser-1", "queue.take", {"category": "A"})
    page = hall_page(browser, srv, 1366, 768, calls(srv))
    t0 = time.monotonic()
    tickets = call_at(actor, "terminal-3", 10)
    burst_s = time.monotonic() - t0
    print(f"10 calls in {burst_s:.2f} s")
    ids = sorted(c["id"] for c in calls(srv))
    assert [c["ticket"] for c in sorted(calls(srv), key=lambda c: c["id"])] == tickets
    log = settle(page, 10, announce_seconds(10))
    assert [a["id"] for a in log] == ids
    assert_in_order_without_overlap(log)
    page.context.close()


def test_a_server_restart_mid_burst_loses_none_and_repeats_none(hall, browser) -> None:
    srv, actor = hall
    for _ in range(10):
        actor.ok("dispenser-1", "queue.take", {"category": "A"})
    page = hall_page(browser, srv, 1366, 768, calls(srv))
    first = call_at(actor, "terminal-3", 5)
    assert wait_until(lambda: len(announced(page)) >= 1, 5)
    srv.stop()
    page.wait_for_selector("#screen-state:text-is('连接中断，正在重连…')", timeout=5000)
    srv.start()
    second = call_at(actor, "terminal-3", 3)
    before_reload = announced(page)
    page.reload()                                             # a reload in the middle: nothing twice
    second += call_at(actor, "terminal-3", 2)
    burst = sorted(calls(srv), key=lambda c: c["id"])
    assert [c["ticket"] for c in burst] == first + second
    ids = [c["id"] for c in burst]
    assert wait_until(lambda: all(str(i) in json.loads(page.evaluate(f"localStorage.getItem('{STORE}')"))
                                  for i in ids), announce_seconds(10), 0.1)
    after_reload = settle(page, 0, announce_seconds(1))
    print(f"{len(before_reload)} announcements before the reload, {len(after_reload)} after")
    assert_in_order_without_overlap(before_reload[:-1] + [a for a in before_reload[-1:] if a["end_ms"] is not None])
    assert_in_order_without_overlap(after_reload)
    assert [a["id"] for a in before_reload + after_reload] == ids     # every call once, in order
    page.context.close()


def _fonts(page: Any, selector: str) -> dict[str, int]:
    """The fonts Chromium used to draw the text of `selector` (family → glyphs), over CDP."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    doc = cdp.send("DOM.getDocument")
    node = cdp.send("DOM.querySelector", {"nodeId": doc["root"]["nodeId"], "selector": selector})
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}


def test_the_window_screen_follows_sign_in_call_pause_and_sign_out(hall, browser) -> None:
    srv, actor = hall
    ctx = browser.new_context(viewport={"width": 800, "height": 480}, **TV)
    page = watch(ctx.new_page())
    page.goto(f"{srv.http}/screen/window/7")
    page.wait_for_selector('.win-body[data-state="closed"] .win-closed:text-is("下班")', timeout=3000)
    assert "户政窗口" in page.text_content("h1") and "7 号窗口" in page.text_content("h1")
    actor.ok("terminal-7", "window.sign_in", {"staff_no": "HC2101", "pin": "1234"})
    page.wait_for_selector('.win-body[data-state="idle"] .name:text-is("王𬀩")', timeout=1000)
    assert page.text_content(".staff-card .no") == "工号 HC2101"
    assert wait_until(lambda: page.evaluate("document.querySelector('.staff-card img.photo').naturalWidth") > 0, 3)
    fonts = _fonts(page, ".staff-card .name")                 # R13: 𬀩 (Ext. E) drawn, in an SC face
    assert sum(fonts.values()) == 2 and all("JP" not in f and "TC" not in f and "KR" not in f for f in fonts), fonts
    ticket = actor.ok("dispenser-1", "queue.take", {"category": "C"})["ticket"]
    actor.ok("terminal-7", "queue.call_next")
    page.wait_for_selector(f'.win-now.w-calling .ticket:text-is("{ticket}")', timeout=1000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    shot(page, "window-800")
    actor.ok("terminal-7", "job.start")
    page.wait_for_selector(f'.win-now.w-serving .ticket:text-is("{ticket}")', timeout=1000)
    actor.ok("terminal-7", "queue.park")
    actor.ok("terminal-7", "window.pause", {"reason": "lunch"})
    page.wait_for_selector('.win-now.w-paused .big:text-is("暂停服务")', timeout=1000)
    assert page.text_content(".win-now .sub") == "午休"
    actor.ok("terminal-7", "window.sign_out")
    page.wait_for_selector('.win-body[data-state="closed"] .win-closed:text-is("下班")', timeout=1000)
    assert page.query_selector(".staff-card") is None
    ctx.close()
    assert not CSP_VIOLATIONS


def test_a_call_is_aged_by_the_servers_clock_not_the_tvs(tmp_path: Path, browser) -> None:
    """On a demo clock running 30× (a minute of hall time in 2 s), a call heard live is announced; a
    call the screen only hears of 90 hall-seconds later (3 s of real time) is shown, not announced,
    although by the TV's own clock it is 3 s old."""
    srv = ServerProcess(data=tmp_path / "server", config=quick_hall(tmp_path),
                        args=["--clock-start", "2026-11-23T10:00+08:00", "--clock-speed", "30"])
    srv.data.mkdir()
    for n in ("terminal-3", "dispenser-1"):
        srv.new_key(n)
    srv.start()
    actor = Actor(srv, tmp_path / "outboxes")
    try:
        actor.ok("terminal-3", "window.sign_in", {"staff_no": "HC2103", "pin": "1234"})
        for _ in range(2):
            actor.ok("dispenser-1", "queue.take", {"category": "A"})
        page = hall_page(browser, srv, 1366, 768, [])
        actor.ok("terminal-3", "queue.call_next")
        log = settle(page, 1, announce_seconds(1))
        assert [a["id"] for a in log] == [calls(srv)[0]["id"]]
        page.context.close()
        actor.ok("terminal-3", "queue.no_show")
        actor.ok("terminal-3", "queue.call_next")
        time.sleep(3.0)                                       # 90 s of hall time
        late = hall_page(browser, srv, 1366, 768, [])
        late.wait_for_selector('.newest-ticket:text-is("A002")', timeout=3000)
        late.wait_for_timeout(1500)
        assert announced(late) == []
        late.context.close()
    finally:
        actor.close()
        srv.stop()
        srv.kill()


def test_without_javascript_a_screen_reloads_itself_to_the_latest_state(hall, browser) -> None:
    srv, actor = hall
    ctx = browser.new_context(viewport={"width": 800, "height": 480}, java_script_enabled=False, **TV)
    page = watch(ctx.new_page())
    page.goto(f"{srv.http}/screen/window/4")
    assert page.get_attribute(".win-body", "data-state") == "idle"
    ticket = actor.ok("dispenser-1", "queue.take", {"category": "A"})["ticket"]
    assert actor.ok("terminal-4", "queue.call_next")["ticket"] == ticket
    page.wait_for_selector(f'.win-now.w-calling .ticket:text-is("{ticket}")', timeout=8000)   # refresh: 5 s
    actor.ok("terminal-4", "queue.no_show")
    ctx.close()
