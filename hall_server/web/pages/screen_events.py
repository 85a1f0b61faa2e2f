"""The hall's public screens pushed live: one rendering per change, shared by every open stream.

The floor's mechanism (`floor_page.FloorFeed`), for the public screens (`screens`): the floor
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
from collections.abc import AsyncIterator, Callable
from typing import Any

from hall_server.web.pages.site import Site
from hall_server.web.public_state import public_state

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


class ScreenFeed:
    """One screen's stream source (the hall screen, or window n's): renders each new state once
    and shares the event with every open stream of it."""

    def __init__(self, site: Site, source: PublicState, render: Render, with_calls: bool) -> None:
        self.site, self.source, self.render, self.with_calls = site, source, render, with_calls
        self.version = 0          # bumped when the event's body changed
        self.body = ""            # the event's JSON without now_ms: '"seq":…,"html":…,"calls":…}'
        self.renders = 0          # how many times the screen was rendered (tests, bench)
        self.streams = 0
        self._seq = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._newer = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # that loop is closed: nothing listens any more
                pass

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:            # a new loop (another server in the same process)
            self._loop, self._wake, self._newer, self._task = loop, asyncio.Event(), asyncio.Condition(), None
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())

    def _make(self, seq: int, state: dict[str, Any]) -> str:
        html = self.render(state, self.site.now_ms())
        self.renders += 1
        calls = (state.get("calls") or {}).get("recent", []) if self.with_calls else []
        return json_line({"seq": seq, "html": html, "calls": calls})[1:]

    async def _run(self) -> None:
        coordinator = self.site.floor
        coordinator.listen(self.poke)
        try:
            while self.streams > 0:
                self._wake.clear()
                try:
                    seq, state = await asyncio.to_thread(self.source.current)
                except RuntimeError:              # the loop's executor is shut down: the server stops
                    return
                if seq != self._seq:
                    self._seq = seq
                    body = self._make(seq, state)
                    if body != self.body:
                        self.body, self.version = body, self.version + 1
                        async with self._newer:
                            self._newer.notify_all()
                try:
                    await asyncio.wait_for(self._wake.wait(), RECHECK_S)
                except asyncio.TimeoutError:
                    pass
        finally:
            coordinator.unlisten(self.poke)

    async def _wait_newer(self, seen: int, timeout_s: float) -> None:
        self._ensure_running()
        async with self._newer:
            try:
                await asyncio.wait_for(self._newer.wait_for(lambda: self.version != seen and bool(self.body)),
                                       timeout_s)
            except asyncio.TimeoutError:
                pass

    def event(self) -> str:
        """The current screen as one SSE event, stamped with the server's clock now."""
        return f'event: screen\ndata: {{"now_ms":{self.site.now_ms()},{self.body}\n\n'

    async def stream(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        self.streams += 1
        try:
            self._ensure_running()
            start = loop.time()
            seen = 0
            yield "retry: 1000\n\n"
            while loop.time() - start < STREAM_MAX_S:
                await self._wait_newer(seen, PING_S)
                if self.version != seen and self.body:
                    seen = self.version
                    yield self.event()
                else:
                    yield f'event: time\ndata: {{"now_ms":{self.site.now_ms()}}}\n\n'
        finally:
            self.streams -= 1
            if self.streams == 0:                 # nobody listens: the next stream gets a fresh rendering
                self.body, self._seq = "", -1
                self._wake.set()


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
