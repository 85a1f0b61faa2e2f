"""Named refusals of the hall's rules. Each has a stable `code` that clients translate.

All are `hall_server.domain.context.DomainError` subclasses: the writer records them as the answer
to the message (a resent message gets the same refusal).
"""

from __future__ import annotations

from hall_server.domain.context import BadRequest, DomainError, Forbidden

__all__ = [
    "DomainError", "BadRequest", "Forbidden", "UnknownWindow", "UnknownCategory",
    "UnknownService", "UnknownStaff", "UnknownTicket", "UnknownJob", "UnknownCase", "UnknownTag",
    "NotSignedIn", "AlreadySignedIn", "WindowOccupied", "WrongPin", "AccountLocked", "Paused",
    "NotPaused", "WindowBusy", "QueueEmpty", "NoCurrentTicket", "TicketNotHere", "WrongTicketState",
    "CategoryNotServed", "NotServing", "JobNoTaken", "NotFinished", "WrongWindow", "RatingExpired",
    "AlreadyRated", "TagRequired", "ChannelNotAllowed", "FollowupNotAllowed", "WrongCaseState",
    "AppealExists",
    "PriorityNotAllowed", "WindowClosed",
]


class UnknownWindow(DomainError):
    code = "unknown_window"


class UnknownCategory(DomainError):
    code = "unknown_category"


class UnknownService(DomainError):
    code = "unknown_service"


class UnknownStaff(DomainError):
    code = "unknown_staff"


class UnknownTicket(DomainError):
    code = "unknown_ticket"


class UnknownJob(DomainError):
    code = "unknown_job"


class UnknownCase(DomainError):
    code = "unknown_case"


class UnknownTag(DomainError):
    code = "unknown_tag"


# --- staff -----------------------------------------------------------------------------------

class NotSignedIn(DomainError):
    code = "not_signed_in"


class AlreadySignedIn(DomainError):
    """The staff member is signed in at another window (one window per person at a time)."""

    code = "already_signed_in"


class WindowClosed(DomainError):
    """A manager closed this window (管理 → 窗口): nobody signs in there."""

    code = "window_closed"


class WindowOccupied(DomainError):
    """Someone else is signed in at this window."""

    code = "window_occupied"


class WrongPin(DomainError):
    """Wrong 工号 or PIN. The failure is kept (the writer commits it) so the lock-out counts."""

    code = "wrong_pin"
    keep_writes = True


class AccountLocked(DomainError):
    code = "account_locked"
    keep_writes = True


class Paused(DomainError):
    code = "paused"


class NotPaused(DomainError):
    code = "not_paused"


# --- queue -----------------------------------------------------------------------------------

class WindowBusy(DomainError):
    """The window still has a called or serving ticket: finish, park, transfer or no-show it first."""

    code = "window_busy"


class QueueEmpty(DomainError):
    code = "queue_empty"


class NoCurrentTicket(DomainError):
    code = "no_current_ticket"


class TicketNotHere(DomainError):
    code = "ticket_not_here"


class WrongTicketState(DomainError):
    code = "wrong_ticket_state"


class PriorityNotAllowed(Forbidden):
    """A priority ticket (appointment, elderly, 绿色通道) is given by a dispenser (the hall's
    导办员 chooses it) or a staff decision (terminal, manager); never by an anonymous web caller."""

    code = "priority_not_allowed"


class CategoryNotServed(DomainError):
    code = "category_not_served"


# --- 办件 (jobs) ------------------------------------------------------------------------------

class NotServing(DomainError):
    """The window has no 办件 being served."""

    code = "not_serving"


class JobNoTaken(DomainError):
    """This 办件编号 is already used by another 办件."""

    code = "job_no_taken"


# --- ratings ---------------------------------------------------------------------------------

class NotFinished(DomainError):
    code = "not_finished"


class WrongWindow(DomainError):
    code = "wrong_window"


class RatingExpired(DomainError):
    code = "rating_expired"


class AlreadyRated(DomainError):
    code = "already_rated"


class TagRequired(DomainError):
    """A 差评 (level 1 or 2) must carry at least one reason tag."""

    code = "tag_required"


class ChannelNotAllowed(DomainError):
    code = "channel_not_allowed"


class FollowupNotAllowed(DomainError):
    """A 追评 needs a rectified 差评 case and is allowed once."""

    code = "followup_not_allowed"


# --- cases -----------------------------------------------------------------------------------

class WrongCaseState(DomainError):
    code = "wrong_case_state"


class AppealExists(DomainError):
    code = "appeal_exists"


# --- supervision (ledger, patrols, assessment entries) ---------------------------------------

class UnknownItem(DomainError):
    """No ledger item of that id."""

    code = "unknown_item"


class NoteRequired(BadRequest):
    """A rectification, a close (销号) or a call-back needs a note saying what was done."""

    code = "note_required"


class OwnAppeal(DomainError):
    """The person who raised an appeal may not decide it."""

    code = "own_appeal"
