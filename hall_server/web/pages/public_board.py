"""The public 公示 (`/public/board`, no login): for the hall screen and the website, this month's
好评率 of the hall, of each department and of each window (how many 办件 and ratings, nothing about
any one rating), and the 光荣榜 of last month's assessment (优质服务窗口, 优质服务标兵). No citizen
data, no 差评 counts, no case. Rate-limited like every public read (`qr_page.limited`, "read").
`?month=YYYY-MM` shows another month (and the 光荣榜 of the month before it).
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import bulletins
from hall_server.domain.errors import BadRequest
from hall_server.domain.figures import month_days
from hall_server.domain.hours import local
from hall_server.web.pages.layout import message, page, static_script
from hall_server.web.pages.qr_page import limited
from hall_server.web.pages.site import Site

SCRIPT = static_script("bulletins/reload.js")     # reloads the board every few minutes (the hall screen)


def previous_month(month: str) -> str:
    first = date.fromisoformat(month + "-01")
    return (first - timedelta(days=1)).strftime("%Y-%m")


def routes(site: Site) -> list[Route]:
    async def board(request: Request) -> Response:
        if site.config is None:
            return message(t("bulletins.board.title"), t("bulletins.none"), hall_name=site.hall_name)
        config = site.config
        today = local(site.now_ms(), config).date()
        month = request.query_params.get("month") or today.strftime("%Y-%m")
        try:
            month_days(month)
        except BadRequest:
            return message(t("bulletins.bad_period"), t("bulletins.bad_period_text"), status=400,
                           hall_name=site.hall_name, kind="error")
        data = await asyncio.to_thread(
            lambda: bulletins.public_board(site.backend.reader(), config, month, previous_month(month)))
        y, m = month.split("-")
        hy, hm = data["honour_month"].split("-")
        top = max((w["good_rate"] or 0 for w in data["windows"]), default=0)
        return page("public_board.html", title=t("bulletins.board.title"), hall_name=site.hall_name, b=data,
                    month_title=t("bulletins.board.month", year=int(y), month=int(m)),
                    honour_title=t("bulletins.board.honour", year=int(hy), month=int(hm)),
                    top=top, script=SCRIPT)

    return [Route("/public/board", limited(site, "read", board), methods=["GET"])]
