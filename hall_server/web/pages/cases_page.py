"""Cases (`/cases`): every 差评 follow-up and hall comment with its due dates and overdue marks;
the call-back, rectification, appeal, decision and closing forms (role manager, CSRF-checked).

R6: the rater's phone and text are shown in clear only on a case's own page to a manager (the
one handling it); the list and the viewer role see them masked.

No rating link on these pages (issue 11): the 追评 after rectification is the citizen's, from the
QR on their own slip; a manager page never carries a rating token. A 差评 whose rating was
flagged as "one device rating many 办件" (`domain.rating_flags`) is marked 疑似代评 in the list
and on its page.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from config.labels import channel_label
from config.reserved_tags import reason_pending
from hall_server.domain import cases as domain_cases, rating_flags
from hall_server.domain.common import mask_phone, row, rows
from hall_server.domain.errors import UnknownCase
from hall_server.domain.ratings import tag_text
from hall_server.domain.workdays import closing_time, due_day
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.site import Site, first
from hallnet.vocabulary import Msg, NodeKind, node_id

STATUS_BADGE = {"open": "b-red", "called_back": "b-orange", "rectified": "b-blue", "closed": "b-green"}
FILTERS = ("active", "overdue", "closed", "all")
ACTIONS = {"callback": Msg.CASE_CALLBACK, "rectify": Msg.CASE_RECTIFY, "close": Msg.CASE_CLOSE,
           "appeal": Msg.CASE_APPEAL, "decide": Msg.CASE_DECIDE}


def mask_text(text: str) -> str:
    return "***" if text else ""


COLUMNS = ("id", "kind", "level", "reasons", "window", "staff", "opened", "age", "callback_due", "rectify_due", "status",
           "appeal", "phone", "text")
REFUSALS = {"note_required": "case.need_note", "own_appeal": "case.own_appeal"}


def age_text(opened_ms: int, until_ms: int) -> str:
    """How long a case (or ledger problem) has been open: 3天 / 5小时."""
    hours = max(0, until_ms - opened_ms) // 3_600_000
    return t("ledger.age.days", n=hours // 24) if hours >= 24 else t("ledger.age.hours", n=hours)


def _due(site: Site, c: dict[str, Any], step: str, done_ms: int | None, overdue_flag: int, now: int) -> dict[str, Any]:
    """A due time as the working day it ends ("2027-01-08 下班前", the stored instant being 下班),
    marked when it was counted without official calendar data (see domain/workdays.py); the
    template's `due` macro shows it."""
    due_ms = c[f"{step}_due_ms"]
    late = overdue_flag or (done_ms is None and due_ms < now) or (done_ms is not None and done_ms > due_ms)
    closing = closing_time(site.config)
    title = t("web.case.due_title", closing=f"{closing:%H:%M}") if closing else t("web.case.due_title_day_end")
    return {"title": title, "text": t("web.case.due_by", day=due_day(due_ms, site.config).isoformat()),
            "provisional": bool(c[f"{step}_due_provisional"]), "done": bool(done_ms), "late": bool(late)}


def list_cases(site: Site, which: str) -> list[dict[str, Any]]:
    now = site.now_ms()
    where = {
        "active": "status != 'closed'",
        "closed": "status = 'closed'",
        "overdue": "status != 'closed' AND (callback_overdue = 1 OR rectify_overdue = 1 OR "
                   "(callback_ms IS NULL AND callback_due_ms < :now) OR (rectified_ms IS NULL AND rectify_due_ms < :now))",
        "all": "1",
    }[which]
    return rows(site.backend.reader(), "SELECT *, (SELECT tags FROM ratings WHERE ratings.id = cases.rating_id) "
                "AS rating_tags, (SELECT level FROM ratings WHERE ratings.id = cases.rating_id) AS rating_level, "
                "(SELECT MAX(at_ms) FROM case_events e WHERE e.case_id = cases.id AND e.kind IN ('closed', 'followup')) "
                f"AS closed_ms FROM cases WHERE {where} ORDER BY id DESC LIMIT 500", {"now": now})  # type: ignore[arg-type]


def _staff_name(site: Site, staff_no: str | None) -> str:
    if not staff_no or site.config is None:
        return staff_no or ""
    try:
        return f"{site.config.staff_member(staff_no).name}（{staff_no}）"
    except KeyError:
        return staff_no


def case_row(site: Site, c: dict[str, Any], flags: list[str], now: int) -> dict[str, Any]:
    """One line of the list (phone and text masked, R6)."""
    return {"id": c["id"], "flags": flags, "kind": c["kind"], "window": c["window"],
            "reason_pending": bool(c["rating_tags"] and reason_pending(json.loads(c["rating_tags"]))),
            "staff": _staff_name(site, c["staff_no"]), "opened": site.local_text(c["opened_ms"]),
            "level": c["rating_level"],
            "reasons": "、".join(tag_text(site.config, x) for x in json.loads(c["rating_tags"])) if c["rating_tags"] else "",
            "age": age_text(c["opened_ms"], c["closed_ms"] if c["status"] == "closed" and c["closed_ms"] else now),
            "callback": _due(site, c, "callback", c["callback_ms"], c["callback_overdue"], now),
            "rectify": _due(site, c, "rectify", c["rectified_ms"], c["rectify_overdue"], now),
            "status": c["status"], "status_badge": STATUS_BADGE.get(c["status"], ""), "appeal": c["appeal"],
            "phone": mask_phone(c["phone"]), "text": mask_text(c["text"])}


def offered_forms(c: dict[str, Any]) -> list[str]:
    """The actions a manager may take on the case now, in the page's order."""
    out = []
    if c["status"] == "open":
        out.append("callback")
    if c["status"] == "called_back":
        out.append("rectify")
    if c["status"] == "rectified" or (c["kind"] == "comment" and c["status"] != "closed"):
        out.append("close")
    if c["kind"] == "bad_rating" and c["appeal"] == "none":
        out.append("appeal")
    if c["appeal"] == "pending":
        out.append("decide")
    return out


def routes(site: Site) -> list[Route]:
    def manager(s: Session) -> dict[str, Any]:
        return {"hall_name": site.hall_name, "user": s.user, "csrf": s.csrf, "active": "cases"}

    @guard(site)
    async def case_list(request: Request, s: Session) -> Response:
        which = request.query_params.get("show", "active")
        if which not in FILTERS:
            which = "active"
        now = site.now_ms()
        found = list_cases(site, which)
        flags = rating_flags.reasons_by_rating(site.backend.reader(), [c["rating_id"] for c in found])
        return page("cases.html", title=t("web.nav.cases"), **manager(s), which=which, filters=FILTERS,
                    columns=COLUMNS, cases=[case_row(site, c, flags.get(c["rating_id"], []), now) for c in found])

    def case_page(s: Session, case_id: int, notice: str = "", error: str = "", status: int = 200,
                  kept: dict[str, str] | None = None) -> Response:
        db = site.backend.reader()
        try:
            c = domain_cases.get(db, case_id)
        except UnknownCase:
            return message(t("web.case.unknown"), t("web.case.unknown_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        reveal = s.user.role == "manager"
        v = domain_cases.view(db, c, reveal_private=reveal, config=site.config)
        now = site.now_ms()
        facts = [
            (t("web.case.col.kind"), t(f"web.case.kind.{c['kind']}")),
            (t("web.case.col.status"), t(f"web.case.status.{c['status']}")),
            (t("web.case.col.window"), c["window"] or "—"),
            (t("web.case.col.staff"), _staff_name(site, c["staff_no"])),
            (t("web.case.col.opened"), site.local_text(c["opened_ms"])),
        ]
        job = v.get("job")
        if v.get("rating"):
            r = v["rating"]
            tags = json.loads(r["tags"]) if isinstance(r["tags"], str) else r["tags"]
            facts.append((t("web.case.level"), f'{r["level"]} {t("level." + str(r["level"]))}'))
            facts.append((t("web.case.tags"), "、".join(tag_text(site.config, c_) for c_ in tags)))
            facts.append((t("web.case.channel"), channel_label(r["channel"])))
            reasons = rating_flags.reasons_by_rating(db, [c["rating_id"]]).get(c["rating_id"], [])
            if reasons:
                facts.append((t("web.case.flag"), t("web.flag.badge") + "：" + "；".join(t(f"web.flag.{x}") for x in reasons)
                              + "。" + t("web.case.flag_hint")))
        if job:
            svc = job["service_code"] or ""
            if site.config is not None and svc:
                try:
                    svc = f"{site.config.service(svc).name}（{svc}）"
                except KeyError:
                    pass
            facts += [(t("web.case.job_no"), job["job_no"] or ""), (t("web.qr.service"), svc)]
        facts.append((t("web.case.col.phone"), v["phone"] or "—"))
        facts.append((t("web.case.col.text"), v["text"] or "—"))
        for cb in v["callbacks"]:
            outcome = t("case.callback.reached_yes" if cb["reached"] else "case.callback.reached_no")
            if cb["reached"]:
                outcome += "；" + t("case.callback.satisfied") + "：" + t(
                    "case.callback.satisfied_unknown" if cb["satisfied"] is None
                    else "case.callback.satisfied_yes" if cb["satisfied"] else "case.callback.satisfied_no")
                if cb["words"]:
                    outcome += "；" + t("case.callback.words") + "：" + cb["words"]
            facts.append((t("case.callback.outcomes"), f'{site.local_text(cb["at_ms"])} {cb["actor"]}：{outcome}'))
        return page("case.html", status=status, title=t("web.case.title", id=case_id), **manager(s),
                    case_id=case_id, notice=notice, error=error, facts=facts,
                    callback=_due(site, c, "callback", c["callback_ms"], c["callback_overdue"], now),
                    rectify=_due(site, c, "rectify", c["rectified_ms"], c["rectify_overdue"], now),
                    provisional=bool(c["callback_due_provisional"] or c["rectify_due_provisional"]),
                    events=[{"at": site.local_text(e["at_ms"], "%Y-%m-%d %H:%M:%S"), "kind": e["kind"],
                             "actor": e["actor"], "note": e["note"]} for e in v["events"]],
                    kept=kept or {},
                    forms=offered_forms(c) if reveal else [],
                    # no link: the 追评 is the citizen's own (issue 11)
                    followup_hint=bool(reveal and job and c["status"] == "rectified"))

    def _case_id(request: Request) -> int | None:
        raw = request.path_params["case_id"]
        return int(raw) if raw.isdigit() and len(raw) < 15 else None

    @guard(site)
    async def case_get(request: Request, s: Session) -> Response:
        case_id = _case_id(request)
        if case_id is None:
            return message(t("web.case.unknown"), t("web.case.unknown_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        done = request.query_params.get("done", "")
        notice = t(f"web.case.done.{done}") if done in ACTIONS else ""
        return case_page(s, case_id, notice=notice)

    @guard(site, "manager", form=True)
    async def case_post(request: Request, s: Session) -> Response:
        case_id, action = _case_id(request), request.path_params["action"]
        if case_id is None or action not in ACTIONS:
            return message(t("web.case.unknown"), t("web.case.unknown_text"), status=404, hall_name=site.hall_name,
                           kind="error")
        form = request.state.form
        body: dict[str, Any] = {"case_id": case_id}
        if action == "appeal":
            reason = first(form, "reason").strip()[:1000]
            if not reason:
                return case_page(s, case_id, error=t("web.case.need_reason"), status=422)
            body["reason"] = reason
        else:
            note = first(form, "note").strip()[:1000]
            kept = {"note": note, "words": first(form, "words").strip()[:1000]}
            if note:
                body["note"] = note
            if action in ("rectify", "close") and not note:
                return case_page(s, case_id, error=t("case.need_note"), status=422, kept=kept)
            if action == "callback":
                reached, satisfied = first(form, "reached"), first(form, "satisfied")
                if reached not in ("yes", "no"):
                    return case_page(s, case_id, error=t("case.need_reached"), status=422, kept=kept)
                body["reached"] = reached == "yes"
                if body["reached"]:
                    body["words"] = kept["words"]
                    if satisfied in ("yes", "no"):
                        body["satisfied"] = satisfied == "yes"
        if action == "decide":
            choice = first(form, "upheld")
            if choice not in ("yes", "no"):
                return case_page(s, case_id, error=t("web.case.need_decision"), status=422)
            body["upheld"] = choice == "yes"
        a = await site.backend.command(ACTIONS[action], body, node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            return RedirectResponse(f"/cases/{case_id}?done={action}", status_code=303)
        status = 404 if a.error == "unknown_case" else 409
        text = t(REFUSALS[a.error]) if a.error in REFUSALS else t("web.case.refused", code=a.error)
        return case_page(s, case_id, error=text, status=status)

    return [
        Route("/cases", case_list, methods=["GET"]),
        Route("/cases/{case_id}", case_get, methods=["GET"]),
        Route("/cases/{case_id}/{action}", case_post, methods=["POST"]),
    ]
