"""The managers' live floor (`/floor`): every window, the queue by category, and alerts,
pushed to the browser by Server-Sent Events (`/floor/events`) within a second of a change.

Source: the floor's one typed snapshot (`site.floor`, `hall_server.domain.floor_snapshot`): the
page, `/floor/data` and the stream map it to plain data with `view_of` (this module) and never
assemble the floor themselves. The stream does not poll: the coordinator hears of each commit and
wakes this app's one `FloorFeed`, which takes the new snapshot, renders it ONCE and hands the HTML
to every open stream; it also re-renders every `REFRESH_S` (waits age, devices go silent) and
sends the floor only when the rendered HTML changed. Each event's data is the HTML as one JSON
string on one `data:` line (`sse_event`): CR, LF, U+2028/2029 inside the floor (a pause reason, a
name) are escaped, so an event can never be split or cut short.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from config.i18n import t
from config.labels import node_label, pause_label
from hall_server.domain.alerts import Alert, minutes_since
from hall_server.domain.floor_snapshot import FloorSnapshot
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.layout import page, render, static_script
from hall_server.web.pages.push_feed import PushFeed
from hall_server.web.pages.site import Site

REFRESH_S = 2.0               # re-rendered at least this often while a stream is open
PING_S = 2.0                  # a comment line this often on a quiet stream
STREAM_MAX_S = 300.0          # the browser's EventSource reconnects by itself


def sse_event(event: str, data: Any) -> str:
    """One server-sent event whose data is `data` as JSON on a single line: no CR or LF can reach
    the stream (json escapes them; U+2028/2029 are escaped too, for the browser's JSON.parse)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"event: {event}\ndata: {text}\n\n"


def alert_text(site: Site, a: Alert) -> str:
    args = dict(a.args)
    if "node" in args:
        args["node"] = node_label(str(args["node"]))
    if a.kind == "bad":
        args = {"window": args["window"], "case": args["case"], "time": site.local_text(args["opened_ms"], "%H:%M")}
    if a.kind in ("slip_failed", "slip_unconfirmed"):
        args["reason"] = t(f"slips.reason.{args['reason']}")
    return t(f"web.alert.{a.kind}", **args)


def view_of(site: Site, snap: FloorSnapshot) -> dict[str, Any]:
    """The snapshot as the page shows it (also served as JSON at /floor/data): the managers' view."""
    now = snap.at_ms
    windows = [{
        "window": w.window, "name": w.name, "state": w.state, "staff": asdict(w.staff) if w.staff else None,
        "ticket": w.ticket, "since_ms": w.since_ms, "in_state_min": minutes_since(now, w.since_ms),
        "pause_reason": pause_label(w.pause_reason), "rating_open": w.rating_open, "served_today": w.served_today,
        "good_rate": round(w.good_today / w.rated_today, 4) if w.rated_today else None,
        "devices": [{**asdict(d), "label": node_label(d.node)} for d in w.devices],
    } for w in snap.windows]
    queues = [{"category": q.category, "name": q.name, "waiting": q.waiting, "priority_waiting": q.priority_waiting,
               "longest_wait_min": minutes_since(now, q.oldest_queued_ms), "last_called": q.last_called}
              for q in snap.queues]
    alerts = [{"kind": a.kind, "level": a.level, "text": alert_text(site, a),
               **({"case_id": a.case_id} if a.case_id is not None else {})} for a in snap.alerts]
    return {"seq": snap.seq, "at_ms": now, "summary": {**asdict(snap.summary), **asdict(snap.manager)},
            "windows": windows, "queues": queues, "alerts": alerts}


def floor_view(site: Site) -> dict[str, Any]:
    """Everything the floor shows, as plain data, from the current snapshot."""
    return view_of(site, site.floor.current())


STATE_BADGE = {"serving": "b-green", "calling": "b-blue", "idle": "b-blue", "paused": "b-orange", "closed": "b-grey"}


def render_floor(site: Site, v: dict[str, Any]) -> str:
    """The floor's HTML (`templates/floor_body.html`): the page's body and each pushed event."""
    return render("floor_body.html", v=v, state_badge=STATE_BADGE)


SCRIPT = static_script("floor.js")   # static/floor.js, inlined and allowed by its hash (CSP, layout)


class FloorFeed(PushFeed):
    """One app's floor stream source (`push_feed.PushFeed`): renders each new snapshot once and
    shares the HTML with every open `/floor/events` stream."""

    ping_s = PING_S
    stream_max_s = STREAM_MAX_S

    async def _read(self) -> FloorSnapshot:
        coordinator = self.site.floor
        return coordinator.peek() or await asyncio.to_thread(coordinator.current)

    def _is_new(self, snap: FloorSnapshot) -> bool:
        return snap is not self._last

    def _render(self, snap: FloorSnapshot) -> str:
        return render_floor(self.site, view_of(self.site, snap))

    def _event(self) -> str:
        return sse_event("floor", self.body)

    def _ping(self) -> str:
        return ": ping\n\n"

    def _recheck_s(self) -> float:
        return REFRESH_S              # (read at each turn: tests set it)


def routes(site: Site) -> list[Route]:
    feed = FloorFeed(site)

    @guard(site)
    async def floor(request: Request, s: Session) -> Response:
        return page("floor.html", title=t("web.nav.floor"), hall_name=site.hall_name, user=s.user, csrf=s.csrf,
                    active="floor", v=floor_view(site), state_badge=STATE_BADGE, script=SCRIPT)

    data_body: list[tuple[FloorSnapshot, bytes]] = []       # the last snapshot, as /floor/data's JSON

    @guard(site)
    async def floor_data(request: Request, s: Session) -> Response:
        snap = site.floor.peek() or await asyncio.to_thread(site.floor.current)
        if not data_body or data_body[0][0] is not snap:
            data_body[:] = [(snap, JSONResponse(view_of(site, snap)).body)]
        return Response(data_body[0][1], media_type="application/json", headers={"Cache-Control": "no-store"})

    @guard(site)
    async def events(request: Request, s: Session) -> Response:
        return StreamingResponse(feed.stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return [
        Route("/floor", floor, methods=["GET"]),
        Route("/floor/data", floor_data, methods=["GET"]),
        Route("/floor/events", events, methods=["GET"]),
    ]

