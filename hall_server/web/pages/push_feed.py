"""A server-sent-event source shared by every open stream of one page: the live floor's
(`floor_page.FloorFeed`) and the public screens' (`screen_events.ScreenFeed`).

It runs on the app's event loop while at least one stream is open. The floor coordinator's
listener (`poke`, called on the writer's thread after a commit) wakes it; it then reads what the
page shows (`_read`), renders it ONCE when it is new (`_is_new`, `_render`) and hands the same body
to every stream (`_event`); a quiet stream gets `_ping` every `ping_s`. When the last stream closes
the body is dropped, so the next stream starts from a fresh rendering. Subclasses say what to read,
how to render and how an event looks; the waking, sharing and stream bookkeeping live here once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from hall_server.web.pages.site import Site


class PushFeed:
    ping_s = 2.0                  # a keep-alive this often on a quiet stream
    stream_max_s = 300.0          # then the stream ends; the browser's EventSource reconnects by itself

    def __init__(self, site: Site) -> None:
        self.site = site
        self.version = 0          # bumped when the rendered body changed
        self.body = ""
        self.renders = 0          # how many times it was rendered (tests, bench)
        self.streams = 0
        self._last: Any = None    # what was last rendered (None: nothing yet)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._newer = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    # --- what a subclass says -----------------------------------------------------------------

    async def _read(self) -> Any:
        """What the page shows now (RuntimeError: the loop's executor is shut down)."""
        raise NotImplementedError

    def _is_new(self, data: Any) -> bool:
        raise NotImplementedError

    def _render(self, data: Any) -> str:
        raise NotImplementedError

    def _event(self) -> str:
        """The current body as one SSE event."""
        raise NotImplementedError

    def _ping(self) -> str:
        raise NotImplementedError

    def _recheck_s(self) -> float:
        """How long the loop waits for a word from the writer before it looks again."""
        raise NotImplementedError

    # --- shared ---------------------------------------------------------------------------------

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

    async def _run(self) -> None:
        coordinator = self.site.floor
        coordinator.listen(self.poke)
        try:
            while self.streams > 0:
                self._wake.clear()
                try:
                    data = await self._read()
                except RuntimeError:              # the loop's executor is shut down: the server stops
                    return
                if self._is_new(data):
                    self._last = data
                    body = self._render(data)
                    self.renders += 1
                    if body != self.body:
                        self.body, self.version = body, self.version + 1
                        async with self._newer:
                            self._newer.notify_all()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._recheck_s())
                except asyncio.TimeoutError:
                    pass
        finally:
            coordinator.unlisten(self.poke)

    async def wait_newer(self, seen: int, timeout_s: float) -> None:
        """Until there is a body newer than version `seen`, or `timeout_s` passed."""
        self._ensure_running()
        async with self._newer:
            try:
                await asyncio.wait_for(self._newer.wait_for(lambda: self.version != seen and bool(self.body)),
                                       timeout_s)
            except asyncio.TimeoutError:
                pass

    async def stream(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        self.streams += 1
        try:
            self._ensure_running()
            start = loop.time()
            seen = 0
            yield "retry: 1000\n\n"
            while loop.time() - start < self.stream_max_s:
                await self.wait_newer(seen, self.ping_s)
                if self.version != seen and self.body:
                    seen = self.version
                    yield self._event()
                else:
                    yield self._ping()
        finally:
            self.streams -= 1
            if self.streams == 0:                 # nobody listens: the next stream gets a fresh rendering
                self.body, self._last = "", None
                self._wake.set()
