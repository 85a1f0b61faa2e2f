"""The 管理 pages (manager or admin role) as one group of routes: staff (`admin_staff_page`),
windows, 事项, tags and the hall (`admin_hall_page`), accounts and the audit log (`admin_audit_page`).
Every change goes through the one writer as `admin.change` (`hall_server.domain.admin`)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from hall_server.web.pages import admin_accounts_page, admin_audit_page, admin_hall_page, admin_lists_page, admin_staff_page, admin_tags_page
from hall_server.web.pages.site import Site

MODULES = (admin_staff_page, admin_lists_page, admin_tags_page, admin_hall_page, admin_audit_page, admin_accounts_page)


def routes(site: Site) -> list[BaseRoute]:
    out: list[BaseRoute] = []
    for module in MODULES:
        out.extend(module.routes(site))
    return out
