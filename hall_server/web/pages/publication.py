"""Issue 15's publication and charts pages in one place, mounted by `pages.routes`:

| route | who | what |
|---|---|---|
| `GET /bulletins`, `/bulletins/{2026-11 or 2026-W48}.{pdf,xlsx}` | manager, viewer | 周通报 / 月通报 (`bulletin_page`) |
| `GET /charts`, `/charts/data` | manager, viewer | ECharts charts and their JSON (`charts_page`) |
| `GET /bigscreen`, `/bigscreen/data` | manager, viewer | 数据大屏, 1920×1080 (`bigscreen_page`) |
| `GET /public/board` | anyone (rate-limited) | 公示: 好评率 and 光荣榜 (`public_board`) |
| `GET /static/vendor/…`, `/static/bulletins/…` | anyone | Apache ECharts (vendored, with its licence) and these pages' CSS and JS |
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hall_server.web.pages import bigscreen_page, bulletin_page, charts_page, public_board
from hall_server.web.pages.layout import STATIC
from hall_server.web.pages.site import Site


def static_routes() -> list[BaseRoute]:
    """The vendored libraries and this area's static files (CSP: script-src and style-src 'self')."""
    return [Mount("/static/vendor", app=StaticFiles(directory=STATIC / "vendor"), name="vendor"),
            Mount("/static/bulletins", app=StaticFiles(directory=STATIC / "bulletins"), name="bulletins-static")]


def routes(site: Site) -> list[BaseRoute]:
    out: list[BaseRoute] = [*static_routes()]
    for module in (bulletin_page, charts_page, bigscreen_page, public_board):
        out.extend(module.routes(site))
    return out
