"""排班 and 请销假 pages for managers (viewers read): the week grid of windows × days × halves
(`/roster`), copy last week, and leave (`/roster/leave`). Every change is a command through the one
writer (`roster.set_week`, `roster.copy_week`, `leave.add`, `leave.cancel`), audited in
`roster_audit`; forms are CSRF-checked by `auth.guard` like every manager form.

| route | who | what |
|---|---|---|
| `GET /roster?week=YYYY-MM-DD` | manager, viewer | the week (of that day) as a grid; closed days greyed with their reason |
| `POST /roster` | manager | the whole grid of the week: `monday`, one field `c<day 0-6>-<half>-<window>` per open cell ('' closed, `OPEN` open with nobody named, else a 工号) |
| `POST /roster/copy` | manager | `monday`: copy last week |
| `GET /roster/leave?month=YYYY-MM` | manager, viewer | leave and trips of the month, the form to add one |
| `POST /roster/leave` | manager | `staff_no, kind, start_day, start_half, end_day, end_half, note` |
| `POST /roster/leave/{id}/cancel` | manager | 销假 (or withdraw a request) |
| `POST /roster/leave/{id}/decide` | manager | `approve=yes/no`: a clerk's request from the terminal (`leave.request`) |
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from config.schema import Staff
from hall_server.domain import leave as domain_leave, roster as domain_roster
from hall_server.domain.workdays import calendar_for, missing_years, open_sessions, open_slots
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.layout import page
from hall_server.web.pages.site import Site, first
from hallnet.vocabulary import Msg, NodeKind, node_id

OPEN = "open window"           # a select's value: open, nobody named (a 工号 has no space)
GRID_LIMITS = (128 * 1024, 4000)
_CELL = re.compile(r"c([0-6])-([01])-([0-9]{1,4})")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _active(member: Staff) -> bool:
    """Not disabled by a manager (the admin pages' `Staff.active`; every clerk before them)."""
    return bool(getattr(member, "active", True))


def _month_ok(text: str) -> bool:
    return bool(_MONTH.fullmatch(text)) and 1 <= int(text[5:]) <= 12 and 2000 <= int(text[:4]) <= 2100


def _day(text: str | None, default: date) -> date:
    try:
        d = date.fromisoformat(text or "")
    except ValueError:
        return default
    return d if 2000 <= d.year <= 2100 else default


def _closed_reason(site: Site, d: date) -> str:
    calendar = calendar_for(site.config)
    if calendar.is_public_holiday(d):
        return t("roster.closed.holiday")
    return t("roster.closed.weekend") if d.weekday() >= 5 else t("roster.closed.hall")


def week_grid(site: Site, monday: date) -> dict[str, Any]:
    """The week as the template draws it: days (with open halves and why a day is closed), windows,
    each cell's current value, the people to choose, and the week's leave."""
    config = site.config
    assert config is not None
    db = site.backend.reader()
    plans = domain_roster.plans(db, monday, monday + timedelta(days=6))
    off = domain_leave.halves_off(db, monday, monday + timedelta(days=6))
    calendar = calendar_for(config)
    days = []
    for i, d in enumerate(domain_roster.week_days(monday)):
        sessions = open_sessions(d, config)
        halves = sorted({slot.half for slot in open_slots(d, config)})
        makeup = d.weekday() >= 5 and calendar.is_workday(d)
        own_hours = "" if not sessions or sessions == config.hall.sessions else \
            " ".join(f"{x.start:%H:%M}–{x.end:%H:%M}" for x in sessions)
        days.append({"i": i, "date": d.isoformat(), "label": f"{d:%m-%d}", "weekday": t(f"roster.wd.{WEEKDAY_KEYS[i]}"),
                     "halves": halves, "closed": "" if halves else _closed_reason(site, d), "hours": own_hours,
                     "makeup": makeup, "entered": d in plans, "official": calendar.is_official(d)})
    cells: dict[str, str] = {}
    conflicts: set[str] = set()            # a clerk scheduled in a half they are on leave
    names = {s.staff_no: s.name for s in config.staff}
    for day in days:
        d = date.fromisoformat(day["date"])
        for half in day["halves"]:
            opened = domain_roster.open_windows(config, d, half, plans.get(d))
            for w in config.windows:
                value = opened.get(w.number)
                cells[f"c{day['i']}-{half}-{w.number}"] = "" if value is None else (value or OPEN)
                if value and (value, d, half) in off:
                    conflicts.add(f"c{day['i']}-{half}-{w.number}")
    on_leave: dict[str, list[str]] = {}
    for staff_no, d, half in sorted(off, key=lambda x: (x[1], x[2], x[0])):
        on_leave.setdefault(f"{d.weekday()}-{half}", []).append(names.get(staff_no, staff_no))
    named = set(cells.values())
    return {"days": days, "cells": cells, "conflicts": conflicts, "windows": config.windows,
            "staff": [(s.staff_no, s.name) for s in config.staff if _active(s) or s.staff_no in named],
            "on_leave": on_leave,
            "missing": missing_years(config, sorted({monday.year, (monday + timedelta(days=6)).year}))}


def parse_grid(form: dict[str, list[str]], monday: date, staff: set[str]) -> list[dict[str, Any]]:
    """The posted grid as `roster.set_week` cells (unknown fields and values are ignored)."""
    out = []
    for name, values in form.items():
        m = _CELL.fullmatch(name)
        if m is None or not values or not values[0]:
            continue
        value = values[0]
        if value != OPEN and value not in staff:
            continue
        out.append({"day": (monday + timedelta(days=int(m[1]))).isoformat(), "half": int(m[2]),
                    "window": int(m[3]), "staff_no": "" if value == OPEN else value})
    return out


def routes(site: Site) -> list[Route]:
    def shell(s: Session) -> dict[str, Any]:
        return {"hall_name": site.hall_name, "user": s.user, "csrf": s.csrf, "active": "roster"}

    def today() -> date:
        return date.fromisoformat(site.local_text(site.now_ms(), "%Y-%m-%d"))

    def roster_page(s: Session, monday: date, notice: str = "", error: str = "", status: int = 200) -> Response:
        grid = week_grid(site, monday)
        return page("roster.html", status=status, title=t("roster.title"), **shell(s), notice=notice, error=error,
                    monday=monday.isoformat(), sunday=(monday + timedelta(days=6)).isoformat(),
                    prev=(monday - timedelta(days=7)).isoformat(), next=(monday + timedelta(days=7)).isoformat(),
                    can_edit=s.user.role == "manager", open_value=OPEN, **grid)

    @guard(site)
    async def roster_get(request: Request, s: Session) -> Response:
        monday = domain_roster.monday_of(_day(request.query_params.get("week"), today()))
        done = request.query_params.get("done", "")
        notice = t(f"roster.done.{done}") if done in ("saved", "copied") else ""
        return roster_page(s, monday, notice=notice)

    @guard(site, "manager", form=True, limits=GRID_LIMITS)
    async def roster_post(request: Request, s: Session) -> Response:
        form = request.state.form
        monday = domain_roster.monday_of(_day(first(form, "monday"), today()))
        assert site.config is not None
        cells = parse_grid(form, monday, {m.staff_no for m in site.config.staff})
        a = await site.backend.command(Msg.ROSTER_SET_WEEK, {"monday": monday.isoformat(), "cells": cells},
                                       node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            return RedirectResponse(f"/roster?week={monday.isoformat()}&done=saved", status_code=303)
        return roster_page(s, monday, error=_refusal(a.error), status=409)

    @guard(site, "manager", form=True)
    async def copy_post(request: Request, s: Session) -> Response:
        monday = domain_roster.monday_of(_day(first(request.state.form, "monday"), today()))
        a = await site.backend.command(Msg.ROSTER_COPY_WEEK, {"monday": monday.isoformat()},
                                       node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            return RedirectResponse(f"/roster?week={monday.isoformat()}&done=copied", status_code=303)
        return roster_page(s, monday, error=_refusal(a.error), status=409)

    def leave_page(s: Session, month: str, notice: str = "", error: str = "", status: int = 200,
                   values: dict[str, str] | None = None) -> Response:
        assert site.config is not None
        start = date.fromisoformat(month + "-01")
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        names = {m.staff_no: m.name for m in site.config.staff}
        found = domain_leave.listing(site.backend.reader(), start, end)
        items = [{"id": lv["id"], "who": f"{names.get(lv['staff_no'], lv['staff_no'])}（{lv['staff_no']}）",
                  "kind": t(f"roster.leave.kind.{lv['kind']}"),
                  "from": f"{lv['start_day']} {t('roster.half.%d' % lv['start_half'])}",
                  "to": f"{lv['end_day']} {t('roster.half.%d' % lv['end_half'])}",
                  "note": lv["note"], "status": lv["status"], "cancelled": lv["status"] in ("cancelled", "rejected"),
                  "entered": site.local_text(lv["created_ms"]), "by": lv["created_by"].removeprefix("manager-")}
                 for lv in found]
        prev = (start - timedelta(days=1)).strftime("%Y-%m")
        return page("leave.html", status=status, title=t("roster.leave.title"), **shell(s), notice=notice,
                    error=error, month=month, prev=prev, next=(end + timedelta(days=1)).strftime("%Y-%m"),
                    items=items, staff=[(m.staff_no, m.name) for m in site.config.staff if _active(m)],
                    can_edit=s.user.role == "manager",
                    values=values or {"start_day": today().isoformat(), "end_day": today().isoformat(),
                                      "start_half": "0", "end_half": "1", "kind": "leave"})

    @guard(site)
    async def leave_get(request: Request, s: Session) -> Response:
        month = request.query_params.get("month", "")
        if not _month_ok(month):
            month = today().strftime("%Y-%m")
        done = request.query_params.get("done", "")
        return leave_page(s, month, notice=t(f"roster.leave.done.{done}")
                          if done in ("added", "cancelled", "approved", "rejected") else "")

    @guard(site, "manager", form=True)
    async def leave_post(request: Request, s: Session) -> Response:
        form = request.state.form
        values = {k: first(form, k).strip() for k in ("staff_no", "kind", "start_day", "start_half", "end_day",
                                                       "end_half", "note")}
        month = values["start_day"][:7] if _month_ok(values["start_day"][:7]) else today().strftime("%Y-%m")
        try:
            body = {"staff_no": values["staff_no"], "kind": values["kind"] if values["kind"] == "trip" else "leave",
                    "start_day": date.fromisoformat(values["start_day"]).isoformat(),
                    "start_half": 1 if values["start_half"] == "1" else 0,
                    "end_day": date.fromisoformat(values["end_day"]).isoformat(),
                    "end_half": 0 if values["end_half"] == "0" else 1, "note": values["note"][:200]}
        except ValueError:
            return leave_page(s, month, error=t("roster.leave.bad_date"), status=422, values=values)
        a = await site.backend.command(Msg.LEAVE_ADD, body, node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            return RedirectResponse(f"/roster/leave?month={body['start_day'][:7]}&done=added", status_code=303)
        return leave_page(s, month, error=_refusal(a.error), status=409 if a.error != "bad_request" else 422,
                          values=values)

    @guard(site, "manager", form=True)
    async def leave_cancel(request: Request, s: Session) -> Response:
        raw = request.path_params["leave_id"]
        month = first(request.state.form, "month")
        month = month if _month_ok(month) else today().strftime("%Y-%m")
        if not raw.isdigit() or len(raw) > 12:
            return leave_page(s, month, error=t("roster.err.unknown_leave"), status=404)
        a = await site.backend.command(Msg.LEAVE_CANCEL, {"leave_id": int(raw)}, node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            return RedirectResponse(f"/roster/leave?month={month}&done=cancelled", status_code=303)
        return leave_page(s, month, error=_refusal(a.error), status=409)

    @guard(site, "manager", form=True)
    async def leave_decide(request: Request, s: Session) -> Response:
        raw = request.path_params["leave_id"]
        form = request.state.form
        month = first(form, "month")
        month = month if _month_ok(month) else today().strftime("%Y-%m")
        choice = first(form, "approve")
        if not raw.isdigit() or len(raw) > 12 or choice not in ("yes", "no"):
            return leave_page(s, month, error=t("roster.err.unknown_leave"), status=404)
        a = await site.backend.command(Msg.LEAVE_DECIDE, {"leave_id": int(raw), "approve": choice == "yes"},
                                       node_id(NodeKind.MANAGER, s.user.name))
        if a.ok:
            done = "approved" if choice == "yes" else "rejected"
            return RedirectResponse(f"/roster/leave?month={month}&done={done}", status_code=303)
        return leave_page(s, month, error=_refusal(a.error), status=409)

    return [
        Route("/roster/leave/{leave_id}/decide", leave_decide, methods=["POST"]),
        Route("/roster", roster_get, methods=["GET"]),
        Route("/roster", roster_post, methods=["POST"]),
        Route("/roster/copy", copy_post, methods=["POST"]),
        Route("/roster/leave", leave_get, methods=["GET"]),
        Route("/roster/leave", leave_post, methods=["POST"]),
        Route("/roster/leave/{leave_id}/cancel", leave_cancel, methods=["POST"]),
    ]


KNOWN_REFUSALS = ("closed_day", "not_monday", "nothing_to_copy", "unknown_window", "unknown_staff", "double_booked",
                  "overlapping_leave", "unknown_leave", "already_cancelled", "bad_request", "not_requested")


def _refusal(code: str | None) -> str:
    """A refusal in Chinese (never a code): the known ones by name, anything else generically."""
    return t(f"roster.err.{code}") if code in KNOWN_REFUSALS else t("roster.err.other")
