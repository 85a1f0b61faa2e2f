"""管理 → 大厅设置: the opening sessions (hall hours), the thresholds, and the hall screen's notice
line (hall.toml `[screen] notice`, shown when the configuration has a `[screen]` section).

| route | what |
|---|---|
| `GET/POST /admin/hall` | the form; saving republishes every key that shows them (and `notice`) |
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from config.schema import Thresholds
from hall_server.web.pages.admin_common import Errors, check_int, check_line, clean_text, file_doc, refused_text, send_change, shell
from hall_server.web.pages.admin_upload import admin_guard
from hall_server.web.pages.auth import Session
from hall_server.web.pages.layout import page
from hall_server.web.pages.site import Site

HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
SESSION_ROWS = 2                 # 上午 and 下午 (hall.sessions holds at most two: config.read_hours)
LIMITS = {"wait_alert_min": (1, 480), "pause_limit_min": (1, 480), "recall_cap": (1, 20), "late_grace_min": (0, 120),
          "bad_alert_window_min": (5, 1440), "bad_alert_percent": (1, 100), "bad_alert_min_count": (1, 1000),
          "default_handle_min": (1, 240)}
THRESHOLDS = tuple(f.name for f in fields(Thresholds))


def has_notice(site: Site) -> bool:
    """Whether this build's configuration knows the hall screen's `[screen] notice`."""
    return hasattr(getattr(site.config, "hall", None), "screen")


def routes(site: Site) -> list[Route]:
    guard = admin_guard(site)

    def values() -> dict[str, Any]:
        doc = file_doc(site, "hall.toml")
        sessions = list(doc.get("hall", {}).get("sessions", []))
        th = doc.get("thresholds", {})
        defaults = Thresholds()
        v: dict[str, Any] = {name: str(th.get(name, getattr(defaults, name))) for name in THRESHOLDS}
        for i in range(SESSION_ROWS):
            s = sessions[i] if i < len(sessions) else {}
            v[f"start{i}"], v[f"end{i}"] = s.get("start", ""), s.get("end", "")
        v["notice"] = str(doc.get("screen", {}).get("notice", ""))
        return v

    def hall_page(s: Session, v: dict[str, Any], errors: Errors, notice: str = "", error: str = "",
                  status: int = 200) -> Response:
        return page("admin_hall.html", status=status, title=t("admin.hall.title"), **shell(site, s, "hall"), v=v,
                    errors=errors, notice=notice, error=error, rows=range(SESSION_ROWS), thresholds=THRESHOLDS,
                    limits=LIMITS, with_notice=has_notice(site))

    @guard
    async def hall_get(request: Request, s: Session) -> Response:
        return hall_page(s, values(), {}, notice=t("admin.done.saved") if request.query_params.get("done") else "")

    @guard
    async def hall_post(request: Request, s: Session) -> Response:
        form = request.state.form
        v = {k: clean_text(form, k) for k in values()}
        errors: Errors = {}
        sessions = []
        for i in range(SESSION_ROWS):
            start, end = v[f"start{i}"], v[f"end{i}"]
            if not start and not end:
                continue
            for name, value in ((f"start{i}", start), (f"end{i}", end)):
                if not HHMM.fullmatch(value):
                    errors[name] = t("admin.err.hhmm")
            if f"start{i}" not in errors and f"end{i}" not in errors:
                if end <= start:
                    errors[f"end{i}"] = t("admin.err.end_after_start")
                elif sessions and start < sessions[-1]["end"]:
                    errors[f"start{i}"] = t("admin.err.session_order")
            sessions.append({"start": start, "end": end})
        if not sessions:
            errors["start0"] = t("admin.err.required")
        th = {name: check_int(errors, name, v[name], *LIMITS[name]) for name in THRESHOLDS}
        with_notice = has_notice(site)
        if with_notice:
            check_line(errors, "notice", v["notice"], 200, required=False)
        if errors:
            return hall_page(s, v, errors, status=422)
        doc = file_doc(site, "hall.toml")
        doc["hall"] = {**doc.get("hall", {}), "sessions": sessions}
        doc["thresholds"] = {**doc.get("thresholds", {}), **th}
        if with_notice:
            doc["screen"] = {**doc.get("screen", {}), "notice": v["notice"]}
        a = await send_change(site, s, "hall.edit", "hall.toml", [("file", "hall.toml", doc)])
        if not a.ok:
            return hall_page(s, v, {}, error=refused_text(a), status=409)
        return RedirectResponse("/admin/hall?done=1", status_code=303)

    return [Route("/admin/hall", hall_get, methods=["GET"]), Route("/admin/hall", hall_post, methods=["POST"])]
