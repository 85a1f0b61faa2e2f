"""Notifications to the duty officers (issue 15), store-and-forward: what is written, and when.

A new 差评, a case or 问题台账 item going overdue, and a staff lockout (5 wrong PINs) each write one
message per configured channel (hall.toml `[notify]`: 企业微信, 钉钉, e-mail) into `notify_outbox`
**in the transaction of the event**: the event and its notification commit together or not at all.
The sender (`hall_server.core.notify_runner`) delivers due messages and reports each result back
through the one writer (`notify.result`): a success marks the message sent (it is never sent
again); a failure schedules the next try with a doubling backoff (`retry_first_s` … `retry_max_s`).
Nothing is lost while a channel is down; a message is sent once.

R6: a notification never carries the rater's phone number or text — only the window, the staff
member, the level, the reason tags, the due time and the case number.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from config.i18n import t
from config.reserved_tags import RESERVED_TAGS
from hall_server.domain.common import row
from hall_server.domain.context import Context
from hall_server.domain.errors import DomainError
from hall_server.domain.workdays import due_day


class UnknownMessage(DomainError):
    code = "unknown_message"


def enqueue(ctx: Context, event: str, subject: str, text: str) -> int:
    """Write the event's message for each configured channel; returns how many were written."""
    policy = ctx.config.hall.notify
    if event not in policy.events:
        return 0
    channels = policy.channels()
    for channel in channels:
        ctx.db.execute("INSERT INTO notify_outbox (uid, channel, event, subject, text, created_ms, next_ms) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [uuid.uuid4().hex, channel, event, subject, text, ctx.now_ms, ctx.now_ms])
    return len(channels)


def _window_name(ctx: Context, window: int | None) -> str:
    if window is None:
        return t("notify.whole_hall")
    try:
        return ctx.config.window(window).name
    except KeyError:
        return t("patrol.window_n", n=window)


def _staff_name(ctx: Context, staff_no: str | None) -> str:
    if not staff_no:
        return t("notify.nobody")
    try:
        return f"{ctx.config.staff_member(staff_no).name}（{staff_no}）"
    except KeyError:
        return staff_no


def bad_rating(ctx: Context, case_id: int, rating_id: int) -> int:
    """A new 差评: window, staff, level, reasons, call-back due. Never the rater's phone or text."""
    c = row(ctx, "SELECT window, staff_no, callback_due_ms FROM cases WHERE id = ?", [case_id])
    r = row(ctx, "SELECT level, tags FROM ratings WHERE id = ?", [rating_id])
    if c is None or r is None:
        return 0
    tags = json.loads(r["tags"]) if r["tags"] else []
    names = "、".join(_tag_name(ctx, code) for code in tags) or t("notify.no_reason")
    text = t("notify.bad_rating", hall=ctx.config.hall.name, window=_window_name(ctx, c["window"]),
             staff=_staff_name(ctx, c["staff_no"]), level=t(f"level.{r['level']}"), reasons=names,
             due=due_day(c["callback_due_ms"], ctx.config).isoformat(), case=case_id)
    return enqueue(ctx, "bad_rating", t("notify.bad_rating_subject", case=case_id), text)


def _tag_name(ctx: Context, code: str) -> str:
    """The tag's configured text (the reserved codes' texts, else the code): `ratings.tag_text`,
    which this module cannot import (ratings → cases → notify)."""
    by_code = ctx.config.tags.by_code()
    if code in by_code:
        return by_code[code].text
    return t("tag.REASON_PENDING") if code in RESERVED_TAGS else code


def case_overdue(ctx: Context, case_id: int, step: str) -> int:
    c = row(ctx, "SELECT kind, window, staff_no FROM cases WHERE id = ?", [case_id])
    if c is None:
        return 0
    text = t("notify.case_overdue", hall=ctx.config.hall.name, kind=t(f"ledger.source.{c['kind']}"), case=case_id,
             step=t(f"notify.step.{step}"), window=_window_name(ctx, c["window"]), staff=_staff_name(ctx, c["staff_no"]))
    return enqueue(ctx, "overdue", t("notify.overdue_subject"), text)


def item_overdue(ctx: Context, item_id: int) -> int:
    i = row(ctx, "SELECT source, title, window, staff_no, owner, unit, due_ms FROM ledger_items WHERE id = ?", [item_id])
    if i is None:
        return 0
    text = t("notify.item_overdue", hall=ctx.config.hall.name, source=t(f"ledger.source.{i['source']}"),
             title=i["title"], unit=i["unit"] or "—", owner=i["owner"] or "—",
             due=due_day(i["due_ms"], ctx.config).isoformat(), item=item_id)
    return enqueue(ctx, "overdue", t("notify.overdue_subject"), text)


def staff_locked(ctx: Context, staff_no: str, until_ms: int) -> int:
    from_node = ctx.node if ctx.node_kind == "terminal" else ""
    where = t("notify.at_terminal", window=from_node.partition("-")[2]) if from_node else ""
    text = t("notify.lockout", hall=ctx.config.hall.name, staff=_staff_name(ctx, staff_no), where=where,
             minutes=max(1, (until_ms - ctx.now_ms) // 60_000))
    return enqueue(ctx, "lockout", t("notify.lockout_subject"), text)


def result(ctx: Context, outbox_id: int, sent: bool, error: str) -> dict[str, Any]:
    """The sender's report: sent → marked (once; a late repeat changes nothing); failed → the next try
    after retry_first_s × 2^(attempts−1), at most retry_max_s."""
    m = row(ctx, "SELECT * FROM notify_outbox WHERE id = ?", [outbox_id])
    if m is None:
        raise UnknownMessage(f"no outbox message {outbox_id}", outbox_id=outbox_id)
    if m["sent_ms"] is not None:
        return {"outbox_id": outbox_id, "sent": True, "already": True}
    attempts = m["attempts"] + 1
    if sent:
        ctx.db.execute("UPDATE notify_outbox SET sent_ms = ?, attempts = ?, last_error = '' WHERE id = ?",
                       [ctx.now_ms, attempts, outbox_id])
        return {"outbox_id": outbox_id, "sent": True}
    policy = ctx.config.hall.notify
    wait_s = min(policy.retry_max_s, policy.retry_first_s * 2 ** (attempts - 1))
    ctx.db.execute("UPDATE notify_outbox SET attempts = ?, next_ms = ?, last_error = ? WHERE id = ?",
                   [attempts, ctx.now_ms + int(wait_s * 1000), error[:300], outbox_id])
    return {"outbox_id": outbox_id, "sent": False, "next_in_s": wait_s}
