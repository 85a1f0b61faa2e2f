"""The hall server's web pages, rendered from Jinja2 templates (`hall_server/web/templates/`,
one per page on `base.html`; `layout` holds the environment): the citizen's QR pages (`qr_page`), the managers' login
(`auth`), live floor (`floor_page`), cases (`cases_page`) and figures with exports
(`figures_page`, `exports`). `routes(backend)` is what `hall_server.web.app` mounts.

| route | who | what |
|---|---|---|
| `GET/POST /r/{token}` | citizen (phone) | rate a finished 办件 from its QR slip; the same link takes the one 追评 |
| `GET /r/{token}/qr.png`, `.svg` | slip printer, kiosk | the QR image of that link |
| `GET/POST /c`, `GET /c/qr.png`, `.svg` | citizen | the hall QR (综合点评, R12): a comment that becomes a case |
| `GET/POST /login`, `POST /logout` | managers | session cookie login |
| `GET /floor`, `/floor/data`, `/floor/events` | manager, viewer | the live floor (HTML, JSON, SSE) |
| `GET /cases`, `/cases/{id}`, `POST /cases/{id}/{action}` | manager (viewer reads) | cases and their forms |
| `GET /figures`, `/figures/export.{csv,xlsx}?table=` | manager, viewer | figures and exports |
| `GET /screen/announce/{event_id}.wav` | hall screen (public) | one call announcement (`announce`) |
| `GET /t/{pub}`, `/t/{pub}/data` | citizen (phone) | one ticket's status from its QR code: people ahead, wait, 请到 N 号窗口 (`ticket_page`) |
| `GET/POST /roster`, `POST /roster/copy`, `GET/POST /roster/leave`, `POST /roster/leave/{id}/cancel` | manager (viewer reads) | 排班 week grid, copy last week, 请销假 (`roster_page`) |
| `/bulletins…`, `/charts…`, `/bigscreen…`, `/public/board`, `/static/…` | see `publication` | 通报, charts, 数据大屏, 公示 |
| `GET /screen/hall`, `/screen/window/{n}`, `/screen/events` | anyone (the hall's TV, window screens) | the public screens, live (`screens`) |
| `/ledger…`, `/patrol…`, `/assessment…` | see `ledger_page`, `patrol_page`, `assessment_page` | 问题台账, 巡查, 考核 (issue 15) |
| `GET /admin`, `/admin/staff…`, `/admin/windows…`, `/admin/services…`, `/admin/tags`, `/admin/hall`, `/admin/audit`, `/admin/audit.xlsx`; POST forms under them | manager, admin | 管理: the hall's configuration (`admin_pages`) |
| `GET /admin/accounts`, `POST /admin/accounts/…` | admin | 管理 → 账号: the web accounts |
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from config.i18n import t
from hall_server.core.backend import Backend
from hall_server.web.pages import admin_pages  # issue 14: 管理
from hall_server.web.pages import announce, auth, cases_page, figures_page, floor_page, qr_page
from hall_server.web.pages import assessment_page, ledger_page, patrol_page  # issue 15: supervision
from hall_server.web.pages import publication  # issue 15: bulletins, charts, big screen, 公示, static files
from hall_server.web.pages import roster_page
from hall_server.web.pages import screens
from hall_server.web.pages import ticket_page
from hall_server.web.pages.layout import message
from hall_server.web.pages.site import Site


def routes(backend: Backend, site: Site | None = None) -> list[BaseRoute]:
    site = site or Site.for_backend(backend)

    async def home(request: Request) -> Response:
        return RedirectResponse("/floor", status_code=303)

    out: list[BaseRoute] = [Route("/", home, methods=["GET"])]
    for module in (qr_page, auth, floor_page, cases_page, figures_page,
                   admin_pages,
                   announce,
                   assessment_page, ledger_page, patrol_page,
                   publication,
                   roster_page,
                   screens,
                   ticket_page,
                   ):
        out.extend(module.routes(site))
    return out


def not_found_page() -> Response:
    return message(t("web.not_found"), t("web.not_found_text"), status=404, kind="error")


def error_page() -> Response:
    return message(t("web.error"), t("web.error_text"), status=500, kind="error")
