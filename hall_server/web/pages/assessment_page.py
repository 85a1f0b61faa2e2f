"""考核 (`/assessment`): the month's assessment with the managers' own entries beside the data
(`domain.assessment_manual`): 组织考评 (patrol findings and manual deductions / bonuses with a
reason), 自我考评, the total, 优质 and 末位 for windows and for staff; and the annual roll-up
(年终考核, `/assessment/year`).

| route | who | what |
|---|---|---|
| `GET /assessment?month=YYYY-MM` | manager, viewer | the month |
| `POST /assessment/entries` | manager (CSRF) | a manual entry (`assessment.entry`) |
| `GET /assessment/year?year=YYYY` | manager, viewer | the twelve months and their mean |
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import assessment_manual
from hall_server.domain.hours import local
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.site import Site, first
from hallnet.vocabulary import Msg, NodeKind, node_id

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_POINTS = re.compile(r"[+-]?[0-9]{1,3}(\.[0-9]{1,2})?")
ENTRY_FIELDS = ("month", "kind", "target", "window", "staff_no", "points", "reason")


def routes(site: Site) -> list[Route]:
    def shell(s: Session) -> dict[str, Any]:
        return {"hall_name": site.hall_name, "user": s.user, "csrf": s.csrf, "active": "assessment"}

    def this_month() -> str:
        return local(site.now_ms(), site.config).strftime("%Y-%m")

    def month_page(s: Session, month: str, error: str = "", kept: dict[str, str] | None = None,
                   status: int = 200, notice: str = "") -> Response:
        assert site.config is not None
        result = assessment_manual.monthly(site.backend.reader(), site.config, month)
        staff_names = {m.staff_no: m.name for m in site.config.staff}
        found = assessment_manual.entries(site.backend.reader(), month)
        entries = [{**e, "who": (t("patrol.window_n", n=e["window"]) if e["target"] == "window"
                                 else f"{staff_names.get(e['staff_no'], e['staff_no'])}（{e['staff_no']}）"),
                    "kind_text": t(f"assess.kind.{e['kind']}"), "source_text": t(f"assess.source.{e['source']}")}
                   for e in found]
        return page("assessment.html", status=status, title=t("assess.title"), **shell(s), month=month,
                    result=result, entries=entries, can_edit=s.user.role == "manager", error=error, notice=notice,
                    kept=kept or {"month": month, "kind": "org", "target": "window"},
                    windows=[w.number for w in site.config.windows],
                    staff=[(m.staff_no, m.name) for m in site.config.staff])

    @guard(site)
    async def assessment_get(request: Request, s: Session) -> Response:
        if s.user.role not in ("manager", "viewer"):
            return message(t("web.forbidden"), t("web.forbidden_text"), status=403, hall_name=site.hall_name,
                           kind="error")
        month = request.query_params.get("month", "")
        month = month if _MONTH.fullmatch(month) else this_month()
        return month_page(s, month, notice=t("assess.added") if request.query_params.get("done") == "1" else "")

    @guard(site, "manager", form=True)
    async def entry_post(request: Request, s: Session) -> Response:
        form = request.state.form
        kept = {k: first(form, k).strip()[:500] for k in ENTRY_FIELDS}
        month = kept["month"] if _MONTH.fullmatch(kept["month"]) else this_month()
        kept["month"] = month

        def refuse(key: str) -> Response:
            return month_page(s, month, error=t("assess.bad", field=t(key)), kept=kept, status=422)

        if kept["kind"] not in assessment_manual.KINDS:
            return refuse("assess.col.kind")
        if kept["target"] not in assessment_manual.TARGETS:
            return refuse("assess.col.who")
        if not _POINTS.fullmatch(kept["points"]) or float(kept["points"]) == 0 or abs(float(kept["points"])) > 100:
            return refuse("assess.col.points")
        if not kept["reason"]:
            return refuse("assess.col.reason")
        body: dict[str, Any] = {"month": month, "kind": kept["kind"], "target": kept["target"],
                                "points": float(kept["points"]), "reason": kept["reason"]}
        if kept["target"] == "window":
            if not kept["window"].isdigit() or len(kept["window"]) > 4:
                return refuse("assess.col.who")
            body["window"] = int(kept["window"])
        else:
            if not kept["staff_no"]:
                return refuse("assess.col.who")
            body["staff_no"] = kept["staff_no"][:32]
        a = await site.backend.command(Msg.ASSESSMENT_ENTRY, body, node_id(NodeKind.MANAGER, s.user.name))
        if not a.ok:
            return refuse("assess.col.who")
        return RedirectResponse(f"/assessment?month={month}&done=1", status_code=303)

    @guard(site)
    async def year_get(request: Request, s: Session) -> Response:
        assert site.config is not None
        raw = request.query_params.get("year", "")
        year = int(raw) if raw.isdigit() and len(raw) == 4 else int(this_month()[:4])
        result = assessment_manual.annual(site.backend.reader(), site.config, year)
        return page("assessment_year.html", title=t("assess.year_title", year=year), **shell(s), year=year,
                    result=result)

    return [
        Route("/assessment", assessment_get, methods=["GET"]),
        Route("/assessment/entries", entry_post, methods=["POST"]),
        Route("/assessment/year", year_get, methods=["GET"]),
    ]
