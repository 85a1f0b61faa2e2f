"""问题台账: every problem in one list with one life cycle, ending in 销号.

The ledger is a view over two tables: `cases` (差评 follow-ups and hall comments, R7/R12, with their
own steps in `domain.cases`) and `ledger_items` (patrol findings, 12345 hotline referrals, 督查
findings and other problems entered by hand, migration 90). A 差评 case is not copied into the
ledger: its row here is read from `cases`, so there is one record and one history per problem.

Every row has a source, window, staff, 责任单位 (unit), 责任人 (owner), a deadline in working days
(`workdays.due`, ending at 下班), a stage and, once closed, the evidence of what was done. Stages on
screen, whatever the source:

    open (整改中: for a case, 待回访 or 待整改) → rectified (已整改) → closed (已销号)

A ledger item's history is `ledger_events` (append-only); its rectification and its 销号 need a
note. The tick flags items past their deadline (`flag_overdue`); an overdue item stays counted as
overdue (`overdue` = 1) even after it is closed late.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.ratings import tag_text
from hall_server.domain.cases import need_note
from hall_server.domain.common import row, rows
from hall_server.domain.context import BadRequest, Context
from hall_server.domain.errors import UnknownItem, WrongCaseState
from hall_server.domain.workdays import due

SOURCES = ("bad_rating", "comment", "patrol", "hotline", "inspection", "other")
HAND_SOURCES = ("hotline", "inspection", "other")       # entered by a manager on the ledger page
STAGES = ("open", "rectified", "closed")
CASE_STAGE = {"open": "open", "called_back": "open", "rectified": "rectified", "closed": "closed"}
DEFAULT_DUE_WORKDAYS = 5
MAX_DUE_WORKDAYS = 60
LIST_LIMIT = 2000


@dataclass(frozen=True)
class NewItem:
    """A problem for the ledger (not a case): what `add` needs."""

    source: str
    title: str
    due_workdays: int = DEFAULT_DUE_WORKDAYS
    window: int | None = None
    staff_no: str | None = None
    unit: str = ""
    owner: str = ""
    detail: str = ""
    ref: str = ""
    patrol_id: int | None = None


def record(ctx: Context, item_id: int, kind: str, note: str = "") -> None:
    ctx.db.execute("INSERT INTO ledger_events (item_id, at_ms, kind, node, note) VALUES (?, ?, ?, ?, ?)",
                   [item_id, ctx.now_ms, kind, ctx.node, note])


def staff_unit_owner(config: HallConfig, staff_no: str | None) -> tuple[str, str]:
    """The 责任单位 and 责任人 a problem of this staff member defaults to: their department and name."""
    if not staff_no:
        return "", ""
    try:
        s = config.staff_member(staff_no)
    except KeyError:
        return "", staff_no
    return s.department, s.name


def add(ctx: Context, item: NewItem) -> int:
    if item.source not in SOURCES or item.source in ("bad_rating", "comment"):
        raise BadRequest(f"unknown ledger source {item.source!r}", field="source")
    if not item.title.strip():
        raise BadRequest("a ledger item needs a title", field="title")
    if not 1 <= item.due_workdays <= MAX_DUE_WORKDAYS:
        raise BadRequest(f"due_workdays must be 1–{MAX_DUE_WORKDAYS}", field="due_workdays")
    unit, owner = staff_unit_owner(ctx.config, item.staff_no)
    deadline = due(ctx.now_ms, item.due_workdays, ctx.config)
    cur = ctx.db.execute(
        "INSERT INTO ledger_items (source, ref, window, staff_no, unit, owner, title, detail, opened_ms, "
        "due_workdays, due_ms, patrol_id, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [item.source, item.ref.strip(), item.window, item.staff_no or None, item.unit.strip() or unit,
         item.owner.strip() or owner, item.title.strip(), item.detail.strip(), ctx.now_ms, item.due_workdays,
         deadline.at_ms, item.patrol_id, ctx.node])
    item_id = int(cur.lastrowid)
    record(ctx, item_id, "opened", item.title.strip())
    return item_id


def get(db: Context | sqlite_utils.Database, item_id: int) -> dict[str, Any]:
    found = row(db, "SELECT * FROM ledger_items WHERE id = ?", [item_id])
    if found is None:
        raise UnknownItem(f"no ledger item {item_id}", item_id=item_id)
    return found


def rectify(ctx: Context, item_id: int, note: str) -> dict[str, Any]:
    item = get(ctx, item_id)
    if item["status"] != "open":
        raise WrongCaseState(f"item {item_id} is {item['status']}", item_id=item_id, status=item["status"])
    text = need_note(note)
    late = int(ctx.now_ms > item["due_ms"])
    ctx.db.execute("UPDATE ledger_items SET status = 'rectified', rectified_ms = ?, overdue = MAX(overdue, ?) "
                   "WHERE id = ?", [ctx.now_ms, late, item_id])
    record(ctx, item_id, "rectified", text)
    return {"item_id": item_id, "status": "rectified", "late": bool(late)}


def close(ctx: Context, item_id: int, evidence: str) -> dict[str, Any]:
    """销号: the item is closed with the evidence of what was done (a rectified or open item)."""
    item = get(ctx, item_id)
    if item["status"] == "closed":
        raise WrongCaseState(f"item {item_id} is closed", item_id=item_id, status="closed")
    text = need_note(evidence)
    late = int(ctx.now_ms > item["due_ms"])
    ctx.db.execute("UPDATE ledger_items SET status = 'closed', closed_ms = ?, evidence = ?, overdue = "
                   "MAX(overdue, ?) WHERE id = ?", [ctx.now_ms, text, late, item_id])
    record(ctx, item_id, "closed", text)
    return {"item_id": item_id, "status": "closed", "late": bool(late)}


def flag_overdue(ctx: Context) -> list[int]:
    """Tick: flag open items past their deadline; returns the ids that became overdue now."""
    found = [r["id"] for r in rows(ctx, "SELECT id FROM ledger_items WHERE overdue = 0 AND status != 'closed' "
                                        "AND due_ms < ?", [ctx.now_ms])]
    for item_id in found:
        ctx.db.execute("UPDATE ledger_items SET overdue = 1 WHERE id = ?", [item_id])
        record(ctx, item_id, "overdue")
    return found


# --- the one list -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Filter:
    """What the ledger page and its export show: `show` active | overdue | closed | all; a source;
    a window; a search text (titles, details, refs, units, owners, staff names — never a rater's
    private text); opened between `start_ms` and `end_ms` (None: any time)."""

    show: str = "active"
    source: str = ""
    window: int | None = None
    q: str = ""
    start_ms: int | None = None
    end_ms: int | None = None


def _case_rows(db: sqlite_utils.Database, config: HallConfig, now_ms: int) -> list[dict[str, Any]]:
    out = []
    for c in rows(db, "SELECT *, (SELECT tags FROM ratings WHERE ratings.id = cases.rating_id) AS rating_tags "
                      "FROM cases ORDER BY id DESC LIMIT ?", [LIST_LIMIT]):
        reasons = "、".join(tag_text(config, code) for code in json.loads(c["rating_tags"] or "[]"))
        unit, owner = staff_unit_owner(config, c["staff_no"])
        step_due = c["callback_due_ms"] if c["callback_ms"] is None and c["status"] == "open" else c["rectify_due_ms"]
        stage = CASE_STAGE.get(c["status"], "open")
        live_late = stage != "closed" and (
            (c["callback_ms"] is None and c["callback_due_ms"] < now_ms)
            or (c["rectified_ms"] is None and c["rectify_due_ms"] < now_ms and c["kind"] == "bad_rating"))
        closed_ms = None
        if stage == "closed":
            last = row(db, "SELECT at_ms, note FROM case_events WHERE case_id = ? AND kind IN ('closed', 'followup') "
                           "ORDER BY id DESC LIMIT 1", [c["id"]])
            closed_ms = last["at_ms"] if last else None
            evidence = last["note"] if last else ""
        else:
            evidence = ""
        out.append({
            "key": f"case-{c['id']}", "id": c["id"], "is_case": True, "source": c["kind"], "ref": f"#{c['id']}",
            "window": c["window"], "staff_no": c["staff_no"], "unit": unit, "owner": owner,
            "title": reasons, "detail": "", "opened_ms": c["opened_ms"], "due_ms": step_due, "stage": stage,
            "case_status": c["status"], "closed_ms": closed_ms, "evidence": evidence,
            "overdue": bool(c["callback_overdue"] or (c["kind"] == "bad_rating" and c["rectify_overdue"]) or live_late),
        })
    return out


def item_entry(i: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """A `ledger_items` row as a ledger row."""
    return {
        "key": f"item-{i['id']}", "id": i["id"], "is_case": False, "source": i["source"], "ref": i["ref"],
        "window": i["window"], "staff_no": i["staff_no"], "unit": i["unit"], "owner": i["owner"],
        "title": i["title"], "detail": i["detail"], "opened_ms": i["opened_ms"], "due_ms": i["due_ms"],
        "stage": i["status"], "case_status": "", "closed_ms": i["closed_ms"], "evidence": i["evidence"],
        "overdue": bool(i["overdue"] or (i["status"] != "closed" and i["due_ms"] < now_ms)),
    }


def _item_rows(db: sqlite_utils.Database, now_ms: int) -> list[dict[str, Any]]:
    return [item_entry(i, now_ms) for i in rows(db, "SELECT * FROM ledger_items ORDER BY id DESC LIMIT ?", [LIST_LIMIT])]


def _matches(r: dict[str, Any], f: Filter, config: HallConfig) -> bool:
    if f.show == "active" and r["stage"] == "closed":
        return False
    if f.show == "closed" and r["stage"] != "closed":
        return False
    if f.show == "overdue" and not r["overdue"]:
        return False
    if f.source and r["source"] != f.source:
        return False
    if f.window is not None and r["window"] != f.window:
        return False
    if f.start_ms is not None and r["opened_ms"] < f.start_ms:
        return False
    if f.end_ms is not None and r["opened_ms"] >= f.end_ms:
        return False
    if f.q:
        staff_name = staff_unit_owner(config, r["staff_no"])[1]
        hay = " ".join(str(x) for x in (r["title"], r["detail"], r["ref"], r["unit"], r["owner"], staff_name,
                                        r["staff_no"] or "", r["evidence"] if not r["is_case"] else ""))
        if f.q.strip().lower() not in hay.lower():
            return False
    return True


def entries(db: sqlite_utils.Database, config: HallConfig, now_ms: int, f: Filter) -> list[dict[str, Any]]:
    """The ledger's rows (cases and items, newest first) that pass the filter."""
    found = [r for r in _case_rows(db, config, now_ms) + _item_rows(db, now_ms) if _matches(r, f, config)]
    found.sort(key=lambda r: (-r["opened_ms"], r["key"]))
    return found


def counts(found: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many rows, how many still open, how many overdue (open or closed late), how many 销号."""
    return {"total": len(found), "active": sum(r["stage"] != "closed" for r in found),
            "overdue": sum(bool(r["overdue"]) for r in found),
            "overdue_open": sum(bool(r["overdue"]) and r["stage"] != "closed" for r in found),
            "closed": sum(r["stage"] == "closed" for r in found)}


def history(db: sqlite_utils.Database, item_id: int) -> list[dict[str, Any]]:
    return rows(db, "SELECT at_ms, kind, node, note FROM ledger_events WHERE item_id = ? ORDER BY id", [item_id])
