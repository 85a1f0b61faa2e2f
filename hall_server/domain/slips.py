"""Slips (办结通知书 with the rating QR code), printed by the hall-side devices gateway.

The QR link on a slip is a credential to rate one 办件 (DESIGN.md "Rating tokens"), so it never
travels in state (every node subscribes to every key) nor to a staff terminal. Instead:

1. When a 办件 is finished at a window with a printer (windows.toml `printer`), a print job is
   recorded (table `slips`, reason `first`) and its id is listed in the state key `slips/<n>`.
2. The devices gateway sees the id and asks `slip.fetch {print_id}`: only a `gateway` node may, and
   the reply (ROUTER, to the asker alone) carries the slip's fields with the signed link.
3. The gateway prints it and reports `slip.result {print_id, ok, error?}`; a pending print stays
   pending (listed in `slips/<n>`) until then, so a gateway that restarts before it sent the slip
   to the printer prints it again. One that restarts after (its own journal says so,
   devices/slip_printing.py) reports it `interrupted` instead: the paper may be out already.
4. `window/<n>.slip` tells the terminal how the latest print went, token-free; a failed print is
   retried only by the clerk's 补打 (`slip.reprint`), never silently.
5. A print fetched but not reported within hall.toml `[printing] stuck_after_s` (the gateway died
   mid-job) is marked failed, `timeout` (打印超时), by the system tick (`expire_stuck`), so the
   clerk sees it and can 补打. A result that arrives later for it is still recorded as the gateway
   reports it (both facts are in `audit`: `slip.timeout`, then `slip.late_result`).

Outcomes (`slips.state`): `printed`; `failed` with `error` in FAILED_ERRORS (no_paper, offline,
not_connected, error from the gateway; timeout from the tick); `unconfirmed` with `error` in
UNCONFIRMED_ERRORS — the gateway cannot tell whether paper came out: `no_status` (the bytes went
to a printer that did not answer the status request after printing), `interrupted` (the gateway
restarted after sending the slip to the printer, before reporting it). An unconfirmed slip is not
printed again by itself either: the clerk looks at the printer and asks for 补打 if needed. Failed
and unconfirmed slips of today's 办件 are alerts on the managers' floor (`alerts.slip_alerts`)
until a later print of the same 办件 succeeds.

| type | from | body | result |
|---|---|---|---|
| `slip.fetch` | gateway | `{print_id}` | `{print_id, window, reprint, hall_name, job, job_no, service_code, service_name, finished_ms, qr_path, qr_url}` — refused `slip_not_pending` once printed or failed |
| `slip.result` | gateway | `{print_id, ok, error?: no_paper/offline/not_connected/error (failed), no_status/interrupted (unconfirmed)}` | `{print_id, state, already}` — `already` (nothing changed) once reported, except for a print the tick timed out, whose late result is recorded |
| `slip.reprint` | terminal | `{job?}` (a public id of one of today's 办件 at this window; default: its last finished one) | `{print_id, job_no, already}` (`already`: that 办件's slip is still waiting to print) |

State key: `slips/<n>` = `{window, pending: [print_id, …]}` while window n has prints waiting, else deleted.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain import staff
from hall_server.domain.common import GATEWAY, TERMINAL, row, rows, window_at
from hall_server.domain.errors import UnknownJob
from hall_server.domain.floor import publish_window
from hall_server.domain.hours import day_of
from hall_server.domain.jobs import qr_link
from hall_server.domain.context import Context, DomainError, Handlers
from hallnet.bodies import SlipFetch, SlipReprint, SlipResult
from hallnet.vocabulary import Key, Msg

STATES = ("pending", "printed", "failed", "unconfirmed")
PRINT_ERRORS = ("no_paper", "offline", "not_connected", "error")   # why a print failed, as the gateway saw it
TIMEOUT = "timeout"                                                # the tick's: fetched, never reported
FAILED_ERRORS = (*PRINT_ERRORS, TIMEOUT)
UNCONFIRMED_ERRORS = ("no_status", "interrupted")                  # sent to the printer, outcome unknown


class NoPrinter(DomainError):
    """The window has no printer configured (windows.toml `printer`)."""

    code = "no_printer"


class UnknownSlip(DomainError):
    code = "unknown_slip"


class SlipNotPending(DomainError):
    """The print was already reported printed or failed; a failed one is retried by 补打 only."""

    code = "slip_not_pending"


class NothingToReprint(DomainError):
    """The window has not finished a 办件 (today) whose slip could be printed again."""

    code = "nothing_to_reprint"


def has_printer(config: HallConfig, window: int) -> bool:
    try:
        return config.window(window).printer is not None
    except KeyError:
        return False


def pending_ids(db: sqlite_utils.Database, window: int) -> list[int]:
    return [r["id"] for r in rows(db, "SELECT id FROM slips WHERE window = ? AND state = 'pending' ORDER BY id",
                                  [window])]


def publish_pending(ctx: Context, window: int) -> None:
    ids = pending_ids(ctx.db, window)
    ctx.publish(Key.slips(window), {"window": window, "pending": ids} if ids else None)


def queue(ctx: Context, window: int, job_id: int, reason: str) -> tuple[int | None, bool]:
    """Record a print of job `job_id`'s slip at `window` (none without a printer). Returns
    (print id, already): a print of that 办件 still waiting is not queued twice."""
    if not has_printer(ctx.config, window):
        return None, False
    waiting = row(ctx, "SELECT id FROM slips WHERE job_id = ? AND state = 'pending'", [job_id])
    if waiting is not None:
        return waiting["id"], True
    cur = ctx.db.execute("INSERT INTO slips (window, job_id, reason, created_ms) VALUES (?, ?, ?, ?)",
                         [window, job_id, reason, ctx.now_ms])
    publish_pending(ctx, window)
    publish_window(ctx, window)
    return cur.lastrowid, False


def after_finish(ctx: Context, window: int, job_pub: str) -> None:
    """A 办件 was just finished at `window`: its slip is printed if the window has a printer."""
    j = row(ctx, "SELECT id FROM jobs WHERE pub = ?", [job_pub])
    if j is not None:
        queue(ctx, window, j["id"], "first")


def _slip(ctx: Context, print_id: int) -> dict[str, Any]:
    s = row(ctx, "SELECT * FROM slips WHERE id = ?", [print_id])
    if s is None:
        raise UnknownSlip("no such print")
    return s


HANDLERS = Handlers()   # this module's message types (collected in hall_server.core.handlers)


@HANDLERS.on(Msg.SLIP_FETCH, kinds={GATEWAY})
def slip_fetch(ctx: Context, body: SlipFetch) -> dict[str, Any]:
    """The gateway asks for a pending slip: its fields and the signed QR link (to the asker alone)."""
    s = _slip(ctx, body.print_id)
    if s["state"] != "pending":
        raise SlipNotPending(f"print {s['id']} is {s['state']}", state=s["state"])
    job = row(ctx, "SELECT * FROM jobs WHERE id = ?", [s["job_id"]])
    assert job is not None
    config = ctx.config
    try:
        service_name = config.service(job["service_code"]).name
    except KeyError:
        service_name = job["service_code"] or ""
    ctx.db.execute("UPDATE slips SET fetched_ms = ?, node = ? WHERE id = ?", [ctx.now_ms, ctx.node, s["id"]])
    return {"print_id": s["id"], "window": s["window"], "reprint": s["reason"] == "reprint",
            "hall_name": config.hall.name, "job": job["pub"], "job_no": job["job_no"] or "",
            "service_code": job["service_code"] or "", "service_name": service_name,
            "finished_ms": job["finished_ms"], **qr_link(ctx, job)}


@HANDLERS.on(Msg.SLIP_RESULT, kinds={GATEWAY})
def slip_result(ctx: Context, body: SlipResult) -> dict[str, Any]:
    """The gateway printed a slip, could not (`error` says why), or cannot tell (unconfirmed).
    Only a pending print changes, or one the tick timed out (its late result is the truth)."""
    s = _slip(ctx, body.print_id)
    state, error = outcome(body.ok, body.error)
    late = s["state"] == "failed" and s["error"] == TIMEOUT
    if s["state"] != "pending" and not late:
        return {"print_id": s["id"], "state": s["state"], "already": True}
    ctx.db.execute("UPDATE slips SET state = ?, error = ?, done_ms = ?, node = ? WHERE id = ?",
                   [state, error, ctx.now_ms, ctx.node, s["id"]])
    if late:
        ctx.audit("slip.late_result", str(s["window"]), print_id=s["id"], state=state, error=error)
    elif state != "printed":
        ctx.audit(f"slip.{state}", str(s["window"]), print_id=s["id"], error=error)
    publish_pending(ctx, s["window"])
    publish_window(ctx, s["window"])
    return {"print_id": s["id"], "state": state, "already": False}


def outcome(ok: bool, error: str | None) -> tuple[str, str | None]:
    """(state, error) of a gateway's report; an unknown reason is the category `error`."""
    if ok:
        return "printed", None
    if error in UNCONFIRMED_ERRORS:
        return "unconfirmed", error
    return "failed", error if error in PRINT_ERRORS else "error"


def expire_stuck(ctx: Context) -> int:
    """Tick: prints fetched more than `[printing] stuck_after_s` ago and never reported (the
    gateway died mid-job) fail as `timeout`, so that the clerk sees them and can 补打."""
    before_ms = ctx.now_ms - ctx.config.hall.printing.stuck_after_s * 1000
    stuck = rows(ctx, "SELECT id, window FROM slips INDEXED BY slips_fetched WHERE state = 'pending' "
                      "AND fetched_ms IS NOT NULL "
                      "AND fetched_ms < ? ORDER BY id", [before_ms])
    for s in stuck:
        ctx.db.execute("UPDATE slips SET state = 'failed', error = ?, done_ms = ? WHERE id = ?",
                       [TIMEOUT, ctx.now_ms, s["id"]])
        ctx.audit("slip.timeout", str(s["window"]), print_id=s["id"])
    for window in sorted({s["window"] for s in stuck}):
        publish_pending(ctx, window)
        publish_window(ctx, window)
    return len(stuck)


@HANDLERS.on(Msg.SLIP_REPRINT, kinds={TERMINAL})
def slip_reprint(ctx: Context, body: SlipReprint) -> dict[str, Any]:
    """补打: print a slip of this window's last finished 办件 again (or of a named one of today's)."""
    w = window_at(ctx, body.window)
    staff.signed_in(ctx, w.number)
    config = ctx.config
    if not has_printer(config, w.number):
        raise NoPrinter(f"window {w.number} has no printer", window=w.number)
    pub = body.job or ""
    if pub:
        job = row(ctx, "SELECT id, job_no, window, day, status FROM jobs WHERE pub = ?", [pub])
        if (job is None or job["window"] != w.number or job["status"] != "finished"
                or job["day"] != day_of(ctx.now_ms, config)):
            raise UnknownJob("no such 办件 finished today at this window")
    else:
        last = row(ctx, "SELECT last_job_id FROM windows WHERE number = ?", [w.number])
        job = row(ctx, "SELECT id, job_no FROM jobs WHERE id = ? AND status = 'finished'",
                  [last["last_job_id"] if last else None])
        if job is None:
            raise NothingToReprint(f"window {w.number} has no finished 办件 to print again")
    print_id, already = queue(ctx, w.number, job["id"], "reprint")
    ctx.audit("slip.reprint", str(w.number), print_id=print_id, job_no=job["job_no"], already=already)
    return {"print_id": print_id, "job_no": job["job_no"] or "", "already": already}
