"""Supervision (issue 15): the problem ledger, patrols, manual assessment entries, the
notification sender's and the export pump's reports."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from hallnet.bodies.base import Body, Id, Window, _s, _t

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
