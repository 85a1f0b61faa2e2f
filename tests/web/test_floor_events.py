"""The managers' floor stream (`/floor/events`) over a real HTTP connection: a CR or LF inside the
data (a pause reason stored before reasons were checked) never splits or cuts an event; and a
new pause reason with control characters is refused at the edge."""

from __future__ import annotations

import json
import re

import httpx

from hall_server.web.app import make_app
from hall_server.web.pages.floor_page import sse_event
from tests.web.conftest import MANAGER_PW, Hall
from tests.web.live_server import LiveServer

EVIL = "午休\r外出\n马上回来\r\n\u2028好"


def parse_events(raw: str) -> list[dict[str, str]]:
    """Server-sent events as a browser parses them (HTML spec: lines end at CRLF, LF or CR)."""
    events, data, name = [], [], "message"
    for line in re.split(r"\r\n|\r|\n", raw):
        if line == "":
            if data:
                events.append({"event": name, "data": "\n".join(data)})
            data, name = [], "message"
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    return events


def test_sse_event_is_one_data_line_of_json() -> None:
    raw = sse_event("floor", f"<b>{EVIL}</b>")
    assert raw.count("\n") == 3 and "\r" not in raw and "\u2028" not in raw
    [event] = parse_events(raw)
    assert event["event"] == "floor" and json.loads(event["data"]) == f"<b>{EVIL}</b>"


def test_a_pause_reason_with_cr_and_lf_does_not_cut_the_floor_stream(hall_env: Hall) -> None:
    hall_env.drv.sign_in(2, "1002")
    hall_env.drv.ok("window.pause", {"reason": "午休"}, "terminal-2")
    # A reason stored before the edge refused control characters: put it in the state as it was.
    hub = hall_env.hub
    value = dict(hub.state.get("window/2"))
    value["pause_reason"] = EVIL
    hub.state.commit(hub.state.write(hub.db, [("window/2", value)]))
    with LiveServer(make_app(hall_env.backend)) as srv, httpx.Client(base_url=srv.url) as c:
        r = c.post("/login", data={"user": "boss", "password": MANAGER_PW}, follow_redirects=False)
        assert r.status_code == 303, r.text
        raw = ""
        with c.stream("GET", "/floor/events", headers={"accept": "text/event-stream"}, timeout=10) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for chunk in stream.iter_text():
                raw += chunk
                if any(e["event"] == "floor" for e in parse_events(raw)):
                    break
    [floor] = [e for e in parse_events(raw) if e["event"] == "floor"]
    html = json.loads(floor["data"])
    assert [int(n) for n in re.findall(r'data-window="(\d+)"', html)] == [1, 2, 3, 4]
    assert "马上回来" in html and 'id="queue"' in html               # the whole floor, after the reason too


def test_a_new_pause_reason_with_control_characters_is_refused(hall_env: Hall) -> None:
    hall_env.drv.sign_in(3, "1003")
    for reason in ("午休\r外出", "午\n休", "a\u2028b", "\u202e休午", "x\x00y", "\x1b[2J"):
        refused = hall_env.drv.refused("bad_request", "window.pause", {"reason": reason}, "terminal-3")
        assert refused.details == {"field": "reason"}, reason
    assert hall_env.drv.ok("window.pause", {"reason": "业务咨询"}, "terminal-3")["reason"] == "业务咨询"
