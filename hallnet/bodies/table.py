"""Every message type's body type (`BODIES`), and `typed`, the conversion at the edge."""

from __future__ import annotations

from typing import Any

import msgspec

from hallnet.bodies.admin import AdminAccount, AdminChange, AdminPinReset, AdminUnlock
from hallnet.bodies.base import AtWindow, BadBody, Body, DoneAt, Empty, field_of
from hallnet.bodies.foundation import AuditNote, NodePresence, NodeReport, ScreenNotice, SessionEnd
from hallnet.bodies.ratings import (
    CaseAppeal, CaseCallback, CaseCityNote, CaseDecide, CaseStep, CommentSubmit, RatingFollowup, RatingLink,
    RatingSourced, RatingSubmit, SlipFetch, SlipReprint, SlipResult,
)
from hallnet.bodies.roster import LeaveAdd, LeaveCancel, LeaveDecide, LeaveRequest, RosterCopyWeek, RosterSetWeek
from hallnet.bodies.supervision import (
    AssessmentEntry, ExportDelivered, LedgerAdd, LedgerClose, LedgerRectify, NotifyResult, PatrolRecord,
)
from hallnet.bodies.window import JobFinish, QueueCallBack, QueueTake, QueueTransfer, WindowPause, WindowSignIn
from hallnet.vocabulary import Msg

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


def typed(type_name: str, body: dict[str, Any]) -> Body | None:
    """The body as its type (None for a type without one). Raises BadBody naming the field."""
    kind = BODIES.get(type_name)
    if kind is None:
        return None
    try:
        return msgspec.convert(body, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise BadBody(str(exc)[:300], field_of(str(exc))) from None
