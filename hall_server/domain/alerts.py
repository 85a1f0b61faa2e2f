"""The floor's alerts (the managers' part of the floor snapshot, `hall_server.domain.floor_snapshot`).

Each alert is data: a kind, a level (the badge colour), the case it is about, and the values its
sentence needs (`args`); the web side turns it into the sentence (`web.alert.<kind>` in
config/i18n.py). The queries read the store through a read-only connection.

| kind | level | args |
|---|---|---|
| wait | red | category, name, minutes, limit — a queue's oldest ticket waits past `wait_alert_min` |
| away | orange | window, minutes — a window paused past `pause_limit_min` |
| vacant | orange | window — nobody signed in this session (the tick's 空岗 mark) |
| offline | red | node, seconds — a node the bus has not heard from |
| bad | red | window, case, opened_ms — a 差评 case opened in the last `NEW_BAD_MIN` minutes |
| overdue | red | case — a case past its callback or rectification due time |
| bad_rate | red | percent, minutes, n, bad — the recent share of 差评 past the hall's threshold |
| locked | orange | staff_no, name, minutes — a 工号 locked out by wrong PINs (管理 → 人员 unlocks it) |
| slip_failed | red | window, job_no, reason — a slip of one of today's 办件 failed to print (reason: `slips.FAILED_ERRORS`, e.g. no_paper, timeout) |
| slip_unconfirmed | orange | window, job_no, reason — the gateway cannot tell whether it printed (no_status, interrupted) |

A slip alert lasts until a later print of the same 办件 succeeds (the clerk's 补打), or the day ends
(补打 takes only today's 办件); a later failure of the same 办件 replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.common import row, rows
from hall_server.domain.hours import day_of, session_at

SLIP_ALERTS_MAX = 20         # slip alerts listed at most (the newest)
SLIP_ALERT_LEVEL = {"failed": "red", "unconfirmed": "orange"}
NEW_BAD_MIN = 30              # a 差评 is "new" for this long while its case is open
DEFAULT_LIMIT_MIN = 30        # wait and pause limits without a configuration


@dataclass(frozen=True)
class Alert:
    kind: str
    level: str
    args: Mapping[str, Any] = field(default_factory=dict)
    case_id: int | None = None


@dataclass(frozen=True)
class Aged:
    """What the alerts need of a window or a queue: its number or code and how long it has been so."""

    key: str
    name: str
    minutes: int | None
    active: bool          # the window is paused / the queue has someone waiting


def minutes_since(now_ms: int, since_ms: int | None) -> int | None:
    return max(0, (now_ms - since_ms) // 60_000) if since_ms else None


def floor_alerts(db: sqlite_utils.Database, config: HallConfig | None, now_ms: int, paused: Sequence[Aged],
                 queues: Sequence[Aged], presence: Mapping[str, Mapping[str, Any]]) -> tuple[Alert, ...]:
    th = config.hall.thresholds if config is not None else None
    wait_limit = th.wait_alert_min if th else DEFAULT_LIMIT_MIN
    pause_limit = th.pause_limit_min if th else DEFAULT_LIMIT_MIN
    out: list[Alert] = []
    for q in queues:
        if q.active and q.minutes is not None and q.minutes >= wait_limit:
            out.append(Alert("wait", "red", {"category": q.key, "name": q.name, "minutes": q.minutes,
                                             "limit": wait_limit}))
    for w in paused:
        if w.active and w.minutes is not None and w.minutes >= pause_limit:
            out.append(Alert("away", "orange", {"window": int(w.key), "minutes": w.minutes}))
    if config is not None:
        s = session_at(now_ms, config)
        if s is not None:
            mark = f"{day_of(now_ms, config)}/{s[0]}"
            for r in rows(db, "SELECT number FROM windows WHERE staff_no IS NULL AND vacant_flagged = ?", [mark]):
                out.append(Alert("vacant", "orange", {"window": r["number"]}))
    names = {s.staff_no: s.name for s in config.staff} if config is not None else {}
    for r in rows(db, "SELECT staff_no, locked_until_ms FROM staff_locks WHERE locked_until_ms > ? "
                      "ORDER BY staff_no LIMIT 20", [now_ms]):
        out.append(Alert("locked", "orange", {"staff_no": r["staff_no"], "name": names.get(r["staff_no"], ""),
                                              "minutes": (r["locked_until_ms"] - now_ms) // 60_000 + 1}))
    for node, p in sorted(presence.items()):
        if not p.get("alive"):
            out.append(Alert("offline", "red", {"node": node, "seconds": int(p.get("silent_s") or 0)}))
    for c in rows(db, "SELECT id, window, opened_ms FROM cases WHERE kind = 'bad_rating' AND status = 'open' "
                      "AND opened_ms > ? ORDER BY id DESC LIMIT 10", [now_ms - NEW_BAD_MIN * 60_000]):
        out.append(Alert("bad", "red", {"window": c["window"], "case": c["id"], "opened_ms": c["opened_ms"]},
                         case_id=c["id"]))
    for c in rows(db, "SELECT id, window, kind FROM cases WHERE status != 'closed' AND ("
                      "callback_overdue = 1 OR rectify_overdue = 1 OR (callback_ms IS NULL AND callback_due_ms < ?) "
                      "OR (rectified_ms IS NULL AND rectify_due_ms < ?)) ORDER BY id LIMIT 20", [now_ms, now_ms]):
        out.append(Alert("overdue", "red", {"case": c["id"]}, case_id=c["id"]))
    if config is not None:
        out.extend(slip_alerts(db, day_of(now_ms, config)))
    if th is not None:
        r = row(db, "SELECT COUNT(*) AS n, COALESCE(SUM(level <= 2), 0) AS bad FROM ratings "
                    "WHERE round = 1 AND is_default = 0 AND at_ms > ?", [now_ms - th.bad_alert_window_min * 60_000])
        if r and r["n"] >= th.bad_alert_min_count and r["bad"] * 100 >= th.bad_alert_percent * r["n"]:
            out.append(Alert("bad_rate", "red", {"percent": round(r["bad"] * 100 / r["n"]),
                                                 "minutes": th.bad_alert_window_min, "n": r["n"], "bad": r["bad"]}))
    return tuple(out)


def slip_alerts(db: sqlite_utils.Database, day: str) -> list[Alert]:
    """Today's slips that failed or are unconfirmed and that no later print of the same 办件 settled."""
    return [Alert(f"slip_{r['state']}", SLIP_ALERT_LEVEL[r["state"]],
                  {"window": r["window"], "job_no": r["job_no"] or "", "reason": r["error"] or "error"})
            for r in rows(db, "SELECT s.window, s.state, s.error, j.job_no FROM slips s INDEXED BY slips_unsettled "
                              "JOIN jobs j ON j.id = s.job_id "
                              "WHERE s.state IN ('failed', 'unconfirmed') AND j.day = ? AND NOT EXISTS ("
                              "SELECT 1 FROM slips later WHERE later.job_id = s.job_id AND later.id > s.id "
                              "AND later.state != 'pending') ORDER BY s.id DESC LIMIT ?", [day, SLIP_ALERTS_MAX])]
