"""管理 → 操作记录: the append-only admin audit (who, when, what, before, after), newest first, and
its XLSX export. Manager or admin role.

| route | what |
|---|---|
| `GET /admin/audit?page=N` | `PAGE_ROWS` rows a page, each change with the fields it changed |
| `GET /admin/audit.xlsx` | every row, the whole before and after JSON |
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.i18n import t
from hall_server.web.pages.admin_common import shell
from hall_server.web.pages.admin_upload import admin_guard
from hall_server.web.pages.auth import Session
from hall_server.web.pages.exports import to_xlsx
from hall_server.web.pages.layout import page
from hall_server.web.pages.site import Site

PAGE_ROWS = 100
MAX_EXPORT_ROWS = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def changed_fields(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each key that differs (one level down into tables); a new or gone
    item lists its fields against nothing."""
    if before is None and isinstance(after, dict):
        before = {}
    elif after is None and isinstance(before, dict):
        after = {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [("", _short(before), _short(after))]
    out: list[tuple[str, str, str]] = []
    for k in [k for k in {**before, **after} if before.get(k) != after.get(k) and k != "pin_hash"]:
        b, a = before.get(k), after.get(k)
        if isinstance(b, dict) and isinstance(a, dict):          # one level down: thresholds.wait_alert_min
            out += [(f"{k}.{f}" if f else k, x, y) for f, x, y in changed_fields(b, a)]
        else:
            out.append((k, _short(b), _short(a)))
    if before.get("pin_hash") != after.get("pin_hash"):                 # never the hash itself
        out.append(("pin_hash", "••••" if before.get("pin_hash") else "—",
                    t("admin.audit.pin_set") if after.get("pin_hash") else "—"))
    return out


def field_label(path: str) -> str:
    """A changed field's Chinese name (`admin.field.<last part>`), else the key as stored."""
    last = path.rsplit(".", 1)[-1]
    text = t(f"admin.field.{last}")
    return path if text == f"admin.field.{last}" else text


def _short(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("admin.audit.yes") if value else t("admin.audit.no")
    if isinstance(value, dict) and "pin_hash" in value:
        value = {**value, "pin_hash": "••••"}
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:199] + "…"


def routes(site: Site) -> list[Route]:
    guard = admin_guard(site)

    def read(limit: int, offset: int) -> list[dict[str, Any]]:
        cur = site.backend.reader().execute(
            "SELECT id, at_ms, who, what, subject, kind, key, before, after FROM admin_audit "
            "ORDER BY id DESC LIMIT ? OFFSET ?", [limit, offset])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def what_text(what: str) -> str:
        key = f"admin.what.{what}"
        text = t(key)
        return what if text == key else text

    def who_text(who: str) -> str:
        return t(f"admin.who.{who}") if who in ("first-start", "import") else who

    @guard
    async def audit(request: Request, s: Session) -> Response:
        raw = request.query_params.get("page", "1")
        number = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
        rows = read(PAGE_ROWS + 1, (number - 1) * PAGE_ROWS)
        shown = [{"id": r["id"], "at": site.local_text(r["at_ms"], "%Y-%m-%d %H:%M:%S"), "who": who_text(r["who"]),
                  "what": what_text(r["what"]), "item": f"{t('admin.kind.' + r['kind'])} {r['key']}",
                  "fields": changed_fields(json.loads(r["before"]) if r["before"] else None,
                                           json.loads(r["after"]) if r["after"] else None)}
                 for r in rows[:PAGE_ROWS]]
        return page("admin_audit.html", title=t("admin.audit.title"), **shell(site, s, "audit"), rows=shown,
                    label=field_label,
                    number=number, more=len(rows) > PAGE_ROWS)

    @guard
    async def audit_xlsx(request: Request, s: Session) -> Response:
        rows = read(MAX_EXPORT_ROWS, 0)
        headers = [t("admin.audit.at"), t("admin.audit.who"), t("admin.audit.what"), t("admin.audit.item"),
                   t("admin.audit.key"), t("admin.audit.before"), t("admin.audit.after")]
        body = [[site.local_text(r["at_ms"], "%Y-%m-%d %H:%M:%S"), who_text(r["who"]), what_text(r["what"]),
                 t("admin.kind." + r["kind"]), r["key"], _redacted(r["before"]), _redacted(r["after"])] for r in rows]
        data = to_xlsx(t("admin.audit.title"), headers, body)
        return Response(data, media_type=XLSX, headers={
            "Content-Disposition": "attachment; filename=\"admin-audit.xlsx\"; filename*=UTF-8''admin-audit.xlsx",
            "Cache-Control": "no-store"})

    return [Route("/admin/audit", audit, methods=["GET"]), Route("/admin/audit.xlsx", audit_xlsx, methods=["GET"])]


def _redacted(text: str | None) -> str:
    """The JSON as stored, with a PIN hash replaced (a hash is still a thing to guess against)."""
    if not text:
        return ""
    value = json.loads(text)
    if isinstance(value, dict) and "pin_hash" in value:
        value["pin_hash"] = "••••"
    return json.dumps(value, ensure_ascii=False)
