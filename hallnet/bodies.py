"""Every message type's body, typed (msgspec Structs), for validation at the edge.

The hall server's writer converts a body into its type before the handler runs: a body that does
not fit (a missing or unknown field, a wrong type, a value out of range) is refused as
`bad_request` with the field named (`details.field`), and the handler is handed the typed body.
On the wire nothing changes: a body is still a msgpack map; `BODIES` maps a type name to its
Struct. `bench/bodies.py` measures these Structs against dataclasses doing the same checks.

The limits are the ones the handlers checked by hand before (lengths, ranges); rules that need
the hall (a known window, a tag of the current list) stay in the domain.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from hallnet.vocabulary import Msg

Id = Annotated[int, msgspec.Meta(ge=1, le=2**62)]
Level = Annotated[int, msgspec.Meta(ge=1, le=5)]
Ms = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Window = int                       # a window number; which ones exist is the hall's (UnknownWindow)
Hex = Annotated[str, msgspec.Meta(max_length=64)]
Phone = Annotated[str, msgspec.Meta(max_length=20, pattern=r"^$|^\+?[0-9][0-9 -]{4,19}$")]


def _s(n: int) -> Any:
    return Annotated[str, msgspec.Meta(max_length=n)]


def _t(n: int) -> Any:
    """Free text: at most n characters, no NUL."""
    return Annotated[str, msgspec.Meta(max_length=n, pattern=r"^[^\x00]*$")]


class Body(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A message body: only the fields named here."""


class Empty(Body, kw_only=True):
    """No fields (the sender's window is its node id)."""


class AtWindow(Body, kw_only=True):
    """Only the window, which a terminal or kiosk may name (its own) and other nodes must name."""

    window: Window | None = None


# --- foundation -------------------------------------------------------------------------------

class AuditNote(Body, kw_only=True):
    kind: _s(64)
    subject: _s(200) = ""
    detail: dict[str, Any] = {}


class NodeReport(Body, kw_only=True):
    devices: Annotated[dict[str, dict[str, Any]], msgspec.Meta(max_length=64)]


class NodePresence(Body, kw_only=True):
    node: _s(64)
    alive: bool
    since_ms: int | None = None     # (going down at server start: when the previous run last applied a message)


class SessionEnd(Body, kw_only=True):
    nonce: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[0-9a-f]{16,64}$")]
    user: _s(64)
    expires_ms: int


# --- queue, window, staff, 办件 ------------------------------------------------------------------

class QueueTake(Body, kw_only=True):
    category: _s(8)
    priority: str | None = None


class QueueTaken(msgspec.Struct, frozen=True, kw_only=True):
    """The result of `queue.take` (the server's reply), as the dispenser reads it: not a request
    body (not in BODIES), so unknown fields are ignored (a newer server may add some). `ahead` is
    the people called before it, as its status page says (`waiting_before` is the older count, read
    when a server sends no `ahead`); the wait is a range in whole minutes,
    both None when no window serving the category is open; `status_path` is the ticket's status
    page ("/t/<public_id>"), `status_url` the same with the hall's `public_url` (None without one)."""

    ticket: str
    public_id: str = ""
    category: str = ""
    priority: str | None = None
    taken_ms: int | None = None
    waiting_before: int = 0
    ahead: int | None = None
    wait_min_minutes: int | None = None
    wait_max_minutes: int | None = None
    status_path: str | None = None
    status_url: str | None = None

    @property
    def people_ahead(self) -> int:
        return self.ahead if self.ahead is not None else self.waiting_before


def queue_taken(result: dict[str, Any]) -> QueueTaken:
    """A `queue.take` result as its type; raises BadBody naming the field that does not fit."""
    try:
        return msgspec.convert(result, QueueTaken, strict=True)
    except msgspec.ValidationError as exc:
        raise BadBody(str(exc)[:300], _field(str(exc), result, QueueTaken)) from None  # type: ignore[arg-type]


class QueueCallBack(AtWindow, kw_only=True):
    ticket_id: Id


class QueueTransfer(AtWindow, kw_only=True):
    to_window: Window | None = None
    to_category: _t(8) | None = None


class WindowSignIn(AtWindow, kw_only=True):
    staff_no: _s(8)
    pin: _s(32)
    new_pin: _s(32) = ""          # the clerk's own PIN, after a manager reset theirs (pin_change_required)


class DoneAt(AtWindow, kw_only=True):
    """An action a window terminal may take while the hall server is unreachable: `done_ms` is when
    the clerk did it (epoch ms), sent from its outbox later; the server bounds it to the time the
    terminal was offline (`hall_server.domain.offline`)."""

    done_ms: Annotated[int, msgspec.Meta(ge=0)] | None = None


class ScreenNotice(Body, kw_only=True):
    text: _s(200) = ""


class WindowPause(DoneAt, kw_only=True):
    reason: _s(32)


class JobFinish(DoneAt, kw_only=True):
    service_code: _s(64)
    job_no: _t(64) | None = None


# --- ratings, slips, cases ------------------------------------------------------------------

Tags = Annotated[list[_s(32)], msgspec.Meta(max_length=8)]


class RatingSubmit(AtWindow, kw_only=True):
    job: _s(64) | None = None
    handle: Annotated[int, msgspec.Meta(ge=1, le=2**32 - 1)] | None = None
    level: Level
    tags: Any = None                 # checked against the hall's tag list (UnknownTag, TagRequired)
    efficiency: Level | None = None
    skill: Level | None = None
    attitude: Level | None = None
    text: _t(500) | None = None
    phone: Phone | None = None
    channel: Any = None              # a node's own channel, or a web channel (ChannelNotAllowed)
    pressed_ms: Any = None           # an evaluator's press time (checked for evaluator channels only)


class RatingFollowup(Body, kw_only=True):
    job: _s(64)
    level: Level
    tags: Any = None
    text: _t(500) | None = None
    channel: Any = None


class RatingLink(Body, kw_only=True):
    job: _s(64)


Hash32 = Annotated[str, msgspec.Meta(pattern=r"^$|^[0-9a-f]{32}$")]   # a keyed hash, or '' when unknown


class RatingSourced(Body, kw_only=True):
    kind: Literal["submit", "followup"]
    rating: dict[str, Any]          # the inner rating.submit / rating.followup body, typed by its own handler
    rater_hash: Hash32 = ""
    address_hash: Hash32 = ""


class SlipFetch(Body, kw_only=True):
    print_id: Id


class SlipResult(Body, kw_only=True):
    print_id: Id
    ok: bool
    error: _t(32) | None = None


class SlipReprint(AtWindow, kw_only=True):
    job: _t(64) | None = None


class CaseStep(Body, kw_only=True):
    case_id: Id
    note: _t(1000) | None = None


class CaseCallback(CaseStep, kw_only=True):
    """回访 with its outcome: reached or not, the citizen's reason in their words, satisfied or not."""

    reached: bool | None = None
    satisfied: bool | None = None
    words: _t(1000) | None = None


class CaseAppeal(AtWindow, kw_only=True):
    case_id: Id
    reason: _s(1000)


class CaseDecide(Body, kw_only=True):
    case_id: Id
    upheld: bool
    note: _t(1000) | None = None


class CommentSubmit(Body, kw_only=True):
    text: _s(1000)
    phone: Phone | None = None


# --- supervision (issue 15) ---------------------------------------------------------------

class LedgerAdd(Body, kw_only=True):
    """A problem entered by hand: source hotline (12345) | inspection (督查) | other."""

    source: Literal["hotline", "inspection", "other"]
    title: _t(200)
    detail: _t(2000) = ""
    ref: _t(100) = ""
    window: Window | None = None
    staff_no: _s(32) | None = None
    unit: _t(100) = ""
    owner: _t(100) = ""
    due_workdays: Annotated[int, msgspec.Meta(ge=1, le=60)] = 5


class LedgerRectify(Body, kw_only=True):
    item_id: Id
    note: _t(1000)


class LedgerClose(Body, kw_only=True):
    """销号 with the evidence of what was done."""

    item_id: Id
    evidence: _t(1000)


class PatrolRecord(Body, kw_only=True):
    """A patrol: kind daily (日巡查) | undercover (明察暗访) | mock (模拟办事); a window or the whole hall
    (None); findings by code from hall.toml [patrol]; photos by the names the web side stored."""

    kind: Literal["daily", "undercover", "mock"]
    announced: bool = True
    window: Window | None = None
    staff_no: _s(32) | None = None
    findings: Annotated[list[_s(32)], msgspec.Meta(max_length=30)] = []
    note: _t(2000) = ""
    photos: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}\.jpg$")]],
                      msgspec.Meta(max_length=10)] = []


class AssessmentEntry(Body, kw_only=True):
    """A manager's manual assessment entry for a month: 组织考评 (org) or 自我考评 (self), points
    (negative: a deduction), for a window or a staff member."""

    month: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    kind: Literal["org", "self"]
    target: Literal["window", "staff"]
    window: Window | None = None
    staff_no: _s(32) | None = None
    points: Annotated[float, msgspec.Meta(ge=-100, le=100)]
    reason: _t(500)


class NotifyResult(Body, kw_only=True):
    """The notification sender's report on one outbox message: sent (2xx / SMTP accepted) or not."""

    outbox_id: Id
    sent: bool
    error: _t(300) = ""


class ExportDelivered(Body, kw_only=True):
    sink: _s(200)
    upto: Annotated[int, msgspec.Meta(ge=0, le=2**62)]


# --- the roster and leave (managers) ----------------------------------------------------------

Day = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
Half = Annotated[int, msgspec.Meta(ge=0, le=1)]         # 0 上午, 1 下午
StaffNo = Annotated[str, msgspec.Meta(max_length=8, pattern=r"^[!-~]*$")]


class RosterCell(Body, kw_only=True):
    """One window open in one half of one day; `staff_no` '' = open, nobody named."""

    day: Day
    half: Half
    window: Window
    staff_no: StaffNo = ""


class RosterSetWeek(Body, kw_only=True):
    """The whole roster of the week starting `monday`: its open days get exactly these cells."""

    monday: Day
    cells: Annotated[list[RosterCell], msgspec.Meta(max_length=7 * 2 * 400)]


class RosterCopyWeek(Body, kw_only=True):
    monday: Day


class LeaveAdd(Body, kw_only=True):
    staff_no: StaffNo
    kind: Literal["leave", "trip"] = "leave"
    start_day: Day
    start_half: Half = 0
    end_day: Day
    end_half: Half = 1
    note: _t(200) = ""


class LeaveCancel(Body, kw_only=True):
    leave_id: Id


class LeaveRequest(AtWindow, kw_only=True):
    """A clerk asks for leave at their terminal (the 工号 is whoever is signed in there)."""

    kind: Literal["leave", "trip"] = "leave"
    start_day: Day
    start_half: Half = 0
    end_day: Day
    end_half: Half = 1
    note: _t(200) = ""


class LeaveDecide(Body, kw_only=True):
    leave_id: Id
    approve: bool


# --- administration (hall_server.domain.admin) -----------------------------------------------

class AdminItem(Body, kw_only=True):
    """One item of the hall's configuration as its TOML table: kind file/window/category/service/
    staff/tag, its key (the file name, window number, code or 工号), and the new table (never None:
    nothing is ever deleted, a staff member or window is disabled or closed instead)."""

    kind: Literal["file", "window", "category", "service", "staff", "tag"]
    key: _s(64)
    doc: dict[str, Any]


class AdminChange(Body, kw_only=True):
    """A manager's change to the hall's configuration, applied and audited as one."""

    who: _s(64)                       # the web account
    what: _s(64)                      # e.g. staff.add, window.edit, tags.version
    subject: _s(200) = ""
    items: Annotated[list[AdminItem], msgspec.Meta(min_length=1, max_length=500)]


class AdminPinReset(Body, kw_only=True):
    """A manager reset a clerk's PIN to a one-time PIN (its hash); the clerk sets their own next."""

    who: _s(64)
    staff_no: _s(8)
    pin_hash: _s(200)


class AdminAccount(Body, kw_only=True):
    """A web account changed (users.json, by the 账号 page): recorded in the admin audit."""

    who: _s(64)
    what: Literal["account.add", "account.role", "account.password", "account.revoke"]
    account: _s(32)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class AdminUnlock(Body, kw_only=True):
    """A manager ends a staff member's lock-out (too many wrong PINs)."""

    who: _s(64)
    staff_no: _s(8)


class CaseCityNote(Body, kw_only=True):
    """督办: a city manager's note on one of the hall's cases (the city's note id makes it apply once)."""
    note_id: Id
    case_id: Id
    note: _t(1000)
    pushed_ms: Annotated[int, msgspec.Meta(ge=0, le=2**62)]


BODIES: dict[str, type[Body]] = {
    Msg.AUDIT_NOTE: AuditNote, Msg.NODE_REPORT: NodeReport, Msg.NODE_PRESENCE: NodePresence,
    Msg.SESSION_END: SessionEnd,
    Msg.QUEUE_TAKE: QueueTake, Msg.QUEUE_CALL_NEXT: AtWindow, Msg.QUEUE_RECALL: AtWindow,
    Msg.QUEUE_NO_SHOW: AtWindow, Msg.QUEUE_PARK: AtWindow, Msg.QUEUE_CALL_BACK: QueueCallBack,
    Msg.QUEUE_TRANSFER: QueueTransfer,
    Msg.WINDOW_SIGN_IN: WindowSignIn, Msg.WINDOW_SIGN_OUT: DoneAt, Msg.WINDOW_PAUSE: WindowPause,
    Msg.WINDOW_RESUME: DoneAt, Msg.STAFF_TODAY: AtWindow, Msg.JOB_START: AtWindow, Msg.JOB_FINISH: JobFinish,
    Msg.RATING_SUBMIT: RatingSubmit, Msg.RATING_FOLLOWUP: RatingFollowup, Msg.RATING_LINK: RatingLink,
    Msg.RATING_SOURCED: RatingSourced,
    Msg.SLIP_FETCH: SlipFetch, Msg.SLIP_RESULT: SlipResult, Msg.SLIP_REPRINT: SlipReprint,
    Msg.CASE_CALLBACK: CaseCallback, Msg.CASE_RECTIFY: CaseStep, Msg.CASE_CLOSE: CaseStep,
    Msg.CASE_APPEAL: CaseAppeal, Msg.CASE_DECIDE: CaseDecide, Msg.COMMENT_SUBMIT: CommentSubmit,
    Msg.SYSTEM_TICK: Empty, Msg.EXPORT_DELIVERED: ExportDelivered, Msg.CASE_CITY_NOTE: CaseCityNote,
    Msg.ROSTER_SET_WEEK: RosterSetWeek, Msg.ROSTER_COPY_WEEK: RosterCopyWeek,
    Msg.LEAVE_ADD: LeaveAdd, Msg.LEAVE_CANCEL: LeaveCancel, Msg.LEAVE_REQUEST: LeaveRequest,
    Msg.LEAVE_DECIDE: LeaveDecide,
    Msg.SCREEN_NOTICE: ScreenNotice,
    Msg.LEDGER_ADD: LedgerAdd, Msg.LEDGER_RECTIFY: LedgerRectify, Msg.LEDGER_CLOSE: LedgerClose,
    Msg.PATROL_RECORD: PatrolRecord, Msg.ASSESSMENT_ENTRY: AssessmentEntry, Msg.NOTIFY_RESULT: NotifyResult,
    Msg.ADMIN_CHANGE: AdminChange, Msg.ADMIN_UNLOCK: AdminUnlock, Msg.ADMIN_PIN_RESET: AdminPinReset,
    Msg.ADMIN_ACCOUNT: AdminAccount,
}


class BadBody(ValueError):
    """A body that does not fit its type; `field` names the offending field ('' for the body)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def typed(type_name: str, body: dict[str, Any]) -> Body | None:
    """The body as its type (None for a type without one). Raises BadBody naming the field."""
    kind = BODIES.get(type_name)
    if kind is None:
        return None
    try:
        return msgspec.convert(body, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise BadBody(str(exc)[:300], _field(str(exc), body, kind)) from None


def _field(message: str, body: dict[str, Any], kind: type[Body]) -> str:
    """The top-level field a msgspec message names (`... - at `$.level`` / `Object missing required
    field `job``, `Object contains unknown field `x``)."""
    if "at `$." in message:
        return message.split("at `$.", 1)[1].split("`", 1)[0].split(".", 1)[0].split("[", 1)[0]
    if "field `" in message:
        return message.split("field `", 1)[1].split("`", 1)[0]
    return ""
