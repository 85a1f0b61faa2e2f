"""管理 → 评价标签: the rating reason tags, versioned. A new version never rewrites old ratings:
each rating keeps the tag-list version it was given with (`ratings.tag_version`), and a tag
removed in a version stays in the list with `removed_in` (its text still names it in old ratings).

| route | what |
|---|---|
| `GET /admin/tags` | the current version's tags, the removed ones, and the form for a new version |
| `POST /admin/tags` | publish version N+1: tick tags to remove, add up to `NEW_ROWS` tags |
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from config.reserved_tags import RESERVED_TAGS
from hall_server.web.pages.admin_common import Errors, check_line, clean_text, file_doc, items, refused_text, send_change, shell
from hall_server.web.pages.admin_upload import admin_guard
from hall_server.web.pages.auth import Session
from hall_server.web.pages.layout import page
from hall_server.web.pages.site import Site

NEW_ROWS = 3
TAG_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def routes(site: Site) -> list[Route]:
    guard = admin_guard(site)

    def state() -> tuple[int, list[dict[str, Any]]]:
        return int(file_doc(site, "tags.toml").get("version", 1)), items(site, "tags.toml", "tags")

    def tags_page(s: Session, errors: Errors | None = None, new: list[dict[str, Any]] | None = None,
                  removing: list[str] | None = None, notice: str = "", error: str = "", status: int = 200) -> Response:
        version, tags = state()
        current = [x for x in tags if x.get("removed_in") is None or version < x["removed_in"]]
        removed = [x for x in tags if x not in current]
        return page("admin_tags.html", status=status, title=t("admin.tags.title"), **shell(site, s, "tags"),
                    version=version, current=current, removed=removed, errors=errors or {},
                    new=new or [{"code": "", "text": "", "levels": []} for _ in range(NEW_ROWS)],
                    removing=removing or [], notice=notice, error=error)

    @guard
    async def tags_get(request: Request, s: Session) -> Response:
        done = request.query_params.get("done", "")
        return tags_page(s, notice=t("admin.tags.published", version=done) if done.isdigit() else "")

    @guard
    async def tags_post(request: Request, s: Session) -> Response:
        form = request.state.form
        version, tags = state()
        if clean_text(form, "version") != str(version):        # someone published meanwhile
            return tags_page(s, error=t("admin.tags.stale"), status=409)
        codes = {x["code"] for x in tags}
        removing = [c for c in form.get("remove", []) if c in codes]
        errors: Errors = {}
        new: list[dict[str, Any]] = []
        for i in range(NEW_ROWS):
            row = {"code": clean_text(form, f"code{i}"), "text": clean_text(form, f"text{i}"),
                   "levels": sorted({int(x) for x in form.get(f"levels{i}", []) if x in ("1", "2", "3", "4", "5")})}
            new.append(row)
            if not (row["code"] or row["text"]):
                continue
            if not TAG_CODE.fullmatch(row["code"]) or row["code"] in RESERVED_TAGS:
                errors[f"code{i}"] = t("admin.err.tag_code")
            elif row["code"] in codes or sum(r["code"] == row["code"] for r in new) > 1:
                errors[f"code{i}"] = t("admin.err.tag_code_taken")
            check_line(errors, f"text{i}", row["text"], 32)
            if not row["levels"]:
                errors[f"levels{i}"] = t("admin.err.levels")
        added = [r for r in new if r["code"] or r["text"]]
        if not errors and not added and not removing:
            errors["code0"] = t("admin.err.nothing")
        if errors:
            return tags_page(s, errors=errors, new=new, removing=removing, status=422)
        nv = version + 1
        changes: list[tuple[str, str, dict[str, Any]]] = [("file", "tags.toml", {**file_doc(site, "tags.toml"), "version": nv})]
        for x in tags:
            if x["code"] in removing and x.get("removed_in") is None:
                changes.append(("tag", x["code"], {**x, "removed_in": nv}))
        for r in added:
            changes.append(("tag", r["code"], {"code": r["code"], "text": r["text"], "levels": r["levels"], "added_in": nv}))
        a = await send_change(site, s, "tags.version", str(nv), changes)
        if not a.ok:
            return tags_page(s, new=new, removing=removing, error=refused_text(a), status=409)
        return RedirectResponse(f"/admin/tags?done={nv}", status_code=303)

    return [Route("/admin/tags", tags_get, methods=["GET"]), Route("/admin/tags", tags_post, methods=["POST"])]
