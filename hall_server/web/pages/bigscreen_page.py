"""数据大屏 (`/bigscreen`): a 1920×1080 page for the screen in the manager's office — today's flow,
waits, ratings, the floor, alerts, rankings — live: `static/bulletins/bigscreen.js` polls
`/bigscreen/data` (JSON, `hall_server.domain.bigscreen.build` over the floor's one snapshot) every
`POLL_S` seconds and redraws with ECharts. Managers and viewers (rating counts are not public, R6).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import bigscreen
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.floor_page import alert_text
from hall_server.web.pages.layout import page, static_script
from hall_server.web.pages.site import Site

POLL_S = 5
SCRIPT = static_script("bulletins/bigscreen.js")
LABELS = ("taken", "finished", "mean_wait", "levels", "good_rate", "served", "min", "none")


def screen_data(site: Site) -> dict[str, Any]:
    snap = site.floor.current()
    data = bigscreen.build(site.backend.reader(), site.config, snap)
    data["alerts"] = [{"level": a.level, "text": alert_text(site, a)} for a in snap.alerts][:12]
    data["states"] = {k: t(f"bulletins.big.state.{k}") for k in ("serving", "calling", "idle", "paused", "closed")}
    data["levels_names"] = [t(f"level.{n}") for n in (5, 4, 3, 2, 1)]
    data["labels"] = {k: t(f"bulletins.big.{k}") for k in LABELS}
    data["clock"] = site.local_text(snap.at_ms, "%Y-%m-%d %H:%M")
    return data


def routes(site: Site) -> list[Route]:
    @guard(site)
    async def big(request: Request, s: Session) -> Response:
        return page("bigscreen.html", title=t("bulletins.nav.bigscreen"), hall_name=site.hall_name, poll_s=POLL_S,
                    script=SCRIPT)

    @guard(site)
    async def data(request: Request, s: Session) -> Response:
        body = await asyncio.to_thread(screen_data, site)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return [
        Route("/bigscreen", big, methods=["GET"]),
        Route("/bigscreen/data", data, methods=["GET"]),
    ]
