"""周通报 / 月通报 (`/bulletins`): pick a month or a week, download it as PDF or XLSX
(`/bulletins/<period>.<pdf|xlsx>`, period `2026-11` or `2026-W48`; the file is named
月通报-2026-11.pdf with an ASCII fallback in the Content-Disposition). Managers and viewers.
The PDF is made on a worker thread (WeasyPrint takes about a second).
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import bulletins
from hall_server.domain.hours import local
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.bulletin_files import BulletinRenderError, disposition, period_title, to_pdf, to_xlsx
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.site import Site

MEDIA = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def routes(site: Site) -> list[Route]:
    def refuse(title_key: str, text_key: str, status: int) -> Response:
        return message(t(title_key), t(text_key), status=status, hall_name=site.hall_name, kind="error")

    @guard(site)
    async def index(request: Request, s: Session) -> Response:
        q = request.query_params
        if q.get("month") or q.get("week"):           # the form's choice: straight to the file
            key = q.get("month") or q.get("week") or ""
            fmt = q.get("fmt", "pdf")
            try:
                bulletins.period(key)
            except bulletins.BadPeriod:
                return refuse("bulletins.bad_period", "bulletins.bad_period_text", 400)
            return RedirectResponse(f"/bulletins/{key}.{'xlsx' if fmt == 'xlsx' else 'pdf'}", status_code=303)
        today = local(site.now_ms(), site.config).date()
        month, week = bulletins.current_keys(today)
        recent = [bulletins.period(month), bulletins.period(week)]
        return page("bulletins.html", title=t("bulletins.nav.bulletins"), hall_name=site.hall_name, user=s.user,
                    csrf=s.csrf, active="bulletins", month=month, week=week,
                    recent=[(p.key, period_title(p)) for p in recent])

    @guard(site)
    async def download(request: Request, s: Session) -> Response:
        key, fmt = request.path_params["key"], request.path_params["fmt"]
        if fmt not in MEDIA or site.config is None:
            return refuse("bulletins.bad_period", "bulletins.bad_period_text", 404)
        try:
            p = bulletins.period(key)
        except bulletins.BadPeriod:
            return refuse("bulletins.bad_period", "bulletins.bad_period_text", 400)
        config, now = site.config, site.now_ms()

        def make() -> bytes:
            data = bulletins.build(site.backend.reader(), config, p, now)
            return to_pdf(config, data) if fmt == "pdf" else to_xlsx(config, data)

        try:
            body = await asyncio.to_thread(make)
        except BulletinRenderError:
            return refuse("bulletins.render_failed", "bulletins.render_failed_text", 500)
        return Response(body, media_type=MEDIA[fmt],
                        headers={"Content-Disposition": disposition(p, fmt), "Cache-Control": "no-store"})

    return [
        Route("/bulletins", index, methods=["GET"]),
        Route("/bulletins/{key:str}.{fmt:str}", download, methods=["GET"]),
    ]
