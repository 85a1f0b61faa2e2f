"""The hall's public screens: the hall screen (综合屏, `/screen/hall`) for the TV, and one small
screen per window (窗口屏, `/screen/window/{n}`). No login: they show only the public state
(`hall_server.web.public_state`, read through `screen_events.PublicState`), what the hall shows on
paper anyway. Chinese only on screen.

| route | what |
|---|---|
| `GET /screen/hall` | the hall screen: the newest call large (highlighted for `HIGHLIGHT_MS`), the last `RECENT_N` calls, every open window's number, the waiting counts per category, the notice line, the time; plays each call's announcement (`static/screen.js`) |
| `GET /screen/window/{n}` | window n: its name and number, the staff on duty (亮身份: photo, name, 工号), the ticket called or served, 暂停服务 with the reason's category, 下班 when closed |
| `GET /screen/window/{n}/photo` | the photo of whoever is signed in at window n now (hall configuration), else 404 |
| `GET /screen/events`, `/screen/events?window=n` | the screen live (SSE, `screen_events`): one rendering per change for all its listeners |

Without JavaScript a screen shows the state as of its loading and reloads itself
(`<meta http-equiv="refresh">` inside `<noscript>`). With it, the body is replaced by each pushed
rendering, the clock runs on the server's time, and the hall screen announces each new call once
(`/screen/announce/{id}.wav`, one after another; see `static/screen.js`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from config.i18n import t
from hall_server.domain.hours import local
from hall_server.web.pages.layout import inline_style, message, page, render, static_script
from hall_server.web.pages.screen_events import Render, ScreenFeeds, TooManyStreams
from hall_server.web.pages.site import Site
from hallnet.vocabulary import Key

HIGHLIGHT_MS = 10_000         # the newest call stays highlighted this long
RECENT_N = 6                  # calls listed under the newest one
NOSCRIPT_REFRESH_S = 5        # without JavaScript the page reloads this often
ANNOUNCE_MAX_AGE_MS = 60_000  # a call older than this (by the server's clock) is not announced

SCRIPT = static_script("screen.js")
STYLE = inline_style("screen.css")
WINDOW_STATES = ("closed", "idle", "calling", "serving", "paused")


def _windows(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, value in state.items():
        head, _, rest = key.partition("/")
        if head == "window" and rest.isdigit():
            out.append({**value, "window": int(rest)})
    return sorted(out, key=lambda w: w["window"])


def _queues(site: Site, state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every category of the hall (0 waiting until its queue key is published), in the hall's order."""
    published = {v.get("category"): v for k, v in state.items() if k.startswith(Key.QUEUE)}
    if site.config is None:
        return [published[c] for c in sorted(published, key=str)]
    return [{"category": c.code, "name": c.name, "waiting": 0, **published.get(c.code, {})}
            for c in site.config.categories]


def clock_view(site: Site, now_ms: int) -> dict[str, str]:
    at = local(now_ms, site.config)
    return {"time": at.strftime("%H:%M"),
            "date": t("screen.date", y=at.year, m=at.month, d=at.day,
                      weekday=t("screen.weekdays").split(",")[at.weekday()])}


def hall_view(site: Site, state: Mapping[str, Any], now_ms: int) -> dict[str, Any]:
    """What the hall screen shows, from the public state at the hall's time `now_ms`."""
    calls = list((state.get(Key.CALLS) or {}).get("recent") or [])
    newest = calls[0] if calls else None
    windows = [w for w in _windows(state) if w.get("state") in WINDOW_STATES and w.get("state") != "closed"]
    return {
        "newest": newest,
        "fresh": newest is not None and now_ms - int(newest.get("at_ms") or 0) < HIGHLIGHT_MS,
        "recent": calls[1:1 + RECENT_N],
        "windows": windows,
        "queues": _queues(site, state),
        "notice": str((state.get(Key.NOTICE) or {}).get("text") or ""),
        "clock": clock_view(site, now_ms),
    }


def window_view(site: Site, state: Mapping[str, Any], n: int, now_ms: int) -> dict[str, Any]:
    """What window n's screen shows."""
    w = dict(state.get(Key.window(n)) or {})
    name = w.get("name")
    if not name and site.config is not None:
        name = next((x.name for x in site.config.windows if x.number == n), "")
    status = w.get("state") if w.get("state") in WINDOW_STATES else "closed"
    staff = w.get("staff") if status != "closed" else None
    pause = w.get("pause") if status == "paused" else None
    return {"window": n, "name": name or "", "state": status, "staff": staff, "ticket": w.get("ticket"),
            "pause_text": t(f"pause.{pause}") if pause else "", "clock": clock_view(site, now_ms),
            "photo": f"/screen/window/{n}/photo?s={staff['staff_no']}" if staff and _photo(site, staff) else ""}


def _photo(site: Site, staff: Mapping[str, Any]) -> Path | None:
    if site.config is None:
        return None
    try:
        photo = site.config.staff_member(str(staff.get("staff_no") or "")).photo
    except KeyError:
        return None
    return photo if photo is not None and photo.is_file() else None


def render_hall(site: Site) -> Render:
    return lambda state, now_ms: render("screen_hall_body.html", v=hall_view(site, state, now_ms))


def render_window(site: Site) -> Callable[[int], Render]:
    return lambda n: (lambda state, now_ms: render("screen_window_body.html", v=window_view(site, state, n, now_ms)))


def _window_numbers(site: Site) -> set[int]:
    return {w.number for w in site.config.windows} if site.config is not None else set()


def routes(site: Site) -> list[Route]:
    feeds = ScreenFeeds(site, render_hall(site), render_window(site))

    def _clock(now_ms: int) -> dict[str, int]:
        offset = local(now_ms, site.config).utcoffset()
        return {"now_ms": now_ms, "tz_min": int(offset.total_seconds() // 60) if offset is not None else 0,
                "highlight_ms": HIGHLIGHT_MS}

    def _texts() -> dict[str, str]:
        return {"weekdays": t("screen.weekdays"), "date": t("screen.date"),
                "offline": t("screen.offline"), "sound": t("screen.sound_off")}

    async def hall(request: Request) -> Response:
        _, state = feeds.source.current()
        now = site.now_ms()
        return page("screen_hall.html", title=t("screen.hall.title"), hall_name=site.hall_name,
                    v=hall_view(site, state, now), **_clock(now), texts=_texts(), script=SCRIPT, style=STYLE,
                    refresh_s=NOSCRIPT_REFRESH_S, events="/screen/events", announce_max_age_ms=ANNOUNCE_MAX_AGE_MS)

    async def window(request: Request) -> Response:
        n = _number(request.path_params["n"])
        if n is None or n not in _window_numbers(site):
            return message(t("screen.window.unknown"), t("screen.window.unknown_text"), status=404, kind="error",
                           hall_name=site.hall_name)
        _, state = feeds.source.current()
        now = site.now_ms()
        return page("screen_window.html", title=t("screen.window.title", n=n), hall_name=site.hall_name,
                    v=window_view(site, state, n, now), **_clock(now), texts=_texts(), script=SCRIPT, style=STYLE,
                    refresh_s=NOSCRIPT_REFRESH_S, events=f"/screen/events?window={n}")

    async def photo(request: Request) -> Response:
        n = _number(request.path_params["n"])
        _, state = feeds.source.current()
        staff = (state.get(Key.window(n)) or {}).get("staff") if n is not None else None
        path = _photo(site, staff) if isinstance(staff, Mapping) else None
        if path is None:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def events(request: Request) -> Response:
        raw = request.query_params.get("window")
        if raw is None:
            feed = feeds.hall
        else:
            n = _number(raw)
            if n is None or n not in _window_numbers(site):
                return Response(status_code=404, headers={"Cache-Control": "no-store"})
            feed = feeds.window(n)
        try:
            feeds.check_room()
        except TooManyStreams:
            return Response(status_code=503, headers={"Retry-After": "5", "Cache-Control": "no-store"})
        return StreamingResponse(feed.stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    return [
        Route("/screen/hall", hall, methods=["GET"]),
        Route("/screen/window/{n}", window, methods=["GET"]),
        Route("/screen/window/{n}/photo", photo, methods=["GET"]),
        Route("/screen/events", events, methods=["GET"]),
    ]


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 4 else None
