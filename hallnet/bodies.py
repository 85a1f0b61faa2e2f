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


class DoneAt(AtWindow, kw_only=True):
    """An action a window terminal may take while the hall server is unreachable: `done_ms` is when
    the clerk did it (epoch ms), sent from its outbox later; the server bounds it to the time the
    terminal was offline (`hall_server.domain.offline`)."""

    done_ms: Annotated[int, msgspec.Meta(ge=0)] | None = None


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


class ExportDelivered(Body, kw_only=True):
    sink: _s(200)
    upto: Annotated[int, msgspec.Meta(ge=0, le=2**62)]


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
    Msg.CASE_CALLBACK: CaseStep, Msg.CASE_RECTIFY: CaseStep, Msg.CASE_CLOSE: CaseStep,
    Msg.CASE_APPEAL: CaseAppeal, Msg.CASE_DECIDE: CaseDecide, Msg.COMMENT_SUBMIT: CommentSubmit,
    Msg.SYSTEM_TICK: Empty, Msg.EXPORT_DELIVERED: ExportDelivered, Msg.CASE_CITY_NOTE: CaseCityNote,
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
