"""周通报 and 月通报 (issue 15, Publication): one period's figures as plain data, from which the PDF,
the XLSX (`hall_server.web.pages.bulletin_files`) and the public 公示 page are made.

A period is a month (`2026-11`) or an ISO week (`2026-W48`, Monday to Sunday). A bulletin holds:
the hall's figures (R8) and the 差评 cases' rates; the departments' and windows' 好评率; the windows'
and staff members' rankings — for a month the R10 assessment (`assessment.monthly`: scores,
优质服务窗口 / 标兵, 末位), for a week a ranking by 好评率 (then fewer 差评, then more 办件) whose
first and last are named the same way (in both, 末位 wins over a top place and a window or
person with a counted 差评 in the period is never praised by name); the 差评 reasons and the channels by name (codes are never
shown); the problem ledger's overdue items (`overdue_ledger`).

Only reads (a read-only connection will do); nothing here writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain import assessment, figures
from hall_server.domain.common import rows
from hall_server.domain.errors import BadRequest
from hall_server.domain.ratings import tag_text

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
LEDGER_TABLES = ("ledger_items", "ledger")          # the problem ledger (issue 15, another area), whichever exists
CLOSED_STATES = ("closed", "cancelled", "canceled", "done")


class BadPeriod(BadRequest):
    """A period that is neither YYYY-MM nor YYYY-Www."""


@dataclass(frozen=True)
class Period:
    kind: str                 # "month" | "week"
    key: str                  # "2026-11" | "2026-W48"
    start: str                # first local day, YYYY-MM-DD
    end: str                  # last local day, inclusive

    @property
    def days(self) -> int:
        return (date.fromisoformat(self.end) - date.fromisoformat(self.start)).days + 1


def period(key: str) -> Period:
    """The month or ISO week named by `key`; BadPeriod otherwise."""
    key = (key or "").strip()
    m = _MONTH.match(key)
    if m:
        try:
            start, end = figures.month_days(key)
        except BadRequest:
            raise BadPeriod("month must be YYYY-MM") from None
        return Period("month", key, start, end)
    w = _WEEK.match(key)
    if w:
        try:
            monday = date.fromisocalendar(int(w.group(1)), int(w.group(2)), 1)
        except ValueError:
            raise BadPeriod("no such ISO week") from None
        return Period("week", key, monday.isoformat(), (monday + timedelta(days=6)).isoformat())
    raise BadPeriod("period must be YYYY-MM or YYYY-Www")


def current_keys(today: date) -> tuple[str, str]:
    """(this month, the last complete ISO week) as period keys: what a manager most often wants."""
    last_week = today - timedelta(days=today.weekday() + 7)
    y, wk, _ = last_week.isocalendar()
    return today.strftime("%Y-%m"), f"{y}-W{wk:02d}"


def window_label(config: HallConfig, number: Any) -> str:
    try:
        return config.window(int(number)).name
    except (KeyError, ValueError, TypeError):
        return f"{number}号窗口"


def staff_label(config: HallConfig, staff_no: Any) -> str:
    try:
        return config.staff_member(str(staff_no)).name
    except KeyError:
        return str(staff_no)


def reasons(db: sqlite_utils.Database, config: HallConfig, a_ms: int, b_ms: int) -> list[dict[str, Any]]:
    """The 差评 reasons of the first ratings given in [a_ms, b_ms): name (never the code) and count."""
    found = rows(db, "SELECT j.value AS code, COUNT(*) AS n FROM ratings r, json_each(r.tags) j "
                     "WHERE r.at_ms >= ? AND r.at_ms < ? AND r.level <= 2 AND r.round = 1 AND r.is_default = 0 "
                     "AND json_valid(r.tags) GROUP BY 1 ORDER BY 2 DESC, 1", [a_ms, b_ms])
    merged: dict[str, int] = {}
    for r in found:
        name = tag_text(config, str(r["code"]))
        merged[name] = merged.get(name, 0) + r["n"]
    return [{"name": k, "count": v} for k, v in sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))]


def channels(db: sqlite_utils.Database, a_ms: int, b_ms: int) -> list[dict[str, Any]]:
    """First, active ratings given in [a_ms, b_ms) by channel code (GB/T 39046; the page names them)."""
    return rows(db, "SELECT channel, COUNT(*) AS n FROM ratings WHERE at_ms >= ? AND at_ms < ? AND round = 1 "
                    "AND is_default = 0 GROUP BY 1 ORDER BY 1", [a_ms, b_ms])


def _table(db: sqlite_utils.Database) -> str | None:
    for name in LEDGER_TABLES:
        if db[name].exists():
            return name
    return None


def overdue_ledger(db: sqlite_utils.Database, now_ms: int, limit: int = 200) -> list[dict[str, Any]]:
    """The problem ledger's open items past their deadline, oldest deadline first.

    The ledger (问题台账) is another area's table, arriving in migrations 90–99: until it exists this
    returns an empty list. Its columns are read by the names that area uses for the deadline
    (`due_ms` / `deadline_ms`), the status, and the description; an unknown shape gives [] too."""
    name = _table(db)
    if name is None:
        return []
    cols = set(db[name].columns_dict)
    due = next((c for c in ("due_ms", "deadline_ms") if c in cols), None)
    if due is None or "status" not in cols:
        return []
    marks = ", ".join("?" * len(CLOSED_STATES))
    found = rows(db, f"SELECT * FROM {name} WHERE {due} IS NOT NULL AND {due} < ? AND status NOT IN ({marks}) "
                     f"ORDER BY {due} LIMIT ?", [now_ms, *CLOSED_STATES, limit])
    out = []
    for r in found:
        out.append({
            "id": r.get("id"),
            "source": r.get("source") or "",
            "window": r.get("window"),
            "title": r.get("title") or r.get("summary") or r.get("description") or r.get("text") or "",
            "unit": r.get("responsible_unit") or r.get("unit") or "",
            "person": r.get("owner") or r.get("responsible_person") or r.get("person") or r.get("responsible") or "",
            "due_ms": r[due],
            "days_over": max(0, (now_ms - int(r[due])) // 86_400_000),
        })
    return out


def _named(config: HallConfig, items: list[dict[str, Any]], top: list[Any], bottom: list[Any], kind: str) -> list[dict[str, Any]]:
    label = window_label if kind == "window" else staff_label
    top_set, bottom_set = set(top), set(bottom)
    # a small hall may have fewer served windows than top + bottom places: 末位 wins, nobody is both;
    # and nobody with a counted 差评 in the period is praised by name (`praisable`)
    return [{**r, "label": label(config, r["key"]),
             "top": r["key"] in top_set and r["key"] not in bottom_set and praisable(r),
             "bottom": r["key"] in bottom_set} for r in items]


def praisable(r: dict[str, Any]) -> bool:
    """May be named 优质服务窗口 / 标兵 in a bulletin: served in the period without a counted 差评."""
    return bool(r["finished"]) and r.get("bad_counted", r["bad"] - r.get("bad_excluded", 0)) == 0


def _weekly_ranking(db: sqlite_utils.Database, config: HallConfig, p: Period, by: str) -> list[dict[str, Any]]:
    found = {r["key"]: r for r in figures.report(db, config, p.start, p.end, by)}
    keys = [w.number for w in config.windows] if by == "window" else [s.staff_no for s in config.staff]
    items = [found[k] for k in keys if k in found and found[k]["finished"]]
    items.sort(key=lambda r: (-(r["good_rate"] if r["good_rate"] is not None else -1), r["bad"], -r["finished"], str(r["key"])))
    for i, r in enumerate(items, 1):
        r["rank"], r["score"] = i, None
    return items


def build(db: sqlite_utils.Database, config: HallConfig, p: Period, now_ms: int) -> dict[str, Any]:
    """Everything one bulletin shows, as plain data (see the module's docstring)."""
    a_ms, b_ms = figures._ms_range(config, p.start, p.end)
    hall = figures.report(db, config, p.start, p.end, "hall")
    cases = figures.case_rates(db, config, p.start, p.end, "hall")
    a = config.hall.assessment
    if p.kind == "month":
        m = assessment.monthly(db, config, p.key)
        windows = _named(config, m["windows"], m["top_windows"], m["bottom_windows"], "window")
        staff = _named(config, m["staff"], m["top_staff"], [], "staff")
    else:
        wr, sr = _weekly_ranking(db, config, p, "window"), _weekly_ranking(db, config, p, "staff")
        bottom = [r["key"] for r in wr[-a.bottom:]] if a.bottom and len(wr) > a.bottom else []
        windows = _named(config, wr, [r["key"] for r in wr[: a.top_windows]], bottom, "window")
        staff = _named(config, sr, [r["key"] for r in sr[: a.top_staff]], [], "staff")
    departments = [r for r in figures.report(db, config, p.start, p.end, "department") if r["key"]]
    return {
        "period": p,
        "hall": hall[0] if hall else None,
        "cases": cases[0] if cases else None,
        "departments": departments,
        "windows": windows,
        "staff": staff,
        "top_windows": [w for w in windows if w["top"]],
        "top_staff": [s for s in staff if s["top"]],
        "bottom_windows": [w for w in windows if w["bottom"]],
        "reasons": reasons(db, config, a_ms, b_ms),
        "channels": channels(db, a_ms, b_ms),
        "overdue": overdue_ledger(db, now_ms),
        "now_ms": now_ms,
    }


def public_board(db: sqlite_utils.Database, config: HallConfig, month: str, honour_month: str) -> dict[str, Any]:
    """The public 公示: `month`'s 好评率 by department and by window (counts of 办件 and ratings, no
    single rating, no citizen, no 差评 count of anyone) and `honour_month`'s 光荣榜 (优质服务窗口 and
    标兵 of the assessment)."""
    start, end = figures.month_days(month)

    def public(r: dict[str, Any]) -> dict[str, Any]:
        return {"finished": r["finished"], "rated": r["rated"], "good_rate": r["good_rate"],
                "participation_rate": r["participation_rate"]}

    by_dept = [{"name": r["key"], **public(r)} for r in figures.report(db, config, start, end, "department") if r["key"]]
    found = {r["key"]: r for r in figures.report(db, config, start, end, "window")}
    by_window = [{"number": w.number, "name": w.name, **public(found[w.number])} for w in config.windows
                 if w.number in found and found[w.number]["finished"]]
    hall = figures.report(db, config, start, end, "hall")
    m = assessment.monthly(db, config, honour_month)
    staff = {s.staff_no: s for s in config.staff}
    windows = _named(config, m["windows"], m["top_windows"], m["bottom_windows"], "window")
    people = _named(config, m["staff"], m["top_staff"], [], "staff")
    honour_windows = [{"number": w["key"], "name": w["label"]} for w in windows if w["top"]]
    honour_staff = [{"name": staff[p["key"]].name, "department": staff[p["key"]].department} for p in people
                    if p["top"] and p["key"] in staff]
    return {"month": month, "honour_month": honour_month, "hall": public(hall[0]) if hall else None,
            "departments": by_dept, "windows": by_window, "honour_windows": honour_windows,
            "honour_staff": honour_staff}
