"""R9 the queue: tickets by category, priority, call, recall, no-show, park/call back, transfer.

A ticket's `status`: waiting → called → serving (a job started) → done; or no_show, parked
(and called back), transferred (back to waiting, for another window or category), expired (a
previous day's ticket still waiting at the first tick of a new day). Every step appends to
`ticket_events` (the ticket's timeline).

Each ticket has an unguessable public id (`pub`, returned by `take` as `public_id`): a citizen
looks up their own ticket's status with it (`public_status`), never by the sequential id.
`take` also answers how many are ahead and the estimated wait (`hall_server.domain.wait_estimate`)
and the ticket's status page (`status_path` "/t/<pub>", `status_url` with the hall's `public_url`),
which the dispenser prints as a QR code; `public_status` gives the same estimate while it waits.
Priority tickets are taken only by a dispenser (its 导办员 chooses the kind) or by a staff
decision (a terminal, a manager); the HTTP side's anonymous node `web` only takes normal ones.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from config.schema import HallConfig, Window
from hall_server.domain.common import DISPENSER, MANAGER, TERMINAL, dumps, public_id, row, rows
from hall_server.domain.errors import (
    BadRequest, NoCurrentTicket, PriorityNotAllowed, QueueEmpty, TicketNotHere, UnknownCategory,
    UnknownTicket, WindowBusy, WrongTicketState,
)
from hall_server.domain.floor import (
    QueueValue, category_name, plain, publish_call, publish_queue, publish_window, published_last_called,
    set_window, window_row,
)
from hall_server.domain.hours import day_of
from hall_server.domain.context import Context
from hall_server.domain.wait_estimate import estimate_for

# priority kind → priority (higher is called first; equal priorities first come, first served)
PRIORITY_KINDS: dict[str, int] = {"appointment": 1, "elderly": 1, "green": 1}
# node kinds that may give a priority ticket: the dispenser (导办员) and staff decisions
PRIORITY_GIVERS = frozenset({DISPENSER, TERMINAL, MANAGER})
PUBLIC_ID_LEN = 20                      # `public_id()`: 80 random bits as hex
STATUS_PATH = "/t/"                     # the citizen's ticket status page: /t/<public id>


def event(ctx: Context, ticket_id: int, kind: str, window: int | None = None, **detail: Any) -> None:
    ctx.db.execute(
        "INSERT INTO ticket_events (ticket_id, at_ms, kind, window, node, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [ticket_id, ctx.now_ms, kind, window, ctx.node, dumps(detail)],
    )


def ticket_no(category: str, seq: int) -> str:
    return f"{category}{seq:03d}"


def take(ctx: Context, category: str, priority_kind: str | None = None) -> dict[str, Any]:
    config = ctx.config
    try:
        config.category(category)
    except KeyError:
        raise UnknownCategory(f"no service category {category!r}", category=category) from None
    if priority_kind is not None and priority_kind not in PRIORITY_KINDS:
        raise BadRequest(f"priority must be one of {sorted(PRIORITY_KINDS)}", field="priority",
                         allowed=sorted(PRIORITY_KINDS))
    if priority_kind is not None and ctx.node_kind not in PRIORITY_GIVERS:
        raise PriorityNotAllowed(f"{ctx.node_kind} may not give a priority ticket: a dispenser or staff gives them",
                                 priority=priority_kind)
    day = day_of(ctx.now_ms, config)
    seq = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets WHERE day = ? AND category = ?", [day, category]
    ).fetchone()[0]
    no = ticket_no(category, seq)
    priority = PRIORITY_KINDS.get(priority_kind or "", 0)
    pub = public_id()
    cur = ctx.db.execute(
        "INSERT INTO tickets (day, category, seq, no, priority, priority_kind, status, taken_ms, queued_ms, pub) "
        "VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?)",
        [day, category, seq, no, priority, priority_kind, ctx.now_ms, ctx.now_ms, pub],
    )
    tid = cur.lastrowid
    assert tid is not None
    event(ctx, tid, "taken", None, priority=priority_kind)
    ahead_sql, ahead_params = _ahead_where({"id": tid, "category": category, "priority": priority,
                                            "target_window": None, "queued_ms": ctx.now_ms})
    # the queue's counts, the tickets before this one and those called before it, in one pass over
    # the category's waiting tickets (the new one is among them: it is not before itself)
    waiting, prio, oldest, at_or_above, ahead = ctx.db.execute(
        "SELECT COUNT(*), SUM(priority > 0), MIN(queued_ms), SUM(priority >= ?), "
        f"COALESCE(SUM({ahead_sql}), 0) FROM tickets WHERE status = 'waiting' AND category = ?",
        [priority, *ahead_params, category]).fetchone()
    before = at_or_above - 1
    queue = QueueValue(category, category_name(config, category), waiting, prio or 0, oldest,
                       published_last_called(ctx, category))     # a take calls nobody: last_called stays
    ctx.publish(f"queue/{category}", plain(queue))
    wait = estimate_for(ctx.db, config, category, day, ahead)
    path = status_path(pub)
    return {"ticket_id": tid, "ticket": no, "public_id": pub, "category": category, "priority": priority_kind,
            "waiting_before": before, "taken_ms": ctx.now_ms, "ahead": ahead,
            "wait_min_minutes": wait.min_minutes, "wait_max_minutes": wait.max_minutes,
            "status_path": path, "status_url": config.hall.public_url + path if config.hall.public_url else None}


def status_path(pub: str) -> str:
    """The path of ticket `pub`'s status page (the QR code on the printed ticket)."""
    return STATUS_PATH + pub


def is_public_id(text: str) -> bool:
    return len(text) == PUBLIC_ID_LEN and all(c in "0123456789abcdef" for c in text)


def public_status(db: sqlite_utils.Database, config: HallConfig, pub: str) -> dict[str, Any]:
    """What the citizen holding ticket `pub` may see: its number, category, status, how many are
    called before it and the estimated wait (minutes, None without an open window) while it waits,
    and the window it is called to. Nothing about other tickets."""
    t = row(db, "SELECT id, day, no, category, priority, status, window, target_window, queued_ms FROM tickets "
                "WHERE pub = ?", [pub]) if is_public_id(pub) else None
    if t is None:
        raise UnknownTicket("no such ticket")
    ahead = wait_min = wait_max = None
    if t["status"] == "waiting":
        ahead = ahead_of(db, t)
        wait = estimate_for(db, config, t["category"], t["day"], ahead, t["target_window"])
        wait_min, wait_max = wait.min_minutes, wait.max_minutes
    try:
        name = config.category(t["category"]).name
    except KeyError:
        name = ""
    return {"ticket": t["no"], "category": t["category"], "category_name": name, "status": t["status"],
            "ahead": ahead, "window": t["window"] if t["status"] in ("called", "serving") else None,
            "wait_min_minutes": wait_min, "wait_max_minutes": wait_max}


def ahead_of(db: Any, t: dict[str, Any]) -> int:
    """Waiting tickets called before ticket `t` (its id, category, priority, target_window, queued_ms):
    of its queue (or of the window it was sent to), higher priority first, then first come."""
    where, params = _ahead_where(t)
    return int(db.execute(f"SELECT COUNT(*) FROM tickets WHERE status = 'waiting' AND {where}", params).fetchone()[0])


def _ahead_where(t: dict[str, Any]) -> tuple[str, list[Any]]:
    """The condition (with its parameters) a waiting ticket meets when it is called before ticket `t`."""
    scope, params = ("target_window = ?", [t["target_window"]]) if t["target_window"] is not None else (
        "target_window IS NULL AND category = ?", [t["category"]])
    return (f"({scope} AND (priority > ? OR (priority = ? AND (queued_ms < ? OR (queued_ms = ? AND id < ?)))))",
            [*params, t["priority"], t["priority"], t["queued_ms"], t["queued_ms"], t["id"]])


def get(ctx: Context, ticket_id: int) -> dict[str, Any]:
    t = row(ctx, "SELECT * FROM tickets WHERE id = ?", [ticket_id])
    if t is None:
        raise UnknownTicket(f"no ticket {ticket_id}", ticket_id=ticket_id)
    return t


def current(ctx: Context, window: int) -> dict[str, Any]:
    """The ticket the window has called or is serving."""
    w = window_row(ctx, window)
    if w["ticket_id"] is None:
        raise NoCurrentTicket(f"window {window} has no called ticket", window=window)
    return get(ctx, w["ticket_id"])


def _ensure_free(ctx: Context, window: int) -> None:
    w = window_row(ctx, window)
    if w["ticket_id"] is not None or w["job_id"] is not None:
        raise WindowBusy(f"window {window} still has a ticket", window=window)


def _call(ctx: Context, w: Window, t: dict[str, Any], kind: str) -> dict[str, Any]:
    first = t["first_called_ms"] if t["first_called_ms"] is not None else ctx.now_ms
    ctx.db.execute(
        "UPDATE tickets SET status = 'called', window = ?, target_window = NULL, called_ms = ?, "
        "first_called_ms = ?, recalls = 0 WHERE id = ?",
        [w.number, ctx.now_ms, first, t["id"]],
    )
    event(ctx, t["id"], kind, w.number)
    set_window(ctx, w.number, ticket_id=t["id"], job_id=None)
    publish_queue(ctx, t["category"], t["no"])        # its called_ms is now: the category's last called
    publish_call(ctx)
    return {"ticket_id": t["id"], "ticket": t["no"], "category": t["category"], "priority": t["priority_kind"],
            "wait_ms": first - t["taken_ms"]}


def call_next(ctx: Context, w: Window) -> dict[str, Any]:
    """Priority first, then first come; only the window's categories, or tickets sent to this window."""
    _ensure_free(ctx, w.number)
    cats = list(w.categories)
    marks = ",".join("?" * len(cats)) or "NULL"
    t = row(ctx,
            f"SELECT * FROM tickets WHERE status = 'waiting' AND ((target_window IS NULL AND category IN ({marks})) "
            "OR target_window = ?) ORDER BY priority DESC, queued_ms, id LIMIT 1",
            [*cats, w.number])
    if t is None:
        raise QueueEmpty(f"no ticket waiting for window {w.number}", window=w.number)
    return _call(ctx, w, t, "called")


def recall(ctx: Context, w: Window) -> dict[str, Any]:
    """Call the current ticket again; past the cap (R9, default 5) the ticket is a no-show."""
    t = current(ctx, w.number)
    if t["status"] != "called":
        raise WrongTicketState(f"ticket {t['no']} is {t['status']}, not called", ticket=t["no"],
                               status=t["status"])
    cap = ctx.config.hall.thresholds.recall_cap
    if t["recalls"] >= cap:
        out = no_show(ctx, w)
        return {**out, "recalls": t["recalls"], "no_show": True}
    ctx.db.execute("UPDATE tickets SET recalls = recalls + 1 WHERE id = ?", [t["id"]])
    event(ctx, t["id"], "recalled", w.number, n=t["recalls"] + 1)
    publish_call(ctx)
    publish_window(ctx, w.number)           # `recalls` is part of window/<n>
    return {"ticket_id": t["id"], "ticket": t["no"], "recalls": t["recalls"] + 1, "no_show": False}


def no_show(ctx: Context, w: Window) -> dict[str, Any]:
    t = current(ctx, w.number)
    if t["status"] != "called":
        raise WrongTicketState(f"ticket {t['no']} is {t['status']}, not called", ticket=t["no"],
                               status=t["status"])
    ctx.db.execute("UPDATE tickets SET status = 'no_show' WHERE id = ?", [t["id"]])
    event(ctx, t["id"], "no_show", w.number)
    set_window(ctx, w.number, ticket_id=None, job_id=None)
    return {"ticket_id": t["id"], "ticket": t["no"]}


def park(ctx: Context, w: Window) -> dict[str, Any]:
    """挂起: the citizen steps away (e.g. to copy a document); the window is free for the next."""
    t = current(ctx, w.number)
    if t["status"] not in ("called", "serving"):
        raise WrongTicketState(f"ticket {t['no']} is {t['status']}", ticket=t["no"], status=t["status"])
    wr = window_row(ctx, w.number)
    if wr["job_id"] is not None:
        ctx.db.execute("UPDATE jobs SET status = 'parked' WHERE id = ?", [wr["job_id"]])
    ctx.db.execute("UPDATE tickets SET status = 'parked' WHERE id = ?", [t["id"]])
    event(ctx, t["id"], "parked", w.number, job_id=wr["job_id"])
    set_window(ctx, w.number, ticket_id=None, job_id=None)
    return {"ticket_id": t["id"], "ticket": t["no"]}


def call_back(ctx: Context, w: Window, ticket_id: int) -> dict[str, Any]:
    """回呼 a ticket this window parked; a parked 办件 resumes serving."""
    t = get(ctx, ticket_id)
    if t["status"] != "parked":
        raise WrongTicketState(f"ticket {t['no']} is {t['status']}, not parked", ticket=t["no"],
                               status=t["status"])
    if t["window"] != w.number:
        raise TicketNotHere(f"ticket {t['no']} was parked at window {t['window']}", ticket=t["no"],
                            window=t["window"])
    _ensure_free(ctx, w.number)
    job = row(ctx, "SELECT id FROM jobs WHERE ticket_id = ? AND status = 'parked'", [ticket_id])
    status = "serving" if job else "called"
    ctx.db.execute("UPDATE tickets SET status = ?, called_ms = ? WHERE id = ?", [status, ctx.now_ms, ticket_id])
    if job:
        ctx.db.execute("UPDATE jobs SET status = 'serving' WHERE id = ?", [job["id"]])
    event(ctx, ticket_id, "called_back", w.number)
    set_window(ctx, w.number, ticket_id=ticket_id, job_id=job["id"] if job else None)
    publish_queue(ctx, t["category"], t["no"])        # called again now: the category's last called
    publish_call(ctx)
    return {"ticket_id": ticket_id, "ticket": t["no"], "status": status}


def transfer(ctx: Context, w: Window, to_window: Window | None, to_category: str | None) -> dict[str, Any]:
    """转移 the current ticket to another window, or to another category's queue. A 办件 started
    here ends as `transferred` (not finished, no rating)."""
    if (to_window is None) == (to_category is None):
        raise BadRequest("give exactly one of to_window and to_category", field="to_window")
    t = current(ctx, w.number)
    if t["status"] not in ("called", "serving"):
        raise WrongTicketState(f"ticket {t['no']} is {t['status']}", ticket=t["no"], status=t["status"])
    category = t["category"]
    if to_category is not None:
        try:
            ctx.config.category(to_category)
        except KeyError:
            raise UnknownCategory(f"no service category {to_category!r}", category=to_category) from None
        category = to_category
    if to_window is not None and to_window.number == w.number:
        raise BadRequest("cannot transfer a ticket to its own window", field="to_window")
    wr = window_row(ctx, w.number)
    if wr["job_id"] is not None:
        ctx.db.execute("UPDATE jobs SET status = 'transferred' WHERE id = ?", [wr["job_id"]])
    ctx.db.execute(
        "UPDATE tickets SET status = 'waiting', category = ?, target_window = ?, window = NULL WHERE id = ?",
        [category, to_window.number if to_window else None, t["id"]],
    )
    event(ctx, t["id"], "transferred", w.number, to_window=to_window.number if to_window else None,
          to_category=to_category)
    set_window(ctx, w.number, ticket_id=None, job_id=None)
    publish_queue(ctx, t["category"])
    if category != t["category"]:
        publish_queue(ctx, category)
    return {"ticket_id": t["id"], "ticket": t["no"], "category": category,
            "to_window": to_window.number if to_window else None}


def expire_old(ctx: Context) -> int:
    """At a new day, tickets of earlier days still waiting or parked end as `expired`."""
    day = day_of(ctx.now_ms, ctx.config)
    old = rows(ctx, "SELECT id, category, status, window FROM tickets WHERE status IN ('waiting', 'parked') "
                    "AND day < ?", [day])
    for t in old:
        ctx.db.execute("UPDATE tickets SET status = 'expired' WHERE id = ?", [t["id"]])
        ctx.db.execute("UPDATE jobs SET status = 'transferred' WHERE ticket_id = ? AND status = 'parked'", [t["id"]])
        event(ctx, t["id"], "expired")
    for c in {t["category"] for t in old}:
        publish_queue(ctx, c)
    for n in sorted({t["window"] for t in old if t["status"] == "parked" and t["window"] is not None}):
        publish_window(ctx, n)              # its `parked` list
    return len(old)


def timeline(db: sqlite_utils.Database, ticket_id: int) -> list[dict[str, Any]]:
    return rows(db, "SELECT at_ms, kind, window, node, detail FROM ticket_events WHERE ticket_id = ? ORDER BY id",
                [ticket_id])
