"""管理 → 窗口 and 事项: windows (name, categories, open or closed, evaluator, keypad, printer) and
事项 (code, name, category, promised time, department). Manager or admin role.

| route | what |
|---|---|
| `GET /admin/windows`, `GET/POST /admin/windows/{n}` | the windows; edit one (closing it: `open` unticked) |
| `GET /admin/services`, `GET/POST /admin/services/new`, `GET/POST /admin/services/{code}` | the 事项; add or edit one |
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from config.reader import CODE
from hall_server.web.pages.admin_common import (
    Errors, check_int, check_line, clean_text, find, items, refused_text, send_change, shell,
)
from hall_server.web.pages.admin_upload import admin_guard
from hall_server.web.pages.auth import Session
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.site import Site

PORT = re.compile(r"[!-~]{1,200}")
DONE = ("saved", "added")


def routes(site: Site) -> list[Route]:
    guard = admin_guard(site)

    def categories() -> list[dict[str, Any]]:
        return items(site, "services.toml", "categories")

    def unknown() -> Response:
        return message(t("admin.unknown"), t("admin.unknown_text"), status=404, hall_name=site.hall_name,
                       kind="error")

    # --- windows ------------------------------------------------------------------------------

    def window_form(s: Session, v: dict[str, Any], errors: Errors, error: str = "", status: int = 200) -> Response:
        return page("admin_window_form.html", status=status, title=t("admin.window.edit", n=v["number"]),
                    **shell(site, s, "windows"), v=v, errors=errors, error=error, categories=categories())

    @guard
    async def windows(request: Request, s: Session) -> Response:
        done = request.query_params.get("done", "")
        names = {c["code"]: c["name"] for c in categories()}
        rows = [{**w, "open": w.get("open", True), "kiosk": w.get("kiosk", True),
                 "category_names": "、".join(names.get(c, c) for c in w.get("categories", []))}
                for w in items(site, "windows.toml", "windows")]
        return page("admin_windows.html", title=t("admin.window.title"), **shell(site, s, "windows"), rows=rows,
                    notice=t(f"admin.done.{done}") if done in DONE else "")

    @guard
    async def window_get(request: Request, s: Session) -> Response:
        w = find(items(site, "windows.toml", "windows"), "number", request.path_params["n"])
        return unknown() if w is None else window_form(s, _window_values(w), {})

    @guard
    async def window_post(request: Request, s: Session) -> Response:
        old = find(items(site, "windows.toml", "windows"), "number", request.path_params["n"])
        if old is None:
            return unknown()
        form = request.state.form
        errors: Errors = {}
        known = [c["code"] for c in categories()]
        chosen = [c for c in form.get("categories", []) if c in known]
        v = {"number": old["number"], "name": clean_text(form, "name"), "categories": chosen,
             "open": clean_text(form, "open") == "1", "kiosk": clean_text(form, "kiosk") == "1",
             "keypad_port": clean_text(form, "keypad_port"), "keypad_address": clean_text(form, "keypad_address"),
             "printer_port": clean_text(form, "printer_port")}
        check_line(errors, "name", v["name"], 32)
        if not chosen:
            errors["categories"] = t("admin.err.categories")
        doc: dict[str, Any] = {k: val for k, val in old.items() if k not in ("keypad", "printer")}
        doc.update({"name": v["name"], "categories": chosen, "kiosk": v["kiosk"], "open": v["open"]})
        if v["keypad_port"]:
            if not PORT.fullmatch(v["keypad_port"]):
                errors["keypad_port"] = t("admin.err.port")
            address = check_int(errors, "keypad_address", v["keypad_address"], 1, 32)
            doc["keypad"] = {**(old.get("keypad") or {}), "port": v["keypad_port"], "address": address}
        if v["printer_port"]:
            if not PORT.fullmatch(v["printer_port"]):
                errors["printer_port"] = t("admin.err.port")
            doc["printer"] = {**(old.get("printer") or {}), "port": v["printer_port"]}
        if errors:
            return window_form(s, v, errors, status=422)
        what = "window.close" if old.get("open", True) and not v["open"] else (
            "window.open" if not old.get("open", True) and v["open"] else "window.edit")
        a = await send_change(site, s, what, str(old["number"]), [("window", str(old["number"]), doc)])
        if not a.ok:
            return window_form(s, v, {}, error=refused_text(a), status=409)
        return RedirectResponse("/admin/windows?done=saved", status_code=303)

    # --- 事项 ---------------------------------------------------------------------------------

    def service_form(s: Session, v: dict[str, Any], errors: Errors, new: bool, error: str = "",
                     status: int = 200) -> Response:
        return page("admin_service_form.html", status=status,
                    title=t("admin.service.add") if new else t("admin.service.edit", name=v.get("name", "")),
                    **shell(site, s, "services"), v=v, errors=errors, error=error, new=new, categories=categories(),
                    action="/admin/services/new" if new else f"/admin/services/{v['code']}")

    @guard
    async def services(request: Request, s: Session) -> Response:
        done = request.query_params.get("done", "")
        names = {c["code"]: c["name"] for c in categories()}
        rows = [{**x, "category_name": names.get(x.get("category", ""), "")}
                for x in items(site, "services.toml", "services")]
        return page("admin_services.html", title=t("admin.service.title"), **shell(site, s, "services"), rows=rows,
                    notice=t(f"admin.done.{done}") if done in DONE else "")

    @guard
    async def service_new(request: Request, s: Session) -> Response:
        return service_form(s, {"promised_min": 20}, {}, new=True)

    @guard
    async def service_get(request: Request, s: Session) -> Response:
        x = find(items(site, "services.toml", "services"), "code", request.path_params["code"])
        return unknown() if x is None else service_form(s, x, {}, new=False)

    async def service_save(request: Request, s: Session, new: bool) -> Response:
        rows = items(site, "services.toml", "services")
        old = None if new else find(rows, "code", request.path_params["code"])
        if not new and old is None:
            return unknown()
        form = request.state.form
        v = {k: clean_text(form, k) for k in ("code", "name", "category", "promised_min", "department")}
        if old is not None:
            v["code"] = old["code"]
        errors: Errors = {}
        if new:
            if not CODE.fullmatch(v["code"]):
                errors["code"] = t("admin.err.service_code")
            elif find(rows, "code", v["code"]) is not None:
                errors["code"] = t("admin.err.service_code_taken")
        check_line(errors, "name", v["name"], 64)
        if v["category"] not in {c["code"] for c in categories()}:
            errors["category"] = t("admin.err.required")
        minutes = check_int(errors, "promised_min", v["promised_min"], 1, 1440)
        check_line(errors, "department", v["department"], 64, required=False)
        if errors:
            return service_form(s, v, errors, new, status=422)
        doc = {**(old or {}), "code": v["code"], "name": v["name"], "category": v["category"],
               "promised_min": minutes, "department": v["department"]}
        a = await send_change(site, s, "service.add" if new else "service.edit", v["code"],
                              [("service", v["code"], doc)])
        if not a.ok:
            return service_form(s, v, {}, new, error=refused_text(a), status=409)
        return RedirectResponse(f"/admin/services?done={'added' if new else 'saved'}", status_code=303)

    @guard
    async def service_new_post(request: Request, s: Session) -> Response:
        return await service_save(request, s, new=True)

    @guard
    async def service_post(request: Request, s: Session) -> Response:
        return await service_save(request, s, new=False)

    return [
        Route("/admin/windows", windows, methods=["GET"]),
        Route("/admin/windows/{n:int}", window_get, methods=["GET"]),
        Route("/admin/windows/{n:int}", window_post, methods=["POST"]),
        Route("/admin/services", services, methods=["GET"]),
        Route("/admin/services/new", service_new, methods=["GET"]),
        Route("/admin/services/new", service_new_post, methods=["POST"]),
        Route("/admin/services/{code}", service_get, methods=["GET"]),
        Route("/admin/services/{code}", service_post, methods=["POST"]),
    ]


def _window_values(w: dict[str, Any]) -> dict[str, Any]:
    keypad, printer = w.get("keypad") or {}, w.get("printer") or {}
    return {"number": w["number"], "name": w.get("name", ""), "categories": list(w.get("categories", [])),
            "open": w.get("open", True), "kiosk": w.get("kiosk", True), "keypad_port": keypad.get("port", ""),
            "keypad_address": str(keypad.get("address", "")), "printer_port": printer.get("port", "")}
