"""Charts (`/charts`): the daily trend (by hour for one day, by day up to a quarter, by week beyond),
the 差评 reasons, the hour-of-day × weekday heatmap and the windows ranked by 好评率, for 今日 / 本周 /
本月 / 自定义 ranges. Drawn by Apache ECharts from the project's static files
(`/static/vendor/echarts/echarts.min.js`) and `static/bulletins/charts.js` (inlined, allowed by its
hash); the data comes from `/charts/data` (JSON, logged-in managers and viewers). Bad values are
red: a day or a window whose 好评率 is below `GOOD_RATE_FLOOR`, 差评 bars always.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import bulletins, figures
from hall_server.domain.errors import BadRequest
from hall_server.domain.hours import local
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.layout import page, static_script
from hall_server.web.pages.site import Site

GOOD_RATE_FLOOR = 0.95          # a 好评率 below this is drawn red (the usual target of the seed documents)
RANGES = ("today", "week", "month", "custom")
WEEKDAYS = "一二三四五六日"
SCRIPT = static_script("bulletins/charts.js")


def _rate(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 1)


def span(today: date, kind: str, start: str = "", end: str = "") -> tuple[str, str]:
    """The (first, last) local day of a range; BadRequest for a bad custom range."""
    if kind == "today":
        return today.isoformat(), today.isoformat()
    if kind == "week":
        return (today - timedelta(days=today.weekday())).isoformat(), today.isoformat()
    if kind == "month":
        return today.replace(day=1).isoformat(), today.isoformat()
    if kind == "custom":
        figures.check_days(start, end)
        return start, end
    raise BadRequest(f"range must be one of {RANGES}")


def chart_data(site: Site, start: str, end: str) -> dict[str, Any]:
    """What the four charts draw, with the Chinese labels they need."""
    db, config = site.backend.reader(), site.config
    n_days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
    by = "hour" if n_days == 1 else "day" if n_days <= 92 else "week"
    trend = figures.report(db, config, start, end, by)
    x = [f"{int(r['key']):02d}:00" if by == "hour" else str(r["key"])[5:] if by == "day" else str(r["key"]) for r in trend]
    a_ms, b_ms = figures._ms_range(config, start, end)
    heat = figures.heatmap(db, start, end)
    cells = [[hi, wd, heat["finished"][wd][hi]] for wd in range(7) for hi in range(len(heat["hours"]))]
    names = {w.number: w.name for w in config.windows} if config is not None else {}
    ranking = [r for r in figures.report(db, config, start, end, "window") if r["rated"]]
    ranking.sort(key=lambda r: (r["good_rate"] or 0, -r["rated"]))          # worst first: the chart puts it at the bottom
    return {
        "start": start, "end": end, "by": by, "floor": _rate(GOOD_RATE_FLOOR),
        "labels": {k: t(f"bulletins.chart.{k}") for k in (
            "finished", "bad", "good_rate", "trend", "reasons", "heatmap", "ranking", "floor", "none", "count")},
        "trend": {"x": x, "finished": [r["finished"] for r in trend], "bad": [r["bad"] for r in trend],
                  "good_rate": [_rate(r["good_rate"]) for r in trend]},
        "reasons": [{"name": r["name"], "value": r["count"]} for r in bulletins.reasons(db, config, a_ms, b_ms)],
        "heatmap": {"hours": [f"{h:02d}" for h in heat["hours"]],
                    "weekdays": [t("web.fig.weekday", d=d) for d in WEEKDAYS], "cells": cells,
                    "max": max((c[2] for c in cells), default=0)},
        "ranking": [{"name": names.get(r["key"], str(r["key"])), "good_rate": _rate(r["good_rate"]),
                     "rated": r["rated"], "bad": r["bad"]} for r in ranking],
    }


def routes(site: Site) -> list[Route]:
    def today() -> date:
        return local(site.now_ms(), site.config).date()

    @guard(site)
    async def charts(request: Request, s: Session) -> Response:
        q = request.query_params
        kind = q.get("range", "month")
        kind = kind if kind in RANGES else "month"
        try:
            start, end = span(today(), kind, q.get("start", ""), q.get("end", ""))
        except BadRequest:
            kind, (start, end) = "month", span(today(), "month")
        return page("charts.html", title=t("bulletins.nav.charts"), hall_name=site.hall_name, user=s.user,
                    csrf=s.csrf, active="charts", kind=kind, start=start, end=end, ranges=RANGES, script=SCRIPT)

    @guard(site)
    async def data(request: Request, s: Session) -> Response:
        q = request.query_params
        try:
            start, end = span(today(), q.get("range", "month"), q.get("start", ""), q.get("end", ""))
        except BadRequest:
            return JSONResponse({"error": "bad_request", "message": t("bulletins.bad_range")}, status_code=400)
        body = await asyncio.to_thread(chart_data, site, start, end)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return [
        Route("/charts", charts, methods=["GET"]),
        Route("/charts/data", data, methods=["GET"]),
    ]
