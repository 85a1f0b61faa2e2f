"""The hall's public screens pushed live: one rendering per change, shared by every open stream.

The floor's mechanism (`push_feed.PushFeed`, as `floor_page.FloorFeed` uses it), for the public screens (`screens`): the floor
coordinator hears of each commit (`site.floor.listen`) and wakes each `ScreenFeed` that has an open
stream; the feed reads the state ONCE through the public allowlist (`PublicState`, shared by all
feeds of the app, at most once per state sequence number), renders its screen's HTML once and hands
the same serialised event to every listener. Nothing polls per browser.

An event (`event: screen`) is one JSON object on one `data:` line: `{now_ms, seq, html, calls}` —
`now_ms` is the hall server's clock when the event is sent (the TV's clock may be wrong: the page
ages calls and shows the time by it), `html` the screen's body, `calls` the public `calls` key's
`recent` list (the hall screen announces from it). CR, LF and U+2028/2029 inside are escaped, so an
event is never split. A new stream first gets the current screen whole (a page reconnecting after
a server restart catches up from it); a quiet stream gets `event: time` `{now_ms}` every `PING_S`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

from hall_server.web.pages.push_feed import PushFeed
from hall_server.web.pages.site import Site
from hall_server.web.public_state import public_state
from hallnet.vocabulary import Key

PING_S = 2.0                  # a time event this often on a quiet stream (keeps the TV's clock right)
RECHECK_S = 5.0               # the state is looked at this often even without a word from the writer
STREAM_MAX_S = 300.0          # then the stream ends; the browser's EventSource reconnects by itself
MAX_STREAMS = 200             # open screen streams per app (a hall has a few TVs and one per window)

Render = Callable[[dict[str, Any], int], str]     # (public state, now_ms) -> the screen's HTML


class TooManyStreams(RuntimeError):
    """More screen streams are open than `MAX_STREAMS`."""


def json_line(data: Any) -> str:
    """`data` as JSON on one line, safe in an SSE `data:` field and in the browser's JSON.parse."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class PublicState:
    """The state map through the public allowlist, made at most once per sequence number."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._lock = threading.Lock()
        self._seq = -1
        self._state: dict[str, Any] = {}
        self.reads = 0                            # how many times the state was read (tests, bench)

    def current(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            seq = self.site.floor.seq()
            if seq != self._seq:
                seq, values = self.site.backend.snapshot()
                self._seq, self._state = seq, public_state(values)
                self.reads += 1
            return self._seq, self._state


class ScreenFeed(PushFeed):
    """One screen's stream source (the hall screen, or window n's; `push_feed.PushFeed`): renders
    each new state once and shares the event with every open stream of it. Its body is the event's
    JSON without `now_ms`: '"seq":…,"html":…,"calls":…}'."""

    ping_s = PING_S
    stream_max_s = STREAM_MAX_S

    def __init__(self, site: Site, source: PublicState, render: Render, with_calls: bool) -> None:
        super().__init__(site)
        self.source, self.render, self.with_calls = source, render, with_calls

    async def _read(self) -> tuple[int, dict[str, Any]]:
        return await asyncio.to_thread(self.source.current)

    def _is_new(self, data: tuple[int, dict[str, Any]]) -> bool:
        return self._last is None or data[0] != self._last[0]

    def _render(self, data: tuple[int, dict[str, Any]]) -> str:
        seq, state = data
        html = self.render(state, self.site.now_ms())
        calls = (state.get(Key.CALLS) or {}).get("recent", []) if self.with_calls else []
        return json_line({"seq": seq, "html": html, "calls": calls})[1:]

    def _event(self) -> str:
        """The current screen as one SSE event, stamped with the server's clock now."""
        return f'event: screen\ndata: {{"now_ms":{self.site.now_ms()},{self.body}\n\n'

    def _ping(self) -> str:
        return f'event: time\ndata: {{"now_ms":{self.site.now_ms()}}}\n\n'

    def _recheck_s(self) -> float:
        return RECHECK_S


class ScreenFeeds:
    """The app's screen feeds: the hall screen's and one per window, made on first use."""

    def __init__(self, site: Site, render_hall: Render, render_window: Callable[[int], Render]) -> None:
        self.site = site
        self.source = PublicState(site)
        self.hall = ScreenFeed(site, self.source, render_hall, with_calls=True)
        self._render_window = render_window
        self.windows: dict[int, ScreenFeed] = {}

    def window(self, n: int) -> ScreenFeed:
        feed = self.windows.get(n)
        if feed is None:
            feed = self.windows[n] = ScreenFeed(self.site, self.source, self._render_window(n), with_calls=False)
        return feed

    def open_streams(self) -> int:
        return self.hall.streams + sum(f.streams for f in self.windows.values())

    def check_room(self) -> None:
        """Raises TooManyStreams when `MAX_STREAMS` screen streams are open already."""
        if self.open_streams() >= MAX_STREAMS:
            raise TooManyStreams(f"{MAX_STREAMS} screen streams are open")
