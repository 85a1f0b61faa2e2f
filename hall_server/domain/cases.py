"""R7 差评 follow-ups — called **cases** — and R12 hall comments (also cases, kind `comment`).

Each 差评 opens a case at once: call-back (回访) due at the end (下班) of 1 working day,
rectification (整改) due at the end of 15 working days (China's official calendar, `workdays`,
which also says what the stored due columns mean). A due date counted over days without official
calendar data is provisional; the tick recomputes it once the data exists (`recompute_due`). The manager
records the call-back, then the rectification; the rater may then give one 追评, which closes the
case. Staff may appeal (申诉复核); a manager decides; an upheld appeal leaves the rating in the
record but takes it out of the staff member's score (`excluded`). Records are `case_events`
(append-only); the tick flags overdue cases.

status: open → called_back → rectified → closed.   appeal: none → pending → upheld | rejected.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlite_utils

from config.i18n import t
from config.reserved_tags import reason_pending
from config.schema import HallConfig
from hall_server.domain import notify, rollup
from hall_server.domain.actors import actor_name
from hall_server.domain.common import mask_phone, row, rows
from hall_server.domain.errors import AppealExists, NoteRequired, OwnAppeal, UnknownCase, WrongCaseState
from hall_server.domain.staff import TODAY_HOLD_MS
from hall_server.domain.workdays import calendar_for, due, due_day
from hall_server.domain.context import Context

CALLBACK_WORKDAYS = 1
RECTIFY_WORKDAYS = 15
RECOMPUTE_BATCH = 200          # cases recomputed per tick at most


def record(ctx: Context, case_id: int, kind: str, note: str = "") -> None:
    ctx.db.execute("INSERT INTO case_events (case_id, at_ms, kind, node, note) VALUES (?, ?, ?, ?, ?)",
                   [case_id, ctx.now_ms, kind, ctx.node, note])


def city_note(ctx: Context, note_id: int, case_id: int, note: str, pushed_ms: int) -> dict[str, Any]:
    """督办 from the city: the note goes on the case as a `city_pushback` event (node `city`), once
    per city note id (a note fetched again after a lost confirmation is not recorded twice)."""
    if row(ctx, "SELECT id FROM city_notes WHERE id = ?", [note_id]) is not None:
        return {"note_id": note_id, "case_id": case_id, "applied": False}
    ctx.db.execute("INSERT INTO city_notes (id, case_id, note, pushed_ms, applied_ms) VALUES (?, ?, ?, ?, ?)",
                   [note_id, case_id, note, pushed_ms, ctx.now_ms])
    known = row(ctx, "SELECT id FROM cases WHERE id = ?", [case_id]) is not None
    if known:
        ctx.db.execute("INSERT INTO case_events (case_id, at_ms, kind, node, note) VALUES (?, ?, 'city_pushback', "
                       "'city', ?)", [case_id, ctx.now_ms, note])
    return {"note_id": note_id, "case_id": case_id, "applied": known}


def _open(ctx: Context, kind: str, rating_id: int | None, job: dict[str, Any] | None, text: str, phone: str) -> int:
    callback, rectify = due(ctx.now_ms, CALLBACK_WORKDAYS, ctx.config), due(ctx.now_ms, RECTIFY_WORKDAYS, ctx.config)
    cur = ctx.db.execute(
        "INSERT INTO cases (kind, rating_id, job_id, window, staff_no, opened_ms, callback_due_ms, rectify_due_ms, "
        "callback_due_provisional, rectify_due_provisional, due_calendar, text, phone) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [kind, rating_id, job["id"] if job else None, job["window"] if job else None,
         job["staff_no"] if job else None, ctx.now_ms, callback.at_ms, rectify.at_ms, int(callback.provisional),
         int(rectify.provisional), calendar_for(ctx.config).fingerprint, text, phone],
    )
    case_id = int(cur.lastrowid)
    record(ctx, case_id, "opened")
    return case_id


def open_for_rating(ctx: Context, rating_id: int, job: dict[str, Any], text: str, phone: str) -> int:
    case_id = _open(ctx, "bad_rating", rating_id, job, text, phone)
    notify.bad_rating(ctx, case_id, rating_id)        # same transaction: the outbox (issue 15)
    return case_id


def open_comment(ctx: Context, text: str, phone: str) -> int:
    """R12: a comment or complaint from the hall's public QR code, not tied to a 办件."""
    case_id = _open(ctx, "comment", None, None, text, phone)
    return case_id


def get(ctx_or_db: Context | sqlite_utils.Database, case_id: int) -> dict[str, Any]:
    c = row(ctx_or_db, "SELECT * FROM cases WHERE id = ?", [case_id])
    if c is None:
        raise UnknownCase(f"no case {case_id}", case_id=case_id)
    return c


def callback(ctx: Context, case_id: int, note: str, reached: bool | None = None, satisfied: bool | None = None,
             words: str = "") -> dict[str, Any]:
    """回访. The outcome (issue 15) is recorded when given: whether the citizen was reached, their
    reason in their own words, satisfied or not (`case_callbacks`, private like the case's text).
    The manager's page always gives it; older callers that send only a note record none."""
    c = get(ctx, case_id)
    if c["status"] != "open":
        raise WrongCaseState(f"case {case_id} is {c['status']}", case_id=case_id, status=c["status"])
    if reached is not None:
        ctx.db.execute("INSERT INTO case_callbacks (case_id, at_ms, reached, satisfied, words, node) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [case_id, ctx.now_ms, int(reached), None if satisfied is None or not reached else int(satisfied),
                        words.strip() if reached else "", ctx.node])
    late = int(ctx.now_ms > c["callback_due_ms"])
    ctx.db.execute("UPDATE cases SET status = 'called_back', callback_ms = ?, callback_overdue = "
                   "MAX(callback_overdue, ?) WHERE id = ?", [ctx.now_ms, late, case_id])
    record(ctx, case_id, "callback", note)
    return {"case_id": case_id, "status": "called_back", "late": bool(late)}


def rectify(ctx: Context, case_id: int, note: str) -> dict[str, Any]:
    c = get(ctx, case_id)
    if c["status"] != "called_back":
        raise WrongCaseState(f"case {case_id} is {c['status']}: call back first", case_id=case_id, status=c["status"])
    note = need_note(note)
    late = int(ctx.now_ms > c["rectify_due_ms"])
    ctx.db.execute("UPDATE cases SET status = 'rectified', rectified_ms = ?, rectify_overdue = "
                   "MAX(rectify_overdue, ?) WHERE id = ?", [ctx.now_ms, late, case_id])
    record(ctx, case_id, "rectified", note)
    return {"case_id": case_id, "status": "rectified", "late": bool(late)}


def close(ctx: Context, case_id: int, note: str) -> dict[str, Any]:
    c = get(ctx, case_id)
    if c["status"] not in ("rectified",) and c["kind"] != "comment":
        raise WrongCaseState(f"case {case_id} is {c['status']}: rectify first", case_id=case_id, status=c["status"])
    if c["status"] == "closed":
        raise WrongCaseState(f"case {case_id} is closed", case_id=case_id, status="closed")
    note = need_note(note)
    ctx.db.execute("UPDATE cases SET status = 'closed' WHERE id = ?", [case_id])
    record(ctx, case_id, "closed", note)
    return {"case_id": case_id, "status": "closed"}


def need_note(note: str) -> str:
    """A rectification and a close say what was done (issue 15: auditable case handling); the
    ledger's items too (`ledger`)."""
    if not note.strip():
        raise NoteRequired("say what was done", field="note")
    return note.strip()


def appeal_raiser(ctx_or_db: Context | sqlite_utils.Database, case_id: int) -> str | None:
    """The node that raised the case's latest appeal (e.g. `manager-boss`, `terminal-3`)."""
    r = row(ctx_or_db, "SELECT node FROM case_events WHERE case_id = ? AND kind = 'appeal' ORDER BY id DESC LIMIT 1",
            [case_id])
    return r["node"] if r else None


def followup_given(ctx: Context, case_id: int, level: int) -> None:
    ctx.db.execute("UPDATE cases SET status = 'closed' WHERE id = ?", [case_id])
    record(ctx, case_id, "followup", f"level {level}")


def appeal(ctx: Context, case_id: int, staff_no: str | None, reason: str) -> dict[str, Any]:
    """申诉复核: the staff member (or a manager for them) asks to take the rating out of the score.
    R6: to a staff terminal, a case of someone else's 办件, or one opened less than `TODAY_HOLD_MS`
    ago (the citizen may still be at the window), does not exist: probing case ids must not tell a
    差评 just landed."""
    c = get(ctx, case_id)
    if staff_no is not None and (c["staff_no"] != staff_no or ctx.now_ms - c["opened_ms"] < TODAY_HOLD_MS):
        raise UnknownCase(f"no case {case_id}", case_id=case_id)
    if c["kind"] != "bad_rating":
        raise WrongCaseState("only a 差评 can be appealed", case_id=case_id, kind=c["kind"])
    if c["appeal"] != "none":
        raise AppealExists(f"case {case_id} already has an appeal ({c['appeal']})", appeal=c["appeal"])
    ctx.db.execute("UPDATE cases SET appeal = 'pending' WHERE id = ?", [case_id])
    record(ctx, case_id, "appeal", reason)
    return {"case_id": case_id, "appeal": "pending"}


def decide(ctx: Context, case_id: int, upheld: bool, note: str) -> dict[str, Any]:
    c = get(ctx, case_id)
    if c["appeal"] != "pending":
        raise WrongCaseState(f"case {case_id} has no pending appeal", case_id=case_id, appeal=c["appeal"])
    if appeal_raiser(ctx, case_id) == ctx.node:
        raise OwnAppeal(f"{ctx.node} raised the appeal of case {case_id}: another manager decides", case_id=case_id)
    ctx.db.execute("UPDATE cases SET appeal = ?, excluded = ? WHERE id = ?",
                   ["upheld" if upheld else "rejected", int(upheld), case_id])
    record(ctx, case_id, "appeal_upheld" if upheld else "appeal_rejected", note)
    if upheld and c["job_id"] is not None:
        job = row(ctx, "SELECT * FROM jobs WHERE id = ?", [c["job_id"]])
        assert job is not None
        rollup.add_excluded(ctx.db, ctx.config, job)
    return {"case_id": case_id, "appeal": "upheld" if upheld else "rejected"}


def flag_overdue(ctx: Context) -> int:
    """Tick: flag cases whose call-back or rectification is past due (and tell the duty officers of
    each step going overdue, issue 15)."""
    n = 0
    for step, done in (("callback", "callback_ms"), ("rectify", "rectified_ms")):
        found = [r["id"] for r in rows(ctx, f"SELECT id FROM cases WHERE {step}_overdue = 0 AND {done} IS NULL "
                                            f"AND {step}_due_ms < ?", [ctx.now_ms])]
        for case_id in found:
            ctx.db.execute(f"UPDATE cases SET {step}_overdue = 1 WHERE id = ?", [case_id])
            if get(ctx, case_id)["status"] != "closed":
                notify.case_overdue(ctx, case_id, step)
        n += len(found)
    return n


def recompute_due(ctx: Context) -> int:
    """Tick: recompute provisional (and pre-migration) due dates computed on an older calendar.

    Each recomputed case gets the new due dates, provisional flags and overdue flags (a done step
    is late when it was done after its new due time; an open step when now is past it), and a
    `due_recomputed` record when any of them changed. A case closed before migration 40 keeps the
    dates and flags it was closed with (past months' figures do not move); it is only stamped.
    Returns how many cases changed."""
    calendar = calendar_for(ctx.config)
    found = rows(ctx.db, "SELECT * FROM cases WHERE (callback_due_provisional = 1 OR rectify_due_provisional = 1 "
                         "OR due_calendar = '') AND due_calendar != ? ORDER BY id LIMIT ?",
                 [calendar.fingerprint, RECOMPUTE_BATCH])
    changed = 0
    for c in found:
        if c["due_calendar"] == "" and c["status"] == "closed":   # closed before migration 40: history as it was
            ctx.db.execute("UPDATE cases SET due_calendar = ? WHERE id = ?", [calendar.fingerprint, c["id"]])
            continue
        callback = due(c["opened_ms"], CALLBACK_WORKDAYS, ctx.config)
        rectify = due(c["opened_ms"], RECTIFY_WORKDAYS, ctx.config)
        new = {"callback_due_ms": callback.at_ms, "rectify_due_ms": rectify.at_ms,
               "callback_due_provisional": int(callback.provisional),
               "rectify_due_provisional": int(rectify.provisional),
               "callback_overdue": int((c["callback_ms"] or ctx.now_ms) > callback.at_ms),
               "rectify_overdue": int((c["rectified_ms"] or ctx.now_ms) > rectify.at_ms)}
        if c["status"] == "closed" and c["rectified_ms"] is None:    # a comment closed without rectification
            new["rectify_overdue"] = c["rectify_overdue"]
        if c["status"] == "closed" and c["callback_ms"] is None:
            new["callback_overdue"] = c["callback_overdue"]
        ctx.db.execute("UPDATE cases SET callback_due_ms = :callback_due_ms, rectify_due_ms = :rectify_due_ms, "
                       "callback_due_provisional = :callback_due_provisional, "
                       "rectify_due_provisional = :rectify_due_provisional, callback_overdue = :callback_overdue, "
                       "rectify_overdue = :rectify_overdue, due_calendar = :fingerprint WHERE id = :id",
                       {**new, "fingerprint": calendar.fingerprint, "id": c["id"]})
        if any(c[k] != v for k, v in new.items()):
            changed += 1
            record(ctx, c["id"], "due_recomputed", t(
                "web.case.recomputed_note", callback=_due_text(callback.day, callback.provisional),
                rectify=_due_text(rectify.day, rectify.provisional)))
    return changed


def _due_text(day: date, provisional: bool) -> str:
    return t("web.case.due_by", day=day.isoformat()) + (t("web.case.provisional") if provisional else "")


def view(db: sqlite_utils.Database, c: dict[str, Any], reveal_private: bool = False,
         config: HallConfig | None = None) -> dict[str, Any]:
    """R6: the rater's phone and text are masked except to the manager handling the case.
    Each due time (`*_due_ms`, the instant it passes) comes with `*_due_day` (the local working day
    it ends, "YYYY-MM-DD") and `*_due_provisional` (counted without official calendar data)."""
    out = {k: c[k] for k in ("id", "kind", "window", "staff_no", "opened_ms", "callback_due_ms", "rectify_due_ms",
                             "callback_ms", "rectified_ms", "status", "appeal")}
    for step in ("callback", "rectify"):
        out[f"{step}_due_day"] = due_day(c[f"{step}_due_ms"], config).isoformat()
        out[f"{step}_due_provisional"] = bool(c[f"{step}_due_provisional"])
    out |= {"excluded": bool(c["excluded"]), "callback_overdue": bool(c["callback_overdue"]),
            "rectify_overdue": bool(c["rectify_overdue"]),
            "text": c["text"] if reveal_private else ("***" if c["text"] else ""),
            "phone": c["phone"] if reveal_private else mask_phone(c["phone"])}
    if c["job_id"] is not None:
        j = row(db, "SELECT pub, job_no, service_code FROM jobs WHERE id = ?", [c["job_id"]])
        out["job"] = j
    if c["rating_id"] is not None:
        r = row(db, "SELECT level, tags, channel, at_ms FROM ratings WHERE id = ?", [c["rating_id"]])
        out["rating"] = r
        out["reason_pending"] = r is not None and reason_pending(json.loads(r["tags"]))   # 原因待回访
    out["events"] = rows(db, "SELECT at_ms, kind, node, note FROM case_events WHERE case_id = ? ORDER BY id", [c["id"]])
    for e in out["events"]:
        e["actor"] = actor_name(e["node"], config)
    out["callbacks"] = [{**cb, "actor": actor_name(cb["node"], config),
                         "words": cb["words"] if reveal_private else ("***" if cb["words"] else "")}
                        for cb in rows(db, "SELECT at_ms, reached, satisfied, words, node FROM case_callbacks "
                                           "WHERE case_id = ? ORDER BY id", [c["id"]])]
    return out
