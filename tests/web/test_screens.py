"""The public screens in process (the test hall on a real SQLite file): what the hall screen and a
window screen show without JavaScript, that they show only public data, the notice line, the staff
photo route, and the event stream: one JSON object per `data:` line, a full screen first, one
rendering per change however many screens listen, a change pushed within a second over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from hall_server.web.app import make_app
from hall_server.web.pages import screens
from hall_server.web.pages.screen_events import MAX_STREAMS, ScreenFeeds, TooManyStreams, json_line
from tests.web.conftest import Hall
from tests.web.live_server import LiveServer
from tests.web.test_csp import check


def _busy_hall(hall_env: Hall) -> None:
    """Window 1 calls A001; window 2 is paused for a reason typed by hand."""
    d = hall_env.drv
    d.sign_in(1, "1001")
    d.sign_in(2, "1002")
    d.ok("queue.take", {"category": "A"}, "dispenser-1")
    d.ok("queue.take", {"category": "A"}, "dispenser-1")
    d.ok("queue.call_next", {}, "terminal-1")
    d.ok("window.pause", {"reason": "去三楼拿材料"}, "terminal-2")


def test_the_hall_screen_shows_the_public_state_without_javascript(hall_env: Hall, client) -> None:
    _busy_hall(hall_env)
    applied = hall_env.hub.submit("screen.notice", {"text": "请携带身份证件"}, "system")
    assert applied.ok and applied.result == {"text": "请携带身份证件"}
    r = client.get("/screen/hall")
    check(r, "/screen/hall")
    assert r.status_code == 200 and '<noscript><meta http-equiv="refresh" content="5"></noscript>' in r.text
    assert '<p class="newest-ticket">A001</p>' in r.text and "请到 1 号窗口" in r.text
    assert '<li class="w-paused" data-window="2">' in r.text and "暂停服务" in r.text
    assert '<span class="qn">社保医保</span><span class="qc">1 人</span>' in r.text
    assert '<p class="notice" id="notice">请携带身份证件</p>' in r.text
    assert "去三楼拿材料" not in r.text and "ticket_id" not in r.text
    assert client.get("/api/state", params={"prefix": "notice"}).json()["state"] == {"notice": {"text": "请携带身份证件"}}


def test_a_notice_with_a_line_break_is_refused(hall_env: Hall) -> None:
    applied = hall_env.hub.submit("screen.notice", {"text": "一\n二"}, "system")
    assert not applied.ok and applied.error == "bad_request"
    assert hall_env.hub.submit("screen.notice", {"text": "x"}, "terminal-1").error == "forbidden"


def test_a_window_screen_shows_staff_ticket_pause_category_and_closed(hall_env: Hall, client) -> None:
    _busy_hall(hall_env)
    one = client.get("/screen/window/1")
    check(one, "/screen/window/1")
    assert '<p class="name" lang="zh-CN">张三</p>' in one.text and "工号 1001" in one.text
    assert '<p class="big ticket">A001</p>' in one.text and 'data-state="calling"' in one.text
    two = client.get("/screen/window/2")
    assert '<p class="big">暂停服务</p><p class="sub">其他</p>' in two.text     # the reason's category only
    assert "去三楼拿材料" not in two.text
    assert client.get("/api/state", params={"prefix": "window/2"}).json()["state"]["window/2"]["pause"] == "other"
    hall_env.drv.ok("window.resume", {}, "terminal-2")
    hall_env.drv.ok("window.pause", {"reason": "lunch"}, "terminal-2")
    assert '<p class="sub">午休</p>' in client.get("/screen/window/2").text
    hall_env.drv.ok("window.sign_out", {}, "terminal-2")
    closed = client.get("/screen/window/2")
    assert '<p class="win-closed">下班</p>' in closed.text and 'class="staff-card"' not in closed.text
    for bad in ("/screen/window/99", "/screen/window/abc", "/screen/window/99999"):
        r = client.get(bad)
        check(r, bad)
        assert r.status_code == 404 and "没有这个窗口" in r.text
    assert client.get("/screen/window/1/photo").status_code == 404        # the test hall has no photos
    assert client.get("/screen/events", params={"window": "99"}).status_code == 404


def test_the_photo_route_serves_only_whoever_is_on_duty(hall_env: Hall, client, tmp_path) -> None:
    import dataclasses

    photo = tmp_path / "1001.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    config = hall_env.backend.config
    staff = tuple(dataclasses.replace(s, photo=photo) if s.staff_no == "1001" else s for s in config.staff)
    hall_env.hub.config = dataclasses.replace(config, staff=staff)       # (the backend reads the hub's)
    assert client.get("/screen/window/1/photo").status_code == 404
    hall_env.drv.sign_in(1, "1001")
    r = client.get("/screen/window/1/photo")
    assert r.status_code == 200 and r.content == photo.read_bytes()
    assert 'src="/screen/window/1/photo?s=1001"' in client.get("/screen/window/1").text
    hall_env.drv.ok("window.sign_out", {}, "terminal-1")
    assert client.get("/screen/window/1/photo").status_code == 404


def test_an_event_is_one_json_line_whatever_the_text() -> None:
    line = json_line({"html": "a\nb\r\nc\u2028d\u2029e"})
    assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\u2029" not in line
    assert json.loads(line)["html"] == "a\nb\r\nc\u2028d\u2029e"


def _parse(event: str) -> tuple[str, dict[str, Any]]:
    lines = event.rstrip("\n").split("\n")
    assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "), event
    return lines[0][7:], json.loads(lines[1][6:])


def test_one_rendering_per_change_for_every_listener(hall_env: Hall) -> None:
    site = hall_env.site
    made: list[str] = []

    def render(state: dict[str, Any], now_ms: int) -> str:
        made.append("hall")
        return f"<p>{(state.get('calls') or {}).get('recent', [{}])[0].get('ticket', '')}</p>"

    async def run() -> None:
        feeds = ScreenFeeds(site, render, screens.render_window(site))
        streams = [feeds.hall.stream() for _ in range(5)]
        assert all(line.startswith("retry: ") for line in [await s.__anext__() for s in streams])
        first = [_parse(await s.__anext__()) for s in streams]
        assert {e for e, _ in first} == {"screen"} and len({d["html"] for _, d in first}) == 1
        assert len(made) == 1
        hall_env.sync()
        await asyncio.to_thread(hall_env.drv.sign_in, 1, "1001")
        await asyncio.to_thread(hall_env.drv.ok, "queue.take", {"category": "A"}, "dispenser-1")
        await asyncio.to_thread(hall_env.drv.ok, "queue.call_next", {}, "terminal-1")
        for s in streams:
            while True:
                kind, data = _parse(await asyncio.wait_for(s.__anext__(), 5))
                if kind == "screen" and data["html"] == "<p>A001</p>":
                    assert data["calls"][0]["ticket"] == "A001" and set(data["calls"][0]) == {
                        "id", "ticket", "window", "at_ms", "kind", "recall"}
                    break
        assert len(made) <= 4                   # one per state change (3 commands), not one per listener
        assert feeds.open_streams() == 5
        for s in streams:
            await s.aclose()
        assert feeds.open_streams() == 0
        feeds.hall.streams = MAX_STREAMS
        try:
            feeds.check_room()
            raise AssertionError("no limit on open streams")
        except TooManyStreams:
            pass
        finally:
            feeds.hall.streams = 0
            feeds.hall.poke()
        await asyncio.sleep(0.05)               # the feed's task sees nobody listens and ends

    asyncio.run(run())


def test_a_call_reaches_an_open_stream_within_a_second_over_http(hall_env: Hall) -> None:
    with LiveServer(make_app(hall_env.backend)) as live, httpx.Client(timeout=5) as http:
        with http.stream("GET", f"{live.url}/screen/events") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-store"
            lines = r.iter_lines()

            def next_event() -> tuple[str, dict[str, Any]]:
                block: list[str] = []
                for line in lines:
                    if line == "" and block:
                        if block[0].startswith(("retry", ":")):
                            block = []
                            continue
                        return _parse("\n".join(block) + "\n")
                    elif line:
                        block.append(line)
                raise AssertionError("the stream ended")

            kind, data = next_event()
            assert kind == "screen" and abs(data["now_ms"] - time.time() * 1000) < 5000
            hall_env.sync()
            hall_env.drv.sign_in(1, "1001")
            hall_env.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
            t0 = time.monotonic()
            hall_env.drv.ok("queue.call_next", {}, "terminal-1")
            while True:
                kind, data = next_event()
                if kind == "screen" and '<p class="newest-ticket">A001</p>' in data["html"]:
                    break
            elapsed_s = time.monotonic() - t0
            assert elapsed_s < 1.0, elapsed_s
