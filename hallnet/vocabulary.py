"""The wire's words, in one place: message types, node kinds, rating channels, reserved tags, the
state keys the screens subscribe to, and the reply body.

Every package (hall server, kiosk, window terminal, devices gateway, demo traffic) names these
through this module instead of repeating strings. The enums are `str` / `int` enums: on the wire
they are the same msgpack strings and integers as before, so nodes of older builds still talk to
the server, and a member compares equal to its plain value.

Imports: the standard library and `config` only (config imports nothing from hallnet).
"""

from __future__ import annotations

import enum
from typing import Any

from config.reserved_tags import LEGACY_KEYPAD_TAG, PENDING_REASON_TAG, RESERVED_TAGS

__all__ = [
    "Msg", "NodeKind", "Channel", "REASON_PENDING", "KEYPAD", "RESERVED_TAGS", "Key", "node_id", "node_kind",
    "reply_body",
]


class Msg(enum.StrEnum):
    """Every message type a node (or the server itself) sends to the hall server."""

    # the wire's own
    HEARTBEAT = "hb"
    REPLY = "reply"
    DELTA = "delta"
    SNAPSHOT = "snapshot"
    ERROR = "error"
    # the foundation's
    AUDIT_NOTE = "audit.note"
    NODE_REPORT = "node.report"
    NODE_PRESENCE = "node.presence"
    SESSION_END = "session.end"
    # the queue
    QUEUE_TAKE = "queue.take"
    QUEUE_CALL_NEXT = "queue.call_next"
    QUEUE_RECALL = "queue.recall"
    QUEUE_NO_SHOW = "queue.no_show"
    QUEUE_PARK = "queue.park"
    QUEUE_CALL_BACK = "queue.call_back"
    QUEUE_TRANSFER = "queue.transfer"
    # the window and its staff
    WINDOW_SIGN_IN = "window.sign_in"
    WINDOW_SIGN_OUT = "window.sign_out"
    WINDOW_PAUSE = "window.pause"
    WINDOW_RESUME = "window.resume"
    STAFF_TODAY = "staff.today"
    JOB_START = "job.start"
    JOB_FINISH = "job.finish"
    # ratings, slips, cases
    RATING_SUBMIT = "rating.submit"
    RATING_FOLLOWUP = "rating.followup"
    RATING_LINK = "rating.link"
    RATING_SOURCED = "rating.sourced"
    SLIP_FETCH = "slip.fetch"
    SLIP_RESULT = "slip.result"
    SLIP_REPRINT = "slip.reprint"
    CASE_CALLBACK = "case.callback"
    CASE_RECTIFY = "case.rectify"
    CASE_CLOSE = "case.close"
    CASE_APPEAL = "case.appeal"
    CASE_DECIDE = "case.decide"
    COMMENT_SUBMIT = "comment.submit"
    # the roster (排班) and leave (请销假), from managers' pages
    ROSTER_SET_WEEK = "roster.set_week"
    ROSTER_COPY_WEEK = "roster.copy_week"
    LEAVE_ADD = "leave.add"
    LEAVE_CANCEL = "leave.cancel"
    LEAVE_REQUEST = "leave.request"
    LEAVE_DECIDE = "leave.decide"
    # supervision (issue 15): the problem ledger, patrols, manual assessment entries, notifications
    LEDGER_ADD = "ledger.add"
    LEDGER_RECTIFY = "ledger.rectify"
    LEDGER_CLOSE = "ledger.close"
    PATROL_RECORD = "patrol.record"
    ASSESSMENT_ENTRY = "assessment.entry"
    NOTIFY_RESULT = "notify.result"
    # the server's own timer
    SYSTEM_TICK = "system.tick"
    EXPORT_DELIVERED = "export.delivered"
    # the hall screen's notice line (published at start from hall.toml [screen] notice)
    SCREEN_NOTICE = "screen.notice"
    # the hall's configuration, edited in the browser (hall_server.domain.admin)
    ADMIN_CHANGE = "admin.change"
    ADMIN_UNLOCK = "admin.unlock"
    ADMIN_PIN_RESET = "admin.pin_reset"
    ADMIN_ACCOUNT = "admin.account"
    CASE_CITY_NOTE = "case.city_note"          # 督办: the city's note on a case, fetched by the forwarder


WIRE_TYPES = frozenset({Msg.HEARTBEAT, Msg.REPLY, Msg.DELTA, Msg.SNAPSHOT, Msg.ERROR})


class NodeKind(enum.StrEnum):
    """The kind of a node: the prefix of its id (`kiosk-3` → kiosk)."""

    TERMINAL = "terminal"      # the staff's window terminal, terminal-<window>
    KIOSK = "kiosk"            # the citizen's touchscreen evaluator, kiosk-<window>
    GATEWAY = "gateway"        # the serial devices gateway (keypads, printers), any window
    DISPENSER = "dispenser"    # the ticket dispenser
    WEB = "web"                # the HTTP side (QR page, manager console, JSON API)
    QR = "qr"                  # the QR page's own node id, when it has one
    BIZSYS = "bizsys"          # the hall's business system (integration API key)
    MANAGER = "manager"        # the manager console, when it is its own node
    SYSTEM = "system"          # the server's own timer (system.tick)
    SERVER = "server"          # the bus itself (node.presence)


def node_id(kind: NodeKind, name: str | int) -> str:
    """A node's id from its kind and its own part: `node_id(NodeKind.KIOSK, 3)` → "kiosk-3"."""
    return f"{kind.value}-{name}"


def node_kind(node: str) -> str:
    """The kind part of a node id: `kiosk-3` → "kiosk" (a plain string: unknown kinds stay as sent)."""
    return node.split("-", 1)[0]


class Channel(enum.IntEnum):
    """GB/T 39046 evaluation channels (评价渠道), the `channel` of a rating."""

    PC = 1            # PC端
    MOBILE = 2        # 移动端
    QR = 3            # 二维码 (the QR page)
    KIOSK = 4         # 窗口评价器 (the touchscreen evaluator at the window; config/labels.channel_label)
    KEYPAD = 5        # 评价按键 (the serial keypad, through the devices gateway)
    PHONE = 6         # 电话
    SMS = 7           # 短信


REASON_PENDING = PENDING_REASON_TAG    # 原因待回访: the reason is collected in the call-back
KEYPAD = LEGACY_KEYPAD_TAG             # the same, as old keypad 差评 were recorded


class Key:
    """The state keys (and key prefixes) the hall server publishes and nodes subscribe to."""

    WINDOW = "window/"     # window/<n>: one window's status, ticket, staff card, last rating
    RATING = "rating/"     # rating/<n>: the open rating of window n (the evaluator's prompt)
    SLIPS = "slips/"       # slips/<n>: window n's pending slip print jobs (gateway)
    QUEUE = "queue/"       # queue/<category>: waiting count and the next tickets
    CALLS = "calls"        # the recent calls, for the hall display
    FLOOR = "floor"        # the floor summary
    NOTICE = "notice"      # the hall screen's notice line: {text}
    MGR = "mgr/"           # managers only: never sent to other nodes
    NODE = "node/"         # node/<id>: presence
    DEVICE = "device/"     # device/<node>/<device>: a reported device
    NOTES = "notes/"       # notes/<node>: audit.note counter

    @staticmethod
    def window(number: int) -> str:
        return f"{Key.WINDOW}{number}"

    @staticmethod
    def rating(number: int) -> str:
        return f"{Key.RATING}{number}"

    @staticmethod
    def slips(number: int) -> str:
        return f"{Key.SLIPS}{number}"

    @staticmethod
    def queue(category: str) -> str:
        return f"{Key.QUEUE}{category}"


def reply_body(ref: str, *, ok: bool, result: dict[str, Any] | None = None, error: str = "", message: str = "",
               retry: bool = False, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of the server's answer to message `ref`: acknowledged with its result, refused by
    a rule (`error` code, `message` for logs, `details` for the UI), or `retry` (not applied)."""
    body: dict[str, Any] = {"ref": ref, "ok": ok, "retry": retry}
    if ok:
        body["result"] = result or {}
    else:
        body["error"] = error
        body["message"] = message
        if details:
            body["details"] = details
    return body
