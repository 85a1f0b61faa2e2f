"""Patrols (`/patrol`): the duty officer's phone page (390 px first) for 日巡查 / 明察暗访 / 模拟办事.

| route | who | what |
|---|---|---|
| `GET /patrol` | manager, inspector | step 1: the windows with who is on duty now (the floor), or the whole hall |
| `GET /patrol?window=N` (`window=0`: the whole hall) | manager, inspector | step 2: the form, the staff on duty filled in |
| `POST /patrol` (multipart, CSRF) | manager, inspector | record it (`patrol.record`); photos stored first (`patrol_photos`) |
| `GET /patrol/photos/{name}` | manager | a stored photo (resized, no EXIF) |

Works without JavaScript. A refused form comes back with everything typed kept (photos must be
chosen again: a browser never refills a file field) and a Chinese message. Photos of a refused
patrol are deleted again.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import patrols
from hall_server.web.pages.auth import Session, guard, same_origin, session_of
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.patrol_photos import (
    PHOTO_DIR, PhotoError, Upload, UploadError, photo_path, read_multipart, store_photo,
)
from hall_server.web.pages.site import Site, first
from hallnet.vocabulary import Msg, NodeKind, node_id

PATROL_ROLES = ("manager", "inspector")
FORM_SLACK_BYTES = 256 * 1024


def routes(site: Site) -> list[Route]:
    def shell(s: Session) -> dict[str, Any]:
        return {"hall_name": site.hall_name, "user": s.user, "csrf": s.csrf, "active": "patrol"}

    def forbidden() -> Response:
        return message(t("web.forbidden"), t("web.forbidden_text"), status=403, hall_name=site.hall_name, kind="error")

    def windows_on_duty() -> list[dict[str, Any]]:
        db = site.backend.reader()
        out = []
        for w in site.config.windows if site.config is not None else ():
            staff_no = patrols.on_duty(db, w.number)
            name = ""
            if staff_no:
                try:
                    name = site.config.staff_member(staff_no).name
                except KeyError:
                    name = staff_no
            out.append({"number": w.number, "name": w.name, "staff_no": staff_no or "", "staff": name})
        return out

    def form_page(s: Session, window: int | None, error: str = "", kept: dict[str, Any] | None = None,
                  status: int = 200, done: str = "") -> Response:
        config = site.config
        assert config is not None
        duty = windows_on_duty()
        chosen = next((w for w in duty if w["number"] == window), None) if window else None
        kept = kept or {}
        recent = patrols.recent(site.backend.reader(), 10) if s.user.role == "manager" else []
        return page("patrol.html", status=status, title=t("patrol.title"), narrow=True, **shell(s),
                    step=1 if window is None else 2, windows=duty, window=window or 0, chosen=chosen,
                    staff=[(m.staff_no, m.name) for m in config.staff],
                    staff_no=kept.get("staff_no", chosen["staff_no"] if chosen else ""),
                    findings=config.hall.patrol.findings, kept=kept, error=error, done=done,
                    photos_max=config.hall.patrol.photos_max, photo_max_mb=config.hall.patrol.photo_max_mb,
                    recent=[_recent_view(site, p) for p in recent])

    @guard(site)
    async def patrol_get(request: Request, s: Session) -> Response:
        if s.user.role not in PATROL_ROLES:
            return forbidden()
        raw = request.query_params.get("window")
        window = int(raw) if raw is not None and raw.isdigit() and len(raw) < 5 else None
        if window and site.config is not None and window not in {w.number for w in site.config.windows}:
            window = None
        done = request.query_params.get("done", "")
        return form_page(s, window, done=done if done.isdigit() else "")

    async def patrol_post(request: Request) -> Response:
        s = session_of(site, request)
        if s is None:
            return message(t("web.login.needed"), t("web.login.needed_text"), status=401, hall_name=site.hall_name,
                           kind="error")
        if s.user.role not in PATROL_ROLES:
            return forbidden()
        policy = site.config.hall.patrol if site.config is not None else None
        assert policy is not None
        try:
            fields, files = await read_multipart(request, policy.photos_max * policy.photo_max_mb * 1024 * 1024
                                                 + FORM_SLACK_BYTES)
        except UploadError as exc:
            if not exc.too_large:
                return message(t("web.bad_form"), t("web.bad_form_text"), status=400, hall_name=site.hall_name,
                               kind="error")
            return message(t("patrol.too_big"), t("patrol.too_big_text", n=policy.photos_max, mb=policy.photo_max_mb),
                           status=413, hall_name=site.hall_name, kind="error")
        if not same_origin(request) or not hmac.compare_digest(first(fields, "csrf"), s.csrf):
            return message(t("web.csrf"), t("web.csrf_text"), status=403, hall_name=site.hall_name, kind="error")
        raw_window = first(fields, "window")
        window = int(raw_window) if raw_window.isdigit() and len(raw_window) < 5 else 0
        kept = {"kind": first(fields, "kind"), "announced": first(fields, "announced"),
                "staff_no": first(fields, "staff_no")[:32], "note": first(fields, "note").strip()[:2000],
                "findings": [c for c in fields.get("findings", []) if len(c) <= 32][:30]}
        if kept["kind"] not in patrols.KINDS or kept["announced"] not in ("yes", "no"):
            return form_page(s, window, error=t("patrol.need_kind"), kept=kept, status=422)
        photos: list[Upload] = [f for f in files if f.field == "photos"]
        if len(photos) > policy.photos_max:
            return form_page(s, window, error=t("patrol.too_many", n=policy.photos_max), kept=kept, status=422)
        folder = site.data_dir / PHOTO_DIR
        stored: list[str] = []
        try:
            for f in photos:
                stored.append(store_photo(f.data, folder, policy.photo_max_mb, policy.photo_max_px, f.filename))
        except PhotoError as exc:
            _remove(site, stored)
            return form_page(s, window, error=t(f"patrol.photo.{exc.code}", name=exc.filename, mb=policy.photo_max_mb),
                             kept=kept, status=422)
        body: dict[str, Any] = {"kind": kept["kind"], "announced": kept["announced"] == "yes",
                                "findings": kept["findings"], "note": kept["note"], "photos": stored}
        if window:
            body["window"] = window
        if kept["staff_no"]:
            body["staff_no"] = kept["staff_no"]
        a = await site.backend.command(Msg.PATROL_RECORD, body, node_id(NodeKind.MANAGER, s.user.name))
        if not a.ok:
            _remove(site, stored)
            return form_page(s, window, error=t("patrol.refused"), kept=kept, status=422)
        return RedirectResponse(f"/patrol?done={a.result['patrol_id']}", status_code=303)

    @guard(site, "manager")
    async def photo_get(request: Request, s: Session) -> Response:
        path = photo_path(site.data_dir, request.path_params["name"])
        if path is None or not path.is_file() or not patrols.photo_known(site.backend.reader(), path.name):
            return message(t("web.not_found"), t("web.not_found_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, no-store",
                                                                    "X-Content-Type-Options": "nosniff"})

    return [
        Route("/patrol", patrol_get, methods=["GET"]),
        Route("/patrol", patrol_post, methods=["POST"]),
        Route("/patrol/photos/{name}", photo_get, methods=["GET"]),
    ]


def _remove(site: Site, names: list[str]) -> None:
    for name in names:
        path = photo_path(site.data_dir, name)
        if path is not None:
            path.unlink(missing_ok=True)


def _recent_view(site: Site, p: dict[str, Any]) -> dict[str, Any]:
    staff = ""
    if p["staff_no"] and site.config is not None:
        try:
            staff = site.config.staff_member(p["staff_no"]).name
        except KeyError:
            staff = p["staff_no"]
    return {"id": p["id"], "at": site.local_text(p["at_ms"]), "kind": t(f"patrol.kind.{p['kind']}"),
            "announced": t("patrol.open" if p["announced"] else "patrol.unannounced"),
            "where": t("patrol.window_n", n=p["window"]) if p["window"] else t("patrol.whole_hall"), "staff": staff,
            "findings": "、".join(f["name"] for f in p["findings"]) or t("patrol.no_findings"), "note": p["note"],
            "photos": p["photos"]}
