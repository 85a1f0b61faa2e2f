"""The monthly assessment with the managers' own entries beside the data-driven score
(`assessment.monthly`, which this module does not change), 末位 for staff as well as windows, and
the annual roll-up (年终考核) of the twelve months.

  total = data-driven score + 组织考评 + 自我考评

- 组织考评 (`org`): each patrol finding of the month (its configured points, deducted from the
  window patrolled and from the staff member on duty), and the managers' manual entries
  (`assessment.entry`, kind `org`: a deduction or a bonus with a reason).
- 自我考评 (`self`): manual entries of kind `self`, for halls that use self-assessment.

Ranking as `assessment`: by total, then 好评率, then more 办件, then number. Only windows and staff
with finished 办件 in the month can be named 优质 or 末位, and never both in one month. The annual roll-up averages the months'
totals (a month without 办件 for that window or person does not count in its average).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain import assessment, patrols
from hall_server.domain.common import rows
from hall_server.domain.context import BadRequest, Context
from hall_server.domain.figures import month_days

KINDS = ("org", "self")
TARGETS = ("window", "staff")


def add_entry(ctx: Context, month: str, kind: str, target: str, window: int | None, staff_no: str | None,
              points: float, reason: str) -> int:
    if kind not in KINDS or target not in TARGETS:
        raise BadRequest("kind must be org or self, target window or staff", field="kind")
    if (target == "window") != (window is not None) or (target == "staff") != bool(staff_no):
        raise BadRequest(f"an entry for a {target} names that {target}", field=target if target == "window" else "staff_no")
    if not reason.strip():
        raise BadRequest("an entry needs a reason", field="reason")
    if points == 0:
        raise BadRequest("points must not be 0", field="points")
    month_days(month)
    cur = ctx.db.execute(
        "INSERT INTO assessment_entries (month, kind, target, window, staff_no, points, reason, at_ms, node) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [month, kind, target, window, staff_no or None, round(points, 2), reason.strip(), ctx.now_ms, ctx.node])
    return int(cur.lastrowid)


def entries(db: sqlite_utils.Database, month: str) -> list[dict[str, Any]]:
    """Every entry of the month: the manual ones and the patrols' findings (as `org`)."""
    start, end = month_days(month)
    out = [{**e, "source": "manual"} for e in rows(
        db, "SELECT * FROM assessment_entries WHERE month = ? ORDER BY id", [month])]
    for f in patrols.findings_points(db, start, end):
        reason = f"巡查发现：{f['name']}（{f['day']}，第{f['patrol_id']}号巡查）"
        if f["window"] is not None:
            out.append({"kind": "org", "target": "window", "window": f["window"], "staff_no": None,
                        "points": -f["points"], "reason": reason, "source": "patrol"})
        if f["staff_no"]:
            out.append({"kind": "org", "target": "staff", "window": None, "staff_no": f["staff_no"],
                        "points": -f["points"], "reason": reason, "source": "patrol"})
    return out


def _with_entries(row: dict[str, Any], mine: list[dict[str, Any]]) -> dict[str, Any]:
    org = [e for e in mine if e["kind"] == "org"]
    own = [e for e in mine if e["kind"] == "self"]
    org_points = round(sum(e["points"] for e in org), 2)
    self_points = round(sum(e["points"] for e in own), 2)
    return {**row, "data_score": row["score"], "org_points": org_points, "self_points": self_points,
            "org_entries": org, "self_entries": own, "total": round(row["score"] + org_points + self_points, 2)}


def _rank(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items.sort(key=lambda r: (-r["total"], -(r.get("good_rate") or 0), -r.get("finished", 0), str(r["key"])))
    for i, r in enumerate(items, 1):
        r["rank"] = i
    return items


def monthly(db: sqlite_utils.Database, config: HallConfig, month: str) -> dict[str, Any]:
    base = assessment.monthly(db, config, month)
    found = entries(db, month)
    by_window: dict[int, list[dict[str, Any]]] = {}
    by_staff: dict[str, list[dict[str, Any]]] = {}
    for e in found:
        if e["target"] == "window":
            by_window.setdefault(e["window"], []).append(e)
        else:
            by_staff.setdefault(e["staff_no"], []).append(e)
    windows = [_with_entries(w, by_window.get(w["key"], [])) for w in base["windows"]]
    listed = {s["key"] for s in base["staff"]}
    staff = [_with_entries(s, by_staff.get(s["key"], [])) for s in base["staff"]]
    for member in config.staff:                  # someone with entries but no 办件 or attendance marks
        if member.staff_no in by_staff and member.staff_no not in listed:
            idle = {"key": member.staff_no, "name": member.name, "department": member.department,
                    "score": config.hall.assessment.base_score, "finished": 0, "good_rate": None}
            staff.append(_with_entries(idle, by_staff[member.staff_no]))
    windows, staff = _rank(windows), _rank(staff)
    a = config.hall.assessment
    served_w = [w for w in windows if w.get("finished")]
    served_s = [s for s in staff if s.get("finished")]
    top_w = [w["key"] for w in served_w[: a.top_windows]]
    top_s = [s["key"] for s in served_s[: a.top_staff]]
    return {"month": month, "windows": windows, "staff": staff, "top_windows": top_w, "top_staff": top_s,
            # 末位: the last served, never one named 优质 in the same month (a hall with one served window)
            "bottom_windows": [w["key"] for w in served_w[-a.bottom:] if w["key"] not in top_w] if a.bottom else [],
            "bottom_staff": [s["key"] for s in served_s[-a.bottom:] if s["key"] not in top_s] if a.bottom else []}


def annual(db: sqlite_utils.Database, config: HallConfig, year: int) -> dict[str, Any]:
    """年终考核: each window's and staff member's twelve monthly totals, their mean over the months
    they served in, and the rank by that mean."""
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13)]
    windows: dict[Any, dict[str, Any]] = {}
    staff: dict[Any, dict[str, Any]] = {}
    for month in months:
        result = monthly(db, config, month)
        for kind, table in (("windows", windows), ("staff", staff)):
            for r in result[kind]:
                entry = table.setdefault(r["key"], {"key": r["key"], "name": r.get("name", ""), "months": {},
                                                     "finished": 0, "org_points": 0.0, "self_points": 0.0})
                entry["finished"] += r.get("finished", 0)
                entry["org_points"] = round(entry["org_points"] + r["org_points"], 2)
                entry["self_points"] = round(entry["self_points"] + r["self_points"], 2)
                if r.get("finished") or r["org_points"] or r["self_points"]:
                    entry["months"][month] = r["total"]
    out: dict[str, Any] = {"year": year, "months": months}
    for kind, table in (("windows", windows), ("staff", staff)):
        items = [e for e in table.values() if e["months"]]
        for e in items:
            e["total"] = round(sum(e["months"].values()) / len(e["months"]), 2)
        out[kind] = _rank(items)
    return out
