"""The floor's one coordinator (issue 12): one typed snapshot per state change, whoever reads it and
however many browsers listen; every reader of the same state gets the same sequence number; the
event stream is pushed when the state changes, not polled; the public gets the public part only."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from hall_server.domain.floor_snapshot import FloorSnapshot, WindowFloor
from hall_server.web.app import make_app
from hall_server.web.pages import floor_page
from hall_server.web.pages.floor_page import floor_view
from tests.web.conftest import MANAGER_PW, Hall, login
from tests.web.live_server import LiveServer
from tests.web.test_floor_events import parse_events

MGR = {"X-Api-Key": "mgr-key"}
KEYS = {"mgr-key": "manager"}


@pytest.fixture
def frozen(hall_env: Hall) -> Hall:
    """The coordinator's clock of ages stands still: a snapshot is made again only when the state changes."""
    hall_env.site.floor.monotonic = lambda: 0.0
    return hall_env


def test_one_snapshot_per_change_whoever_reads_it(frozen: Hall) -> None:
    coordinator = frozen.site.floor
    frozen.drv.sign_in(1, "1001")
    with TestClient(make_app(frozen.backend, api_keys=KEYS), base_url="http://hall.test") as c:
        login(c)
        before = coordinator.computed
        views = [floor_view(frozen.site) for _ in range(5)]
        data = [c.get("/floor/data").json() for _ in range(3)]
        public = [c.get("/api/floor").json() for _ in range(3)]
        mine = c.get("/api/floor", headers=MGR).json()
        page = c.get("/floor").text
        assert coordinator.computed == before + 1
        seq = frozen.hub.state.seq
        assert {v["seq"] for v in views} == {d["seq"] for d in data} == {p["seq"] for p in public} == {mine["seq"]} == {seq}
        assert f'data-seq="{seq}"' in page
        frozen.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
        assert c.get("/api/floor").json()["seq"] == frozen.hub.state.seq > seq
        assert floor_view(frozen.site)["seq"] == frozen.hub.state.seq
        assert coordinator.computed == before + 2


def test_the_snapshot_is_typed_and_reads_the_published_keys(frozen: Hall) -> None:
    frozen.drv.sign_in(2, "1002")
    snap = frozen.site.floor.current()
    assert isinstance(snap, FloorSnapshot) and all(isinstance(w, WindowFloor) for w in snap.windows)
    state = frozen.hub.state.snapshot()[1]
    w2 = next(w for w in snap.windows if w.window == 2)
    assert (w2.state, w2.staff and w2.staff.staff_no) == (state["window/2"]["state"], "1002")
    assert snap.summary.windows_open == state["floor"]["windows_open"]
    assert snap.manager.open_cases == state["mgr/floor"]["open_cases"]
    with pytest.raises(AttributeError):
        snap.seq = 0      # type: ignore[misc]


def test_the_public_floor_is_the_allowlist(frozen: Hall) -> None:
    frozen.finish(1)
    frozen.drv.ok("window.pause", {"reason": "午休"}, "terminal-1")
    with TestClient(make_app(frozen.backend, api_keys=KEYS), base_url="http://hall.test") as c:
        public = c.get("/api/floor").json()
        mine = c.get("/api/floor", headers=MGR).json()
    w1 = public["windows"][0]
    assert set(w1) == {"window", "name", "state", "ticket", "staff"} and set(w1["staff"]) == {
        "staff_no", "name", "department", "stars"}
    assert "午休" not in json.dumps(public, ensure_ascii=False) and "rated_today" not in public["summary"]
    assert mine["windows"][0]["pause_reason"] == "午休" and "rated_today" in mine["summary"]


def _read_floor_events(url: str, cookies: httpx.Cookies, want: int, out: list[str], ready: threading.Event) -> None:
    """Read `/floor/events` until `want` floor events came; their data (HTML) into `out`."""
    with httpx.Client(base_url=url, cookies=cookies) as c, \
            c.stream("GET", "/floor/events", headers={"accept": "text/event-stream"}, timeout=10) as stream:
        raw = ""
        for chunk in stream.iter_text():
            raw += chunk
            floors = [json.loads(e["data"]) for e in parse_events(raw) if e["event"] == "floor"]
            if floors:
                ready.set()
            if len(floors) >= want:
                out.extend(floors)
                return


@pytest.fixture
def counted_renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The floor stream never refreshes by the clock here: what reaches a browser was pushed."""
    monkeypatch.setattr(floor_page, "REFRESH_S", 60.0)
    renders: list[int] = []
    real = floor_page.render_floor

    def counting(site: Any, v: dict[str, Any]) -> str:
        renders.append(v["seq"])
        return real(site, v)

    monkeypatch.setattr(floor_page, "render_floor", counting)
    yield renders


def test_the_stream_is_pushed_on_change_rendered_once_for_every_browser(frozen: Hall, counted_renders: list[int]) -> None:
    coordinator = frozen.site.floor
    browsers = 3
    with LiveServer(make_app(frozen.backend)) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.post("/login", data={"user": "boss", "password": MANAGER_PW}, follow_redirects=False).status_code == 303
        outs: list[list[str]] = [[] for _ in range(browsers)]
        readies = [threading.Event() for _ in range(browsers)]
        threads = [threading.Thread(target=_read_floor_events, args=(srv.url, c.cookies, 2, outs[i], readies[i]))
                   for i in range(browsers)]
        for th in threads:
            th.start()
        for ready in readies:
            assert ready.wait(10), "no first floor event"
        before, seq_before = coordinator.computed, frozen.hub.state.seq
        frozen.drv.sign_in(3, "1003")                     # one commit: window/3 and floor change
        for th in threads:
            th.join(10)
        seq = frozen.hub.state.seq
        assert seq > seq_before
        for out in outs:
            assert len(out) == 2, "the change was not pushed"
            assert re.search(r'data-seq="(\d+)"', out[0])[1] == str(seq_before)   # type: ignore[index]
            assert re.search(r'data-seq="(\d+)"', out[1])[1] == str(seq)          # type: ignore[index]
            assert 'data-window="3" data-state="idle"' in out[1]
        assert coordinator.computed == before + 1         # one snapshot for three browsers
        assert counted_renders.count(seq) == 1            # and one rendering


def test_a_browser_coming_back_gets_the_floor_as_it_is_now(frozen: Hall, counted_renders: list[int]) -> None:
    with LiveServer(make_app(frozen.backend)) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.post("/login", data={"user": "boss", "password": MANAGER_PW}, follow_redirects=False).status_code == 303
        first: list[str] = []
        _read_floor_events(srv.url, c.cookies, 1, first, threading.Event())
        frozen.drv.sign_in(4, "1003")                     # while nobody watches
        again: list[str] = []
        _read_floor_events(srv.url, c.cookies, 1, again, threading.Event())
    assert 'data-window="4" data-state="closed"' in first[0]
    assert re.search(r'data-seq="(\d+)"', again[0])[1] == str(frozen.hub.state.seq)   # type: ignore[index]
    assert 'data-window="4" data-state="idle"' in again[0]
