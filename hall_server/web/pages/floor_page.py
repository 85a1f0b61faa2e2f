"""The managers' live floor (`/floor`): every window, the queue by category, and alerts,
pushed to the browser by Server-Sent Events (`/floor/events`) within a second of a change.

Source: the state map (`window/<n>`, `queue/<c>`, `floor` and the server-private `mgr/floor` with
today's rating and case counts — see `hall_server.domain.floor`)
and, for today's counts and the alerts, small read-only queries. The stream polls the state's
sequence number every `POLL_S` and re-renders at least every `REFRESH_S` (waits age, devices
go silent); it sends the floor only when the rendered HTML changed. Each event's data is the HTML
as one JSON string on one `data:` line (`sse_event`): CR, LF, U+2028/2029 inside the floor (a
pause reason, a name) are escaped, so an event can never be split or cut short.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from config.i18n import t
from hall_server.domain.common import row, rows
from hall_server.domain.floor import MGR_FLOOR
from hall_server.domain.hours import day_of, session_at
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.layout import page, render, static_script
from hall_server.web.pages.site import Site

POLL_S = 0.25
REFRESH_S = 2.0
STREAM_MAX_S = 300.0          # the browser's EventSource reconnects by itself
NEW_BAD_MIN = 30              # a 差评 is "new" for this long while its case is open


def sse_event(event: str, data: Any) -> str:
    """One server-sent event whose data is `data` as JSON on a single line: no CR or LF can reach
    the stream (json escapes them; U+2028/2029 are escaped too, for the browser's JSON.parse)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"event: {event}\ndata: {text}\n\n"


def _minutes(ms: int) -> int:
    return max(0, ms // 60_000)


def device_health(presence: dict[str, dict[str, Any]], window: int) -> list[dict[str, Any]]:
    out = []
    for kind in ("terminal", "kiosk"):
        p = presence.get(f"{kind}-{window}")
        if p is not None:
            out.append({"node": f"{kind}-{window}", "alive": bool(p.get("alive")), "silent_s": p.get("silent_s")})
    return out


def floor_view(site: Site) -> dict[str, Any]:
    """Everything the floor shows, as plain data (also served as JSON at /floor/data)."""
    config = site.config
    now = site.now_ms()
    seq, state = site.backend.snapshot()
    db = site.backend.reader()
    day = day_of(now, config)
    presence = site.backend.presence()
    per_window = {r["window"]: r for r in rows(
        db, "SELECT window, SUM(finished) AS finished, SUM(rated) AS rated, SUM(l3 + l4 + l5) AS good "
            "FROM rollup WHERE day = ? GROUP BY window", [day])}
    numbers = [w.number for w in config.windows] if config is not None else sorted(
        int(k.split("/")[1]) for k in state if k.startswith("window/"))
    windows = []
    for n in numbers:
        w = state.get(f"window/{n}") or {"window": n, "state": "closed", "staff": None, "ticket": None,
                                          "since_ms": 0, "pause_reason": None}
        name = w.get("name") or ""
        if not name and config is not None:
            name = config.window(n).name
        fig = per_window.get(n) or {"finished": 0, "rated": 0, "good": 0}
        windows.append({
            "window": n, "name": name, "state": w.get("state", "closed"), "staff": w.get("staff"),
            "ticket": w.get("ticket"), "since_ms": w.get("since_ms") or 0,
            "in_state_min": _minutes(now - w["since_ms"]) if w.get("since_ms") else None,
            "pause_reason": w.get("pause_reason"), "rating_open": w.get("rating") == "open",
            "served_today": fig["finished"] or 0,
            "good_rate": round(fig["good"] / fig["rated"], 4) if fig["rated"] else None,
            "devices": device_health(presence, n),
        })
    queues = []
    cats = [(c.code, c.name) for c in config.categories] if config is not None else []
    for code, cname in cats:
        q = state.get(f"queue/{code}") or {}
        oldest = q.get("oldest_queued_ms")
        queues.append({"category": code, "name": q.get("name") or cname, "waiting": q.get("waiting", 0),
                       "priority_waiting": q.get("priority_waiting", 0),
                       "longest_wait_min": _minutes(now - oldest) if oldest else None,
                       "last_called": q.get("last_called")})
    summary = {**(state.get("floor") or {}), **(state.get(MGR_FLOOR) or {})}   # public + managers' counts
    return {"seq": seq, "at_ms": now, "summary": summary, "windows": windows, "queues": queues,
            "alerts": alerts(site, db, now, windows, queues, presence)}


def alerts(site: Site, db: Any, now: int, windows: list[dict[str, Any]], queues: list[dict[str, Any]],
           presence: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    config = site.config
    th = config.hall.thresholds if config is not None else None
    wait_limit = th.wait_alert_min if th else 30
    pause_limit = th.pause_limit_min if th else 30
    out: list[dict[str, Any]] = []
    for q in queues:
        if q["waiting"] and q["longest_wait_min"] is not None and q["longest_wait_min"] >= wait_limit:
            out.append({"kind": "wait", "level": "red", "text": t("web.alert.wait", category=q["category"],
                        name=q["name"], minutes=q["longest_wait_min"], limit=wait_limit)})
    for w in windows:
        if w["state"] == "paused" and w["in_state_min"] is not None and w["in_state_min"] >= pause_limit:
            out.append({"kind": "away", "level": "orange", "text": t("web.alert.away", window=w["window"],
                        minutes=w["in_state_min"])})
    if config is not None:
        s = session_at(now, config)
        if s is not None:
            mark = f"{day_of(now, config)}/{s[0]}"
            for r in rows(db, "SELECT number FROM windows WHERE staff_no IS NULL AND vacant_flagged = ?", [mark]):
                out.append({"kind": "vacant", "level": "orange", "text": t("web.alert.vacant", window=r["number"])})
    for node, p in sorted(presence.items()):
        if not p.get("alive"):
            out.append({"kind": "offline", "level": "red", "text": t("web.alert.offline", node=node,
                        seconds=int(p.get("silent_s") or 0))})
    for c in rows(db, "SELECT id, window, opened_ms FROM cases WHERE kind = 'bad_rating' AND status = 'open' "
                      "AND opened_ms > ? ORDER BY id DESC LIMIT 10", [now - NEW_BAD_MIN * 60_000]):
        out.append({"kind": "bad", "level": "red", "case_id": c["id"],
                    "text": t("web.alert.bad", window=c["window"], time=site.local_text(c["opened_ms"], "%H:%M"),
                              case=c["id"])})
    for c in rows(db, "SELECT id, window, kind FROM cases WHERE status != 'closed' AND ("
                      "callback_overdue = 1 OR rectify_overdue = 1 OR (callback_ms IS NULL AND callback_due_ms < ?) "
                      "OR (rectified_ms IS NULL AND rectify_due_ms < ?)) ORDER BY id LIMIT 20", [now, now]):
        out.append({"kind": "overdue", "level": "red", "case_id": c["id"], "text": t("web.alert.overdue", case=c["id"])})
    if th is not None:
        r = row(db, "SELECT COUNT(*) AS n, COALESCE(SUM(level <= 2), 0) AS bad FROM ratings "
                    "WHERE round = 1 AND is_default = 0 AND at_ms > ?", [now - th.bad_alert_window_min * 60_000])
        if r and r["n"] >= th.bad_alert_min_count and r["bad"] * 100 >= th.bad_alert_percent * r["n"]:
            out.append({"kind": "bad_rate", "level": "red", "text": t(
                "web.alert.bad_rate", percent=round(r["bad"] * 100 / r["n"]), minutes=th.bad_alert_window_min,
                n=r["n"], bad=r["bad"])})
    return out


STATE_BADGE = {"serving": "b-green", "calling": "b-blue", "idle": "b-blue", "paused": "b-orange", "closed": "b-grey"}


def render_floor(site: Site, v: dict[str, Any]) -> str:
    """The floor's HTML (`templates/floor_body.html`): the page's body and each pushed event."""
    return render("floor_body.html", v=v, state_badge=STATE_BADGE)


SCRIPT = static_script("floor.js")   # static/floor.js, inlined and allowed by its hash (CSP, layout)


def routes(site: Site) -> list[Route]:
    @guard(site)
    async def floor(request: Request, s: Session) -> Response:
        return page("floor.html", title=t("web.nav.floor"), hall_name=site.hall_name, user=s.user, csrf=s.csrf,
                    active="floor", v=floor_view(site), state_badge=STATE_BADGE, script=SCRIPT)

    @guard(site)
    async def floor_data(request: Request, s: Session) -> Response:
        return JSONResponse(floor_view(site), headers={"Cache-Control": "no-store"})

    @guard(site)
    async def events(request: Request, s: Session) -> Response:
        async def stream() -> Any:
            loop = asyncio.get_running_loop()
            start = last_render = loop.time()
            last_seq, last_html = -1, ""
            yield "retry: 1000\n\n"
            while loop.time() - start < STREAM_MAX_S:
                seq = site.backend.snapshot("floor")[0]
                now = loop.time()
                if seq != last_seq or now - last_render >= REFRESH_S:
                    last_seq, last_render = seq, now
                    html = render_floor(site, floor_view(site))
                    if html != last_html:
                        last_html = html
                        yield sse_event("floor", html)
                    else:
                        yield ": ping\n\n"
                await asyncio.sleep(POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return [
        Route("/floor", floor, methods=["GET"]),
        Route("/floor/data", floor_data, methods=["GET"]),
        Route("/floor/events", events, methods=["GET"]),
    ]

