"""Supervision's message types (issue 15): the problem ledger's hand entries and steps, patrols,
managers' manual assessment entries and the notification sender's results; and the tick's share
(overdue ledger items).

| type | from | body | result |
|---|---|---|---|
| `ledger.add` | web, manager | `{source: hotline/inspection/other, title, detail?, ref?, window?, staff_no?, unit?, owner?, due_workdays? (1–60, 5)}` | `{item_id, due_ms}` |
| `ledger.rectify` | web, manager | `{item_id, note}` | `{item_id, status: rectified, late}` |
| `ledger.close` | web, manager | `{item_id, evidence}` (销号) | `{item_id, status: closed, late}` |
| `assessment.entry` | web, manager | `{month: YYYY-MM, kind: org/self, target: window/staff, window? / staff_no?, points (−100…100, not 0), reason}` | `{entry_id}` |
| `notify.result` | system (the sender) | `{outbox_id, sent, error?}` | `{outbox_id, sent}` |
| `patrol.record` | web, manager | `{kind: daily/undercover/mock, announced?, window? (none: the whole hall), staff_no? (default: who is signed in there), findings?: [codes of [patrol] findings], note?, photos?: ["<32 hex>.jpg", …]}` | `{patrol_id, item_ids, staff_no}` |
"""

from __future__ import annotations

from typing import Any

from hall_server.domain import assessment_manual, ledger, notify, patrols
from hall_server.domain.common import MANAGER, SYSTEM, WEB, window_cfg
from hall_server.domain.context import BadRequest, Context, Handlers
from hallnet.bodies import AssessmentEntry, LedgerAdd, LedgerClose, LedgerRectify, NotifyResult, PatrolRecord
from hallnet.vocabulary import Msg

HANDLERS = Handlers()   # collected in hall_server.domain.handlers
MANAGERS = {WEB, MANAGER}


def _staff(ctx: Context, staff_no: str | None) -> str | None:
    if not staff_no:
        return None
    try:
        ctx.config.staff_member(staff_no)
    except KeyError:
        raise BadRequest(f"no staff member {staff_no}", field="staff_no") from None
    return staff_no


@HANDLERS.on(Msg.LEDGER_ADD, kinds=MANAGERS)
def ledger_add(ctx: Context, body: LedgerAdd) -> dict[str, Any]:
    window = window_cfg(ctx.config, body.window).number if body.window is not None else None
    item_id = ledger.add(ctx, ledger.NewItem(
        source=body.source, title=body.title, detail=body.detail, ref=body.ref, window=window,
        staff_no=_staff(ctx, body.staff_no), unit=body.unit, owner=body.owner, due_workdays=body.due_workdays))
    return {"item_id": item_id, "due_ms": ledger.get(ctx, item_id)["due_ms"]}


@HANDLERS.on(Msg.LEDGER_RECTIFY, kinds=MANAGERS)
def ledger_rectify(ctx: Context, body: LedgerRectify) -> dict[str, Any]:
    return ledger.rectify(ctx, body.item_id, body.note)


@HANDLERS.on(Msg.LEDGER_CLOSE, kinds=MANAGERS)
def ledger_close(ctx: Context, body: LedgerClose) -> dict[str, Any]:
    return ledger.close(ctx, body.item_id, body.evidence)


@HANDLERS.on(Msg.PATROL_RECORD, kinds=MANAGERS)
def patrol_record(ctx: Context, body: PatrolRecord) -> dict[str, Any]:
    window = window_cfg(ctx.config, body.window).number if body.window is not None else None
    return patrols.record(ctx, body.kind, body.announced, window, _staff(ctx, body.staff_no), list(body.findings),
                          body.note, list(body.photos))


@HANDLERS.on(Msg.ASSESSMENT_ENTRY, kinds=MANAGERS)
def assessment_entry(ctx: Context, body: AssessmentEntry) -> dict[str, Any]:
    window = window_cfg(ctx.config, body.window).number if body.window is not None else None
    return {"entry_id": assessment_manual.add_entry(ctx, body.month, body.kind, body.target, window,
                                                    _staff(ctx, body.staff_no), body.points, body.reason)}


def tick(ctx: Context) -> dict[str, Any]:
    """The system tick's share: ledger items that went overdue now."""
    newly = ledger.flag_overdue(ctx)
    for item_id in newly:
        notify.item_overdue(ctx, item_id)
    return {"overdue_items": len(newly)}


@HANDLERS.on(Msg.NOTIFY_RESULT, kinds={SYSTEM})
def notify_result(ctx: Context, body: NotifyResult) -> dict[str, Any]:
    """The notification sender's report on one message (sent, or failed: retried later)."""
    return notify.result(ctx, body.outbox_id, body.sent, body.error)
