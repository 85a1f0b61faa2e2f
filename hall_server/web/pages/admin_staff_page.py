"""管理 → 人员: window staff listed, added, edited, disabled (never deleted), a photo uploaded, a
PIN set, a lock-out ended. Manager or admin role.

| route | what |
|---|---|
| `GET /admin` | → `/admin/staff` |
| `GET /admin/staff` | the list: name, department, stars, disabled, locked (an alert at the top) |
| `GET/POST /admin/staff/new` | add a clerk (multipart: an optional photo) |
| `GET/POST /admin/staff/{staff_no}` | edit; a new PIN is optional |
| `POST /admin/staff/{staff_no}/active` | `active=0` disables, `active=1` enables |
| `POST /admin/staff/{staff_no}/unlock` | end a lock-out (too many wrong PINs) |
| `POST /admin/staff/{staff_no}/pin_reset` | a one-time PIN, shown once; the clerk sets their own at the next sign-in |
| `GET /admin/staff/{staff_no}/photo` | the stored photo |
| `GET /staff-photos/{file}` | anyone (the evaluators): the photo a staff card names (`window/<n>.staff.photo`), only files the hall's staff list names |
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from config.pins import hash_pin
from config.read_lists import KEYPAD_TEXT_BYTES
from hall_server.domain.floor import PHOTO_ROUTE
from hall_server.web.pages.admin_common import (
    Errors, check_int, check_line, clean_text, find, items, node_of, refused_text, send_change, shell,
)
from hall_server.web.pages.admin_upload import PhotoError, admin_guard, store_photo
from hall_server.web.pages.auth import Session
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.site import Site
from hallnet.vocabulary import Msg

STAFF_NO = re.compile(r"[!-~]{1,8}")
PIN = re.compile(r"[0-9]{4,12}")
ONE_TIME_DIGITS = 6
FIELDS = ("staff_no", "name", "department", "stars", "promise")


def locks(site: Site) -> dict[str, int]:
    """工号 → locked until (hall ms), for the lock-outs still running."""
    now = site.now_ms()
    return {r[0]: r[1] for r in site.backend.reader().execute(
        "SELECT staff_no, locked_until_ms FROM staff_locks WHERE locked_until_ms > ?", [now])}


def routes(site: Site) -> list[Route]:
    guard = admin_guard(site)

    def staff_rows() -> list[dict[str, Any]]:
        return items(site, "staff.toml", "staff")

    def list_page(s: Session, notice: str = "", error: str = "", status: int = 200) -> Response:
        locked = locks(site)
        rows = [{**r, "active": r.get("active", True), "locked_until": site.local_text(locked.get(r["staff_no"]), "%H:%M")
                 if r["staff_no"] in locked else ""} for r in staff_rows()]
        return page("admin_staff.html", status=status, title=t("admin.staff.title"), **shell(site, s, "staff"),
                    rows=rows, notice=notice, error=error,
                    locked=[r for r in rows if r["locked_until"]])

    def form_page(s: Session, values: dict[str, Any], errors: Errors, new: bool, error: str = "",
                  status: int = 200, one_time_pin: str = "") -> Response:
        title = t("admin.staff.add") if new else t("admin.staff.edit", name=values.get("name", ""))
        return page("admin_staff_form.html", status=status, title=title, **shell(site, s, "staff"), v=values,
                    errors=errors, new=new, error=error, one_time_pin=one_time_pin,
                    action="/admin/staff/new" if new else f"/admin/staff/{values.get('staff_no', '')}")

    @guard
    async def index(request: Request, s: Session) -> Response:
        return RedirectResponse("/admin/staff", status_code=303)

    @guard
    async def staff_list(request: Request, s: Session) -> Response:
        done = request.query_params.get("done", "")
        return list_page(s, notice=t(f"admin.done.{done}") if done in DONE else "")

    @guard
    async def new_get(request: Request, s: Session) -> Response:
        return form_page(s, {"stars": 3}, {}, new=True)

    @guard
    async def edit_get(request: Request, s: Session) -> Response:
        doc = find(staff_rows(), "staff_no", request.path_params["staff_no"])
        if doc is None:
            return _unknown(site)
        return form_page(s, doc, {}, new=False)

    async def save(request: Request, s: Session, new: bool) -> Response:
        form, files = request.state.form, request.state.files
        rows = staff_rows()
        old = None if new else find(rows, "staff_no", request.path_params["staff_no"])
        if not new and old is None:
            return _unknown(site)
        values = {k: clean_text(form, k) for k in FIELDS}
        if not new:
            values["staff_no"] = old["staff_no"]  # type: ignore[index]
        errors: Errors = {}
        staff_no = values["staff_no"]
        if new:
            if not STAFF_NO.fullmatch(staff_no):
                errors["staff_no"] = t("admin.err.staff_no")
            elif find(rows, "staff_no", staff_no) is not None:
                errors["staff_no"] = t("admin.err.staff_no_taken")
        name = check_line(errors, "name", values["name"], 32)
        department = check_line(errors, "department", values["department"], 64)
        if "name" not in errors and "department" not in errors:
            size = len(name.encode("gb18030", "replace")) + len(department.encode("gb18030", "replace"))
            if size > KEYPAD_TEXT_BYTES:
                errors["name"] = t("admin.err.keypad_bytes", n=KEYPAD_TEXT_BYTES)
        stars = check_int(errors, "stars", values["stars"], 0, 5)
        promise = check_line(errors, "promise", values["promise"], 100, required=False)
        pin = clean_text(form, "pin") if new else ""
        if new and not PIN.fullmatch(pin):
            errors["pin"] = t("admin.err.pin")
        photo_data = files.get("photo")
        if errors:
            if photo_data:
                errors.setdefault("photo", t("admin.photo.again"))
            return form_page(s, values, errors, new, status=422)
        doc: dict[str, Any] = dict(old or {})
        doc.update({"staff_no": staff_no, "name": name, "department": department, "stars": stars,
                    "promise": promise})
        if pin:
            doc["pin_hash"] = hash_pin(pin)
        if photo_data:
            config = site.config
            try:
                doc["photo"] = store_photo(photo_data, config.folder, staff_no)  # type: ignore[union-attr]
            except PhotoError as exc:
                return form_page(s, values, {"photo": t(str(exc))}, new, status=422)
        a = await send_change(site, s, "staff.add" if new else "staff.edit", staff_no, [("staff", staff_no, doc)])
        if not a.ok:
            return form_page(s, values, {}, new, error=refused_text(a), status=409)
        return RedirectResponse(f"/admin/staff?done={'added' if new else 'saved'}", status_code=303)

    @guard
    async def new_post(request: Request, s: Session) -> Response:
        return await save(request, s, new=True)

    @guard
    async def edit_post(request: Request, s: Session) -> Response:
        return await save(request, s, new=False)

    @guard
    async def active_post(request: Request, s: Session) -> Response:
        doc = find(staff_rows(), "staff_no", request.path_params["staff_no"])
        if doc is None:
            return _unknown(site)
        enable = clean_text(request.state.form, "active") == "1"
        a = await send_change(site, s, "staff.enable" if enable else "staff.disable", doc["staff_no"],
                              [("staff", doc["staff_no"], {**doc, "active": enable})])
        if not a.ok:
            return list_page(s, error=refused_text(a), status=409)
        return RedirectResponse(f"/admin/staff?done={'enabled' if enable else 'disabled'}", status_code=303)

    @guard
    async def unlock_post(request: Request, s: Session) -> Response:
        staff_no = request.path_params["staff_no"]
        if find(staff_rows(), "staff_no", staff_no) is None:
            return _unknown(site)
        a = await site.backend.command(Msg.ADMIN_UNLOCK, {"who": s.user.name, "staff_no": staff_no}, node_of(s))
        if not a.ok:
            return list_page(s, error=refused_text(a), status=409)
        return RedirectResponse("/admin/staff?done=unlocked", status_code=303)

    @guard
    async def pin_reset_post(request: Request, s: Session) -> Response:
        doc = find(staff_rows(), "staff_no", request.path_params["staff_no"])
        if doc is None:
            return _unknown(site)
        once = f"{secrets.randbelow(10 ** ONE_TIME_DIGITS):0{ONE_TIME_DIGITS}d}"
        a = await site.backend.command(Msg.ADMIN_PIN_RESET, {"who": s.user.name, "staff_no": doc["staff_no"],
                                                             "pin_hash": hash_pin(once)}, node_of(s))
        if not a.ok:
            return form_page(s, doc, {}, new=False, error=refused_text(a), status=409)
        return form_page(s, doc, {}, new=False, one_time_pin=once)

    @guard
    async def photo_get(request: Request, s: Session) -> Response:
        config = site.config
        try:
            member = config.staff_member(request.path_params["staff_no"])  # type: ignore[union-attr]
        except KeyError:
            return _unknown(site)
        if member.photo is None or not member.photo.is_file():
            return _unknown(site)
        return FileResponse(member.photo, headers={"Cache-Control": "private, max-age=60"})

    async def public_photo(request: Request) -> Response:
        """亮身份: the photo an evaluator shows beside the name. Only a file the staff list names."""
        name, config = request.path_params["file"], site.config
        for member in (config.staff if config is not None else ()):
            if member.photo is not None and member.photo.name == name and member.photo.is_file():
                return FileResponse(member.photo, headers={"Cache-Control": "public, max-age=86400"})
        return _unknown(site)

    return [
        Route(f"{PHOTO_ROUTE}{{file}}", public_photo, methods=["GET"]),
        Route("/admin", index, methods=["GET"]),
        Route("/admin/staff", staff_list, methods=["GET"]),
        Route("/admin/staff/new", new_get, methods=["GET"]),
        Route("/admin/staff/new", new_post, methods=["POST"]),
        Route("/admin/staff/{staff_no}", edit_get, methods=["GET"]),
        Route("/admin/staff/{staff_no}", edit_post, methods=["POST"]),
        Route("/admin/staff/{staff_no}/active", active_post, methods=["POST"]),
        Route("/admin/staff/{staff_no}/unlock", unlock_post, methods=["POST"]),
        Route("/admin/staff/{staff_no}/pin_reset", pin_reset_post, methods=["POST"]),
        Route("/admin/staff/{staff_no}/photo", photo_get, methods=["GET"]),
    ]


DONE = ("added", "saved", "enabled", "disabled", "unlocked")


def _unknown(site: Site) -> Response:
    return message(t("admin.unknown"), t("admin.unknown_text"), status=404, hall_name=site.hall_name, kind="error")
