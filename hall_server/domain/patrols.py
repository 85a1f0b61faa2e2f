"""Patrols (巡查): 日巡查 (daily), 明察暗访 (undercover) and 模拟办事 (mock), open or unannounced, of one
window or the whole hall. A patrol with no findings is recorded too (the patrol happened).

Each finding (a category of hall.toml `[patrol] findings`, with its points as configured at the
time) becomes a 问题台账 item (source `patrol`, due in `[patrol] due_workdays` working days, 责任单位 and
责任人 the staff member's department and name) and counts in the month's 组织考评
(`assessment_manual`). Photos are stored by the web side (`web/pages/patrol_photos.py`: resized,
EXIF stripped) under the data folder before the command; the patrol records their names.
All three tables are append-only; the ledger item carries the life cycle.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from hall_server.domain import ledger
from hall_server.domain.common import row, rows
from hall_server.domain.context import BadRequest, Context
from hall_server.domain.hours import day_of

KINDS = ("daily", "undercover", "mock")


def on_duty(db: Context | sqlite_utils.Database, window: int) -> str | None:
    """The staff member signed in at the window now (the floor's state), if any."""
    found = row(db, "SELECT staff_no FROM windows WHERE number = ?", [window])
    return found["staff_no"] if found else None


def record(ctx: Context, kind: str, announced: bool, window: int | None, staff_no: str | None,
           finding_codes: list[str], note: str, photos: list[str]) -> dict[str, Any]:
    if kind not in KINDS:
        raise BadRequest(f"unknown patrol kind {kind!r}", field="kind")
    policy = ctx.config.hall.patrol
    by_code = {f.code: f for f in policy.findings}
    unknown = [c for c in finding_codes if c not in by_code]
    if unknown:
        raise BadRequest(f"unknown finding {unknown[0]!r}", field="findings")
    if len(photos) > policy.photos_max:
        raise BadRequest(f"at most {policy.photos_max} photos", field="photos")
    if staff_no is None and window is not None:
        staff_no = on_duty(ctx, window)
    cur = ctx.db.execute(
        "INSERT INTO patrols (kind, announced, window, staff_no, note, at_ms, day, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [kind, int(announced), window, staff_no, note.strip(), ctx.now_ms, day_of(ctx.now_ms, ctx.config), ctx.node])
    patrol_id = int(cur.lastrowid)
    items = []
    for code in dict.fromkeys(finding_codes):           # each category once per patrol
        f = by_code[code]
        item_id = ledger.add(ctx, ledger.NewItem(
            source="patrol", title=f.name, detail=note.strip(), window=window, staff_no=staff_no,
            due_workdays=policy.due_workdays, patrol_id=patrol_id, ref=f"X{patrol_id}"))
        ctx.db.execute("INSERT INTO patrol_findings (patrol_id, code, name, points, item_id) VALUES (?, ?, ?, ?, ?)",
                       [patrol_id, f.code, f.name, f.points, item_id])
        items.append(item_id)
    for name in photos:
        ctx.db.execute("INSERT INTO patrol_photos (patrol_id, name) VALUES (?, ?)", [patrol_id, name])
    return {"patrol_id": patrol_id, "item_ids": items, "staff_no": staff_no}


def recent(db: sqlite_utils.Database, limit: int = 30) -> list[dict[str, Any]]:
    """The latest patrols with their findings and photo names."""
    out = rows(db, "SELECT * FROM patrols ORDER BY id DESC LIMIT ?", [limit])
    for p in out:
        p["findings"] = rows(db, "SELECT code, name, points, item_id FROM patrol_findings WHERE patrol_id = ? "
                                 "ORDER BY id", [p["id"]])
        p["photos"] = [r["name"] for r in rows(db, "SELECT name FROM patrol_photos WHERE patrol_id = ? ORDER BY id",
                                               [p["id"]])]
    return out


def photo_known(db: sqlite_utils.Database, name: str) -> bool:
    return row(db, "SELECT 1 AS x FROM patrol_photos WHERE name = ?", [name]) is not None


def findings_points(db: sqlite_utils.Database, start_day: str, end_day: str) -> list[dict[str, Any]]:
    """Every finding of patrols on days start_day..end_day, with its window, staff and points
    (the 组织考评 the patrols give)."""
    return rows(db, "SELECT p.window, p.staff_no, f.name, f.points, p.day, p.id AS patrol_id FROM patrol_findings f "
                    "JOIN patrols p ON p.id = f.patrol_id WHERE p.day BETWEEN ? AND ? ORDER BY f.id",
                [start_day, end_day])
