"""The domain's node commands (`COMMANDS`, a handler table the hub is given): one handler per type.

Each takes its body as its type (`hallnet.bodies`, checked at the edge), then calls the rule
functions of the domain modules.
Who may send what (`kinds`): staff terminals never submit a rating (R6); only the server's
own timer sends `system.tick`.

| type | from | body | result |
|---|---|---|---|
| `queue.take` | dispenser, terminal, gateway, web, manager | `{category, priority?: appointment/elderly/green}` — a priority only from a dispenser, terminal or manager (`tickets.PRIORITY_GIVERS`; else `priority_not_allowed`) | `{ticket_id, ticket, public_id, category, priority, waiting_before, taken_ms, ahead, wait_min_minutes, wait_max_minutes, status_path, status_url}` (`hallnet.bodies.QueueTaken`) — `public_id` is the ticket's unguessable id for its status (`GET /api/tickets/{public_id}`, the page `status_path` = `/t/{public_id}`; `status_url` with `hall.public_url`, else None); `ahead` is what the status page says (tickets called before it; `waiting_before`, the older count, also counts tickets sent to one window); the estimated wait in whole minutes, both None when no window of the category is open |
| `window.sign_in` | terminal | `{staff_no, pin, new_pin?}` — after a manager reset the PIN (`admin.pin_reset`) the sign-in with the one-time PIN is refused `pin_change_required` until it carries the clerk's own `new_pin` (4–12 digits, else `bad_new_pin`) | `{window, staff_no, late, already}` |
| `window.sign_out` | terminal | `{done_ms?}` (all four: done offline, see `offline`) | `{window, staff_no, early}` |
| `window.pause` | terminal | `{reason, done_ms?}` | `{window, reason}` |
| `window.resume` | terminal | `{done_ms?}` | `{window, paused_ms}` |
| `staff.today` | terminal | `{}` | "my day" of the staff member signed in there: `{staff_no, day, served, mean_handle_ms, overdue, rated, participation (参评率), good_rate (好评率), counted, held_back, hold_back_min}` — ratings count only for 办件 finished ≥ 15 min ago (R6, `staff.TODAY_HOLD_MS`) |
| `queue.call_next` | terminal | `{}` | `{ticket_id, ticket, category, priority, wait_ms}` |
| `queue.recall` | terminal | `{}` | `{ticket_id, ticket, recalls, no_show}` |
| `queue.no_show` | terminal | `{}` | `{ticket_id, ticket}` |
| `queue.park` | terminal | `{}` | `{ticket_id, ticket}` |
| `queue.call_back` | terminal | `{ticket_id}` | `{ticket_id, ticket, status}` |
| `queue.transfer` | terminal | `{to_window}` or `{to_category}` | `{ticket_id, ticket, category, to_window}` |
| `job.start` | terminal | `{}` | `{job, ticket, already}` |
| `rating.submit` | kiosk (channel 4), gateway (5), qr (3), web (`channel` 1/2/3/6/7) | `{job? (public id), handle? (keypad handle = rating/<n>.handle), window (gateway), level, tags?, efficiency?, skill?, attitude?, text?, phone?, channel? (web), pressed_ms? (evaluators: when pressed; a late delivery still counts if pressed while the evaluator was open, see `ratings.pressed_in_time`)}` — a keypad (gateway) 差评 without tags is kept with the reserved tag `REASON_PENDING` (原因待回访); an evaluator (kiosk, keypad) may send that tag alone on a 差评 (the citizen walked away from the reasons) | `{rating_id, job, round: 1, case_id}` |
| `rating.link` | kiosk (own window only) | `{job}` (the public id `rating/<n>` carries) | `{job, qr_path, qr_url}` — the signed QR link of a 办件 finished at the kiosk's window that can still be rated by QR; refused `wrong_window`, `unknown_job`, `already_rated`, `rating_expired`; a read (module `links`) |
| `job.finish` | terminal, bizsys | `{service_code, job_no?, window (bizsys), done_ms?}` | `{job, job_no, job_no_source, handle_ms, overdue, rating_expires_ms, qr_expires_ms}` — never the slip's QR link (a rating credential): the devices gateway prints the slip (`slips`) |
| `slip.fetch` / `slip.result` / `slip.reprint` | gateway / gateway / terminal | see `hall_server.domain.slips` | the slip's print jobs; only `slip.fetch` (gateway) carries the QR link |
| `rating.followup` | qr, web | `{job, level, tags?, text?, channel? (web)}` | `{rating_id, job, round: 2, case_id}` |
| `case.callback` | web, manager | `{case_id, note?, reached?, satisfied?, words?}` (the outcome, `case_callbacks`) | `{case_id, status, late}` |
| `case.rectify` / `case.close` | web, manager | `{case_id, note}` — a note is required (`note_required`) | `{case_id, status, late?}` |
| `case.appeal` | terminal (own 办件), web, manager | `{case_id, reason}` | `{case_id, appeal}` |
| `case.decide` | web, manager | `{case_id, upheld, note?}` — never by the node that raised the appeal (`own_appeal`) | `{case_id, appeal}` |
| `ledger.*`, `patrol.record`, `assessment.entry`, `notify.result` | see `hall_server.domain.supervision` | | |
| `comment.submit` | qr, web, kiosk | `{text, phone?}` | `{case_id}` (R12) |
| `system.tick` | system | `{}` | counts of what changed |
| `export.delivered` | system | `{sink, upto}` | `{sink, upto}` |
| `case.city_note` | system (the city forwarder) | `{note_id, case_id, note, pushed_ms}` | `{note_id, case_id, applied}` — 督办: the city's note recorded on the case as a `city_pushback` event, once per `note_id` (table `city_notes`, migration 111) |
| `rating.sourced` | qr | `{kind: submit/followup, rating: <the rating.submit / rating.followup body>, rater_hash, address_hash}` (keyed hashes, 32 hex or '') | the inner result + `{flags: [same_rater / same_address]}` — registered in `domain.rating_flags`: a QR rating and where it came from in one transaction (issue 11 pattern flags) |
| `session.end` | web | `{nonce, user, expires_ms}` | `{ended: true}` — registered in `hall_server.web.sessions` (a manager's logout, kept across restarts) |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hall_server.domain import cases, jobs, offline, ratings, slips, staff, supervision, tickets
from hall_server.domain.common import (
    BIZSYS, DISPENSER, GATEWAY, KIOSK, MANAGER, QR, SYSTEM, TERMINAL, WEB, opt_int, req_int, row, window_at,
    window_cfg,
)
from hall_server.domain.errors import AlreadyRated, BadRequest, ChannelNotAllowed, RatingExpired, UnknownJob
from hall_server.domain.floor import ensure_windows
from hall_server.domain.context import Context, Handler, Handlers
from hallnet.bodies import (
    AtWindow, CaseAppeal, CaseCallback, CaseCityNote, CaseDecide, CaseStep, CommentSubmit, DoneAt, Empty,
    ExportDelivered, JobFinish, QueueCallBack,
    QueueTake, QueueTransfer, RatingFollowup, RatingSubmit, WindowPause, WindowSignIn,
)
from hallnet.vocabulary import Channel, Msg

COMMANDS = Handlers()   # the domain's node commands (collected in hall_server.core.handlers)


def handler(type_name: str, kinds: set[str] | None = None) -> Callable[[Handler], Handler]:
    """Add a domain command to COMMANDS. Once it ran, it marks the floor's summaries (`floor`,
    `mgr/floor`) as possibly changed: the writer recomputes them once per batch, after its last
    message (`hall_server.domain.floor.refresh_floor`), not once per command."""

    def wrap(fn: Handler) -> Handler:
        def run(ctx: Context, body: Any) -> dict[str, Any]:
            result = fn(ctx, body)
            ctx.floor_dirty = True
            return result

        run.__name__, run.__doc__ = fn.__name__, fn.__doc__
        COMMANDS.add(type_name, run, kinds)
        return fn

    return wrap


STAFF_SIDE = {TERMINAL}
MANAGERS = {WEB, MANAGER}
RATERS = {KIOSK, GATEWAY, QR, WEB}
NODE_CHANNEL = {KIOSK: int(Channel.KIOSK), GATEWAY: int(Channel.KEYPAD), QR: int(Channel.QR)}
WEB_CHANNELS = {int(c) for c in (Channel.PC, Channel.MOBILE, Channel.QR, Channel.PHONE, Channel.SMS)}


# --- tickets ---------------------------------------------------------------------------------

@handler(Msg.QUEUE_TAKE, kinds={DISPENSER, TERMINAL, GATEWAY, WEB, MANAGER})
def queue_take(ctx: Context, body: QueueTake) -> dict[str, Any]:
    return tickets.take(ctx, body.category, body.priority)


@handler(Msg.QUEUE_CALL_NEXT, kinds=STAFF_SIDE)
def queue_call_next(ctx: Context, body: AtWindow) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    staff.working(ctx, w.number)
    return tickets.call_next(ctx, w)


@handler(Msg.QUEUE_RECALL, kinds=STAFF_SIDE)
def queue_recall(ctx: Context, body: AtWindow) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    staff.working(ctx, w.number)
    return tickets.recall(ctx, w)


@handler(Msg.QUEUE_NO_SHOW, kinds=STAFF_SIDE)
def queue_no_show(ctx: Context, body: AtWindow) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    staff.signed_in(ctx, w.number)
    return tickets.no_show(ctx, w)


@handler(Msg.QUEUE_PARK, kinds=STAFF_SIDE)
def queue_park(ctx: Context, body: AtWindow) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    staff.signed_in(ctx, w.number)
    return tickets.park(ctx, w)


@handler(Msg.QUEUE_CALL_BACK, kinds=STAFF_SIDE)
def queue_call_back(ctx: Context, body: QueueCallBack) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    staff.working(ctx, w.number)
    return tickets.call_back(ctx, w, body.ticket_id)


@handler(Msg.QUEUE_TRANSFER, kinds=STAFF_SIDE)
def queue_transfer(ctx: Context, body: QueueTransfer) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    staff.signed_in(ctx, w.number)
    to_window = window_cfg(ctx.config, body.to_window) if body.to_window is not None else None
    to_category = body.to_category or None
    return tickets.transfer(ctx, w, to_window, to_category)


# --- staff -----------------------------------------------------------------------------------

@handler(Msg.WINDOW_SIGN_IN, kinds=STAFF_SIDE)
def window_sign_in(ctx: Context, body: WindowSignIn) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    return staff.sign_in(ctx, w.number, body.staff_no, body.pin, body.new_pin)


@handler(Msg.WINDOW_SIGN_OUT, kinds=STAFF_SIDE)
def window_sign_out(ctx: Context, body: DoneAt) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    return staff.sign_out(offline.as_done(ctx, body.done_ms), w.number)


@handler(Msg.WINDOW_PAUSE, kinds=STAFF_SIDE)
def window_pause(ctx: Context, body: WindowPause) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    reason = body.reason.strip()
    if not reason:
        raise BadRequest("a pause needs a reason", field="reason")
    return staff.pause(offline.as_done(ctx, body.done_ms), w.number, reason)


@handler(Msg.WINDOW_RESUME, kinds=STAFF_SIDE)
def window_resume(ctx: Context, body: DoneAt) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    return staff.resume(offline.as_done(ctx, body.done_ms), w.number)


@handler(Msg.STAFF_TODAY, kinds=STAFF_SIDE)
def staff_today(ctx: Context, body: AtWindow) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    return staff.today(ctx, w.number)


# --- 办件 --------------------------------------------------------------------------------------

@handler(Msg.JOB_START, kinds=STAFF_SIDE)
def job_start(ctx: Context, body: AtWindow) -> dict[str, Any]:
    w = window_at(ctx, body.window)
    r = staff.working(ctx, w.number)
    return jobs.start(ctx, w.number, r["staff_no"])


@handler(Msg.JOB_FINISH, kinds=STAFF_SIDE | {BIZSYS})
def job_finish(ctx: Context, body: JobFinish) -> dict[str, Any]:
    """The window finishes its 办件; or the business system does, with its 办件编号, for a window.
    A called ticket not yet marked as served is started first."""
    w = window_at(ctx, body.window)
    ctx = offline.as_done(ctx, body.done_ms)        # done while the server was unreachable: at that time
    service_code, job_no = body.service_code, body.job_no or None
    r = staff.signed_in(ctx, w.number)
    if r["job_id"] is None and r["ticket_id"] is not None:
        jobs.start(ctx, w.number, r["staff_no"])
    source = "system" if ctx.node_kind == BIZSYS else "window"
    result = jobs.finish(ctx, w.number, service_code, job_no, source)
    slips.after_finish(ctx, w.number, result["job"])       # the gateway prints the slip, if there is a printer
    return result


# --- ratings ---------------------------------------------------------------------------------

def _channel(ctx: Context, sent: object) -> int:
    """The rating's channel: the node's own (kiosk, keypad gateway, QR), or the web's named one."""
    if ctx.node_kind in NODE_CHANNEL:
        ch = NODE_CHANNEL[ctx.node_kind]
        if sent not in (None, ch):
            raise ChannelNotAllowed(f"{ctx.node_kind} rates on channel {ch}", channel=sent, allowed=[ch])
        return ch
    ch = req_int({} if sent is None else {"channel": sent}, "channel", 0, 99)
    if ch not in WEB_CHANNELS:
        raise ChannelNotAllowed(f"channel {ch} cannot be used here (allowed: {sorted(WEB_CHANNELS)})", channel=ch,
                                allowed=sorted(WEB_CHANNELS))
    return ch


def _pressed_ms(sent: object) -> int | None:
    return opt_int({"pressed_ms": sent}, "pressed_ms", 0, 2**53)


def _job_for_rating(ctx: Context, body: RatingSubmit) -> tuple[dict[str, Any], int | None]:
    """The 办件 a rating is for and the rating node's own window (None for QR / web)."""
    own: int | None = None
    if ctx.node_kind in (KIOSK, GATEWAY):
        own = window_at(ctx, body.window).number
    if body.job is not None:
        return jobs.by_pub(ctx.db, body.job), own
    if body.handle is not None and own is not None:
        j = row(ctx, "SELECT * FROM jobs WHERE id = ?", [body.handle])
        if j is None:
            raise UnknownJob("no such 办件")
        return j, own
    if own is None:
        raise BadRequest("missing field 'job'", field="job")
    pressed = _pressed_ms(body.pressed_ms)
    if pressed is not None:
        # a late delivery: the 办件 that was open at this window when the citizen pressed
        j = row(ctx, "SELECT * FROM jobs WHERE window = ? AND status = 'finished' AND finished_ms <= ? "
                     "ORDER BY finished_ms DESC, id DESC LIMIT 1", [own, pressed])
        if j is not None:
            return j, own
    w = row(ctx, "SELECT rating_job_id FROM windows WHERE number = ?", [own])
    if w is None or w["rating_job_id"] is None:
        # nothing open: the window's last finished 办件 says why (already rated, or too late)
        j = row(ctx, "SELECT * FROM jobs WHERE window = ? AND status = 'finished' ORDER BY finished_ms DESC, id DESC "
                     "LIMIT 1", [own])
        if j is not None and j["rating"] in ("rated", "default"):
            raise AlreadyRated("this 办件 has been rated (已评价)")
        raise RatingExpired(f"window {own} has no 办件 waiting for a rating")
    j = row(ctx, "SELECT * FROM jobs WHERE id = ?", [w["rating_job_id"]])
    assert j is not None
    return j, own


@handler(Msg.RATING_SUBMIT, kinds=RATERS)
def rating_submit(ctx: Context, body: RatingSubmit) -> dict[str, Any]:
    channel = _channel(ctx, body.channel)
    sub = {"efficiency": body.efficiency, "skill": body.skill, "attitude": body.attitude}
    pressed = _pressed_ms(body.pressed_ms) if channel in ratings.EVALUATOR_CHANNELS else None
    job, own = _job_for_rating(ctx, body)
    return ratings.submit(ctx, job, channel, own, body.level, body.tags, sub, body.text or "", body.phone or "",
                          pressed)


@handler(Msg.RATING_FOLLOWUP, kinds={QR, WEB})
def rating_followup(ctx: Context, body: RatingFollowup) -> dict[str, Any]:
    channel = _channel(ctx, body.channel)
    job = jobs.by_pub(ctx.db, body.job)
    return ratings.followup(ctx, job, channel, body.level, body.tags, body.text or "")


# --- cases -----------------------------------------------------------------------------------

@handler(Msg.CASE_CALLBACK, kinds=MANAGERS)
def case_callback(ctx: Context, body: CaseCallback) -> dict[str, Any]:
    return cases.callback(ctx, body.case_id, body.note or "", body.reached, body.satisfied, body.words or "")


@handler(Msg.CASE_RECTIFY, kinds=MANAGERS)
def case_rectify(ctx: Context, body: CaseStep) -> dict[str, Any]:
    return cases.rectify(ctx, body.case_id, body.note or "")


@handler(Msg.CASE_CLOSE, kinds=MANAGERS)
def case_close(ctx: Context, body: CaseStep) -> dict[str, Any]:
    return cases.close(ctx, body.case_id, body.note or "")


@handler(Msg.CASE_APPEAL, kinds=STAFF_SIDE | MANAGERS)
def case_appeal(ctx: Context, body: CaseAppeal) -> dict[str, Any]:
    staff_no = None
    if ctx.node_kind == TERMINAL:
        w = window_at(ctx, body.window)
        staff_no = staff.signed_in(ctx, w.number)["staff_no"]
    return cases.appeal(ctx, body.case_id, staff_no, body.reason)


@handler(Msg.CASE_DECIDE, kinds=MANAGERS)
def case_decide(ctx: Context, body: CaseDecide) -> dict[str, Any]:
    return cases.decide(ctx, body.case_id, body.upheld, body.note or "")


@handler(Msg.COMMENT_SUBMIT, kinds={QR, WEB, KIOSK})
def comment_submit(ctx: Context, body: CommentSubmit) -> dict[str, Any]:
    text = body.text.strip()
    if not text:
        raise BadRequest("a comment needs text", field="text")
    return {"case_id": cases.open_comment(ctx, text, body.phone or "")}


# --- the server's own timer and exporter -----------------------------------------------------

@handler(Msg.SYSTEM_TICK, kinds={SYSTEM})
def system_tick(ctx: Context, body: Empty) -> dict[str, Any]:
    """Periodic (every few seconds): expire rating opportunities, flag 离岗/空岗, recompute provisional
    case due dates once the official calendar is known, flag overdue cases, expire earlier days'
    tickets, sign out sessions left open overnight."""
    config = ctx.config
    ensure_windows(ctx.db, config)
    out: dict[str, Any] = {}
    out.update(ratings.expire(ctx))
    out.update(staff.flag_absence(ctx))
    out["recomputed_cases"] = cases.recompute_due(ctx)
    out["overdue_cases"] = cases.flag_overdue(ctx)
    out.update(supervision.tick(ctx))
    out["expired_tickets"] = tickets.expire_old(ctx)
    out["auto_signed_out"] = staff.auto_sign_out(ctx)
    out["stuck_slips"] = slips.expire_stuck(ctx)          # 打印超时: the gateway died mid-job
    return out


@handler(Msg.EXPORT_DELIVERED, kinds={SYSTEM})
def export_delivered(ctx: Context, body: ExportDelivered) -> dict[str, Any]:
    """The exporter delivered every rating up to `upto` to `sink`: move its cursor forward."""
    sink, upto = body.sink, body.upto
    ctx.db.execute(
        "INSERT INTO export_cursor (sink, last_rating_id, delivered_ms) VALUES (?, ?, ?) "
        "ON CONFLICT (sink) DO UPDATE SET last_rating_id = MAX(last_rating_id, excluded.last_rating_id), "
        "delivered_ms = excluded.delivered_ms",
        [sink, upto, ctx.now_ms],
    )
    return {"sink": sink, "upto": upto}


@handler(Msg.CASE_CITY_NOTE, kinds={SYSTEM})
def case_city_note(ctx: Context, body: CaseCityNote) -> dict[str, Any]:
    """督办: the city forwarder hands over a city manager's note on one of our cases."""
    return cases.city_note(ctx, body.note_id, body.case_id, body.note, body.pushed_ms)
