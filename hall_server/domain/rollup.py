"""The figures' rollup (R8), kept by the writer in the same transaction as the change.

One `rollup` row per (local day, window, staff, 事项) and one `rollup_hour` row per
(local day, local hour, window) of a 办件's finish. A rating,
whenever it arrives, is counted in its 办件's row, so 参评率 = rated / finished holds per cut.
`department` is the 事项's department, else the staff member's.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.hours import local

LEVEL_COLS = ("l1", "l2", "l3", "l4", "l5")


def bucket(config: HallConfig, job: dict[str, Any]) -> dict[str, Any]:
    return {"day": job["day"], "hour": local(job["finished_ms"], config).hour, "window": job["window"],
            "staff_no": job["staff_no"], "service_code": job["service_code"] or "", "department": job["department"]}


def department(config: HallConfig, service_code: str | None, staff_no: str) -> str:
    try:
        dept = config.service(service_code or "").department
    except KeyError:
        dept = ""
    if not dept:
        try:
            dept = config.staff_member(staff_no).department
        except KeyError:
            dept = ""
    return dept


TABLES = {"rollup": (("day", "window", "staff_no", "service_code"), ("department",)),
          "rollup_hour": (("day", "hour", "window"), ())}


def _add(db: sqlite_utils.Database, key: dict[str, Any], **inc: int) -> None:
    cols = list(inc)
    for table, (pk, extra) in TABLES.items():
        names = [*pk, *extra, *cols]
        db.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET " + ", ".join(f"{c} = {c} + excluded.{c}" for c in cols),
            [*(key[k] for k in (*pk, *extra)), *inc.values()],
        )


def add_finished(db: sqlite_utils.Database, config: HallConfig, job: dict[str, Any],
                 wait_over: bool) -> None:
    inc = {"finished": 1, "overdue": int(job["overdue"]), "handle_ms": job["handle_ms"] or 0}
    if job["wait_ms"] is not None:
        inc.update(wait_n=1, wait_ms=job["wait_ms"], wait_over=int(wait_over))
    _add(db, bucket(config, job), **inc)


def add_rating(db: sqlite_utils.Database, config: HallConfig, job: dict[str, Any], level: int,
               is_default: bool) -> None:
    if is_default:
        _add(db, bucket(config, job), defaults=1)
    else:
        _add(db, bucket(config, job), rated=1, level_sum=level, **{f"l{level}": 1})


def add_excluded(db: sqlite_utils.Database, config: HallConfig, job: dict[str, Any]) -> None:
    _add(db, bucket(config, job), bad_excluded=1)
