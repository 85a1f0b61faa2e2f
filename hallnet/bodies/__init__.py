"""Every message type's body, typed (msgspec Structs), for validation at the edge.

The hall server's writer converts a body into its type before the handler runs: a body that does
not fit (a missing or unknown field, a wrong type, a value out of range) is refused as
`bad_request` with the field named (`details.field`), and the handler is handed the typed body.
On the wire nothing changes: a body is still a msgpack map; `BODIES` maps a type name to its
Struct. `bench/bodies.py` measures these Structs against dataclasses doing the same checks.

The limits are the ones the handlers checked by hand before (lengths, ranges); rules that need
the hall (a known window, a tag of the current list) stay in the domain.

One module per area: `base` (the `Body` base, field types, `BadBody`), `foundation`, `window`
(queue, window, staff, 办件; the `queue.take` result and the published staff card), `ratings`
(ratings, slips, cases, comments), `supervision`, `roster` (roster and leave), `admin`; `table`
holds `BODIES` and `typed`. Every name is re-exported here: importers write
`from hallnet.bodies import X`.
"""

from __future__ import annotations

from hallnet.bodies.admin import AdminAccount, AdminChange, AdminItem, AdminPinReset, AdminUnlock
from hallnet.bodies.base import AtWindow, BadBody, Body, DoneAt, Empty, Hex, Id, Level, Ms, Phone, Window, field_of
from hallnet.bodies.foundation import AuditNote, NodePresence, NodeReport, ScreenNotice, SessionEnd
from hallnet.bodies.ratings import (
    CaseAppeal, CaseCallback, CaseCityNote, CaseDecide, CaseStep, CommentSubmit, Hash32, RatingFollowup, RatingLink,
    RatingSourced, RatingSubmit, SlipFetch, SlipReprint, SlipResult, Tags,
)
from hallnet.bodies.roster import (
    Day, Half, LeaveAdd, LeaveCancel, LeaveDecide, LeaveRequest, RosterCell, RosterCopyWeek, RosterSetWeek, StaffNo,
)
from hallnet.bodies.supervision import (
    AssessmentEntry, ExportDelivered, LedgerAdd, LedgerClose, LedgerRectify, NotifyResult, PatrolRecord,
)
from hallnet.bodies.table import BODIES, typed
from hallnet.bodies.window import (
    JobFinish, QueueCallBack, QueueTake, QueueTaken, QueueTransfer, StaffCard, WindowPause, WindowSignIn, queue_taken,
    staff_card_of,
)

__all__ = [
    "AdminAccount", "AdminChange", "AdminItem", "AdminPinReset", "AdminUnlock",
    "AtWindow", "BadBody", "Body", "DoneAt", "Empty", "Hex", "Id", "Level", "Ms", "Phone", "Window", "field_of",
    "AuditNote", "NodePresence", "NodeReport", "ScreenNotice", "SessionEnd",
    "CaseAppeal", "CaseCallback", "CaseCityNote", "CaseDecide", "CaseStep", "CommentSubmit", "Hash32", "RatingFollowup",
    "RatingLink", "RatingSourced", "RatingSubmit", "SlipFetch", "SlipReprint", "SlipResult", "Tags",
    "Day", "Half", "LeaveAdd", "LeaveCancel", "LeaveDecide", "LeaveRequest", "RosterCell", "RosterCopyWeek",
    "RosterSetWeek", "StaffNo",
    "AssessmentEntry", "ExportDelivered", "LedgerAdd", "LedgerClose", "LedgerRectify", "NotifyResult", "PatrolRecord",
    "BODIES", "typed",
    "JobFinish", "QueueCallBack", "QueueTake", "QueueTaken", "QueueTransfer", "StaffCard", "WindowPause",
    "WindowSignIn", "queue_taken", "staff_card_of",
]
