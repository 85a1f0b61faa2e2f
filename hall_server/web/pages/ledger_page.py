"""问题台账 (`/ledger`): every problem in one list — 差评 cases, hall comments, patrol findings, and
items entered by hand (12345 hotline referrals, 督查 findings, other) — with source, window, staff,
责任单位, 责任人, deadline, stage, overdue mark and 销号; filters, search and an XLSX export whose
file name names the period.

| route | who | what |
|---|---|---|
| `GET /ledger?show=&source=&window=&q=&month=` | manager, viewer | the list, its counts, the add form (manager) |
| `GET /ledger/export.xlsx?…` (same filters) | manager, viewer | the list as XLSX: `问题台账_<month or from_to>.xlsx` |
| `POST /ledger/add` | manager (CSRF) | a problem entered by hand (`ledger.add`) |
| `GET /ledger/items/{id}` | manager, viewer | one item with its history and (manager) the 整改 / 销号 forms |
| `POST /ledger/items/{id}/{rectify,close}` | manager (CSRF) | `ledger.rectify` / `ledger.close` |

A case's row links to its own page (`/cases/{id}`), where its steps are taken: one record per
problem. The list shows no rater's phone or text (R6), and the search never looks into them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import ledger
from hall_server.domain.actors import actor_name
from hall_server.domain.errors import UnknownItem
from hall_server.domain.hours import local, local_ms
from hall_server.domain.workdays import due_day
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.cases_page import age_text
from hall_server.web.pages.exports import to_xlsx
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.site import Site, first
from hallnet.vocabulary import Msg, NodeKind, node_id

SHOWS = ("active", "overdue", "closed", "all")
STAGE_BADGE = {"open": "b-orange", "rectified": "b-blue", "closed": "b-green"}
COLUMNS = ("ref", "source", "title", "window", "staff", "unit", "owner", "opened", "due", "age", "stage", "overdue",
           "closed", "evidence")
ITEM_ACTIONS = {"rectify": Msg.LEDGER_RECTIFY, "close": Msg.LEDGER_CLOSE}   # /ledger/{id}/{action} → its message
ADD_FIELDS = ("source", "title", "detail", "ref", "window", "staff_no", "unit", "owner", "due_workdays")


def _month(raw: str) -> str:
    try:
        datetime.strptime(raw, "%Y-%m")
    except ValueError:
        return ""
    return raw


def read_filter(site: Site, request: Request) -> tuple[ledger.Filter, dict[str, str]]:
    """The filter from the query (bad values are ignored, never an error page) and its echo."""
    q = request.query_params
    show = q.get("show", "active")
    show = show if show in SHOWS else "active"
    source = q.get("source", "")
    source = source if source in ledger.SOURCES else ""
    raw_window = q.get("window", "")
    window = int(raw_window) if raw_window.isdigit() and len(raw_window) < 5 else None
    month = _month(q.get("month", ""))
    start_ms = end_ms = None
    if month:
        first_day = date.fromisoformat(month + "-01")
        next_month = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1)
        start_ms, end_ms = local_ms(first_day, time(0), site.config), local_ms(next_month, time(0), site.config)
    text = q.get("q", "").strip()[:100]
    echo = {"show": show, "source": source, "window": str(window) if window is not None else "", "q": text,
            "month": month}
    return ledger.Filter(show=show, source=source, window=window, q=text, start_ms=start_ms, end_ms=end_ms), echo


def _staff(site: Site, staff_no: str | None) -> str:
    if not staff_no:
        return ""
    owner = ledger.staff_unit_owner(site.config, staff_no)[1]
    return f"{owner}（{staff_no}）" if owner and owner != staff_no else staff_no


def view_row(site: Site, r: dict[str, Any], now: int) -> dict[str, Any]:
    title = r["title"] or t(f"ledger.source.{r['source']}")
    if r["is_case"] and r["title"]:
        title = f"{t('ledger.source.' + r['source'])}：{r['title']}"     # 差评：服务态度差（the reasons, not the text）
    return {
        "key": r["key"], "href": f"/cases/{r['id']}" if r["is_case"] else f"/ledger/items/{r['id']}",
        "ref": r["ref"] or f"#{r['id']}" if r["is_case"] else (r["ref"] or f"T{r['id']}"),
        "source": t(f"ledger.source.{r['source']}"), "title": title,
        "window": r["window"] if r["window"] is not None else "—", "staff": _staff(site, r["staff_no"]) or "—",
        "unit": r["unit"] or "—", "owner": r["owner"] or "—", "opened": site.local_text(r["opened_ms"]),
        "due": t("web.case.due_by", day=due_day(r["due_ms"], site.config).isoformat()),
        "age": age_text(r["opened_ms"], r["closed_ms"] or now), "stage": r["stage"],
        "stage_text": t(f"ledger.stage.{r['stage']}") + (
            f"（{t('web.case.status.' + r['case_status'])}）" if r["case_status"] and r["stage"] == "open" else ""),
        "badge": STAGE_BADGE.get(r["stage"], ""), "overdue": r["overdue"],
        "closed": site.local_text(r["closed_ms"]), "evidence": r["evidence"],
    }


def _period_name(site: Site, echo: dict[str, str], now: int) -> str:
    return echo["month"] or f"截至{local(now, site.config).date().isoformat()}"


def routes(site: Site) -> list[Route]:
    def shell(s: Session) -> dict[str, Any]:
        return {"hall_name": site.hall_name, "user": s.user, "csrf": s.csrf, "active": "ledger"}

    def list_page(request: Request, s: Session, error: str = "", kept: dict[str, str] | None = None,
                  status: int = 200) -> Response:
        f, echo = read_filter(site, request)
        now = site.now_ms()
        found = ledger.entries(site.backend.reader(), site.config, now, f)
        windows = [w.number for w in site.config.windows] if site.config is not None else []
        staff = [(m.staff_no, m.name) for m in site.config.staff] if site.config is not None else []
        done = request.query_params.get("done", "")
        return page("ledger.html", status=status, title=t("ledger.title"), **shell(s), echo=echo, shows=SHOWS,
                    sources=ledger.SOURCES, hand_sources=ledger.HAND_SOURCES, columns=COLUMNS,
                    rows=[view_row(site, r, now) for r in found], counts=ledger.counts(found),
                    export_href="/ledger/export.xlsx?" + urlencode(echo), windows=windows, staff=staff,
                    can_edit=s.user.role == "manager", error=error, kept=kept or {},
                    notice=t("ledger.add.done") if done == "add" else "")

    @guard(site)
    async def ledger_list(request: Request, s: Session) -> Response:
        return list_page(request, s)

    @guard(site)
    async def ledger_export(request: Request, s: Session) -> Response:
        f, echo = read_filter(site, request)
        now = site.now_ms()
        data = [view_row(site, r, now) for r in ledger.entries(site.backend.reader(), site.config, now, f)]
        headers = [t(f"ledger.col.{c}") for c in COLUMNS]
        table = [[r["ref"], r["source"], r["title"], r["window"], r["staff"], r["unit"], r["owner"], r["opened"],
                  r["due"], r["age"], r["stage_text"], t("ledger.yes") if r["overdue"] else t("ledger.no"),
                  r["closed"], r["evidence"]] for r in data]
        period = _period_name(site, echo, now)
        fname = f"{t('ledger.file')}_{period}.xlsx"
        stem = "ledger_" + (echo["month"] or local(now, site.config).date().isoformat())
        disposition = f"attachment; filename=\"{stem}.xlsx\"; filename*=UTF-8''{quote(fname)}"
        return Response(to_xlsx(t("ledger.title"), headers, table),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})

    @guard(site, "manager", form=True)
    async def ledger_add(request: Request, s: Session) -> Response:
        form = request.state.form
        kept = {k: first(form, k).strip()[:2000] for k in ADD_FIELDS}
        body: dict[str, Any] = {"source": kept["source"], "title": kept["title"][:200], "detail": kept["detail"],
                                "ref": kept["ref"][:100], "unit": kept["unit"][:100], "owner": kept["owner"][:100]}
        if kept["source"] not in ledger.HAND_SOURCES:
            return list_page(request, s, error=t("ledger.bad_input", field=t("ledger.col.source")), kept=kept, status=422)
        if not body["title"]:
            return list_page(request, s, error=t("ledger.need_title"), kept=kept, status=422)
        for key, field in (("window", "window"), ("due_workdays", "due_workdays")):
            if kept[key]:
                if not kept[key].isdigit() or len(kept[key]) > 4:
                    return list_page(request, s, error=t("ledger.bad_input", field=t(
                        "ledger.col.window" if key == "window" else "ledger.add.due")), kept=kept, status=422)
                body[field] = int(kept[key])
        if kept["staff_no"]:
            body["staff_no"] = kept["staff_no"][:32]
        a = await site.backend.command(Msg.LEDGER_ADD, body, node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            return RedirectResponse("/ledger?done=add", status_code=303)
        field = (a.details or {}).get("field", "")
        label = {"window": "ledger.col.window", "staff_no": "ledger.col.staff", "due_workdays": "ledger.add.due"}.get(
            field, "ledger.add.title")
        return list_page(request, s, error=t("ledger.bad_input", field=t(label)), kept=kept, status=422)

    def item_page(s: Session, item_id: int, notice: str = "", error: str = "", status: int = 200,
                  kept: dict[str, str] | None = None) -> Response:
        db = site.backend.reader()
        try:
            item = ledger.get(db, item_id)
        except UnknownItem:
            return message(t("ledger.unknown"), t("web.case.unknown_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        now = site.now_ms()
        r = view_row(site, ledger.item_entry(item, now), now)
        facts = [(t(f"ledger.col.{c}"), r[c]) for c in ("ref", "source", "title", "window", "staff", "unit", "owner",
                                                       "opened", "due", "age")]
        if item["detail"]:
            facts.insert(3, (t("ledger.add.detail"), item["detail"]))
        forms = []
        if s.user.role == "manager":
            forms = (["rectify"] if item["status"] == "open" else []) + (["close"] if item["status"] != "closed" else [])
        events = [{"at": site.local_text(e["at_ms"], "%Y-%m-%d %H:%M:%S"), "kind": e["kind"],
                   "actor": actor_name(e["node"], site.config), "note": e["note"]} for e in ledger.history(db, item_id)]
        return page("ledger_item.html", status=status, title=t("ledger.item", ref=r["ref"]), **shell(s),
                    item_id=item_id, row=r, facts=facts, forms=forms, events=events, notice=notice, error=error,
                    kept=kept or {})

    def _item_id(request: Request) -> int | None:
        raw = request.path_params["item_id"]
        return int(raw) if raw.isdigit() and len(raw) < 15 else None

    @guard(site)
    async def item_get(request: Request, s: Session) -> Response:
        item_id = _item_id(request)
        if item_id is None:
            return message(t("ledger.unknown"), t("web.case.unknown_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        done = request.query_params.get("done", "")
        return item_page(s, item_id, notice=t(f"ledger.done.{done}") if done in ("rectify", "close") else "")

    @guard(site, "manager", form=True)
    async def item_post(request: Request, s: Session) -> Response:
        item_id, action = _item_id(request), request.path_params["action"]
        if item_id is None or action not in ITEM_ACTIONS:
            return message(t("ledger.unknown"), t("web.case.unknown_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        note = first(request.state.form, "note").strip()[:1000]
        if not note:
            return item_page(s, item_id, error=t("ledger.need_note"), status=422)
        body = {"item_id": item_id, "note" if action == "rectify" else "evidence": note}
        a = await site.backend.command(ITEM_ACTIONS[action], body, node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            return RedirectResponse(f"/ledger/items/{item_id}?done={action}", status_code=303)
        status = 404 if a.error == "unknown_item" else 409
        text = t("ledger.stale") if a.error == "wrong_case_state" else t("ledger.refused_item")
        return item_page(s, item_id, error=text, status=status, kept={"note": note})

    return [
        Route("/ledger", ledger_list, methods=["GET"]),
        Route("/ledger/export.xlsx", ledger_export, methods=["GET"]),
        Route("/ledger/add", ledger_add, methods=["POST"]),
        Route("/ledger/items/{item_id}", item_get, methods=["GET"]),
        Route("/ledger/items/{item_id}/{action}", item_post, methods=["POST"]),
    ]
