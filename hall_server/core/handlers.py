"""The foundation's own message types (`FOUNDATION`: audit.note, node.report, node.presence) and
the table of the core and the domain (`core_handlers()`), a hub's default. The web side's own types
(`session.end`) are merged in above the core, where the server is assembled
(`hall_server.assembly.hall_handlers`): the core never imports the web side.

Handlers, their `Context` and the generic refusals live in `hall_server.domain.context`.
"""

from __future__ import annotations

import json
from typing import Any

from hall_server.domain.handlers import domain_handlers
from hall_server.domain.context import (
    MAX_DEVICE_DETAIL_BYTES, MAX_DEVICES_PER_NODE, MAX_REPORT_BYTES, BadRequest, Context, Handlers, TooLarge,
    TooManyKeys,
)
from hallnet.bodies import AuditNote, NodePresence, NodeReport
from hallnet.vocabulary import Key, Msg, NodeKind

FOUNDATION = Handlers()


def core_handlers() -> Handlers:
    """The message types of the core and the domain: the foundation's and the domain's (without
    the web side's, which `hall_server.assembly.hall_handlers` adds)."""
    return Handlers.merged(FOUNDATION, domain_handlers())


# --- the foundation's own message types -----------------------------------------------------

@FOUNDATION.on(Msg.AUDIT_NOTE)
def audit_note(ctx: Context, body: AuditNote) -> dict[str, Any]:
    """A node records something worth keeping in the hall's audit log."""
    ctx.audit(f"note.{body.kind}", body.subject, **body.detail)
    key = f"{Key.NOTES}{ctx.node}"
    count = ctx.current(key, {"count": 0})["count"] + 1
    ctx.publish(key, {"count": count, "last": body.kind})
    return {"count": count}


@FOUNDATION.on(Msg.NODE_REPORT)
def node_report(ctx: Context, body: NodeReport) -> dict[str, Any]:
    """A node reports its devices' health: {"devices": {"keypad-3": {"online": true, ...}}}.

    Limits (refused whole, nothing stored): at most MAX_DEVICES_PER_NODE devices per node (those
    already known count), MAX_DEVICE_DETAIL_BYTES of detail per device, MAX_REPORT_BYTES in all."""
    devices = body.devices
    changed = []
    details: dict[str, str] = {}
    for device, info in devices.items():
        if not device or len(device) > 64:
            raise BadRequest("devices must map a device name to a map", field="devices")
        online = info.get("online")
        if not isinstance(online, bool):
            raise BadRequest(f"devices[{device!r}].online must be true or false", field="devices")
        try:
            detail = json.dumps({k: v for k, v in info.items() if k != "online"}, ensure_ascii=False)
        except (TypeError, ValueError):
            raise BadRequest(f"devices[{device!r}] holds values that are not JSON", field="devices") from None
        if len(detail.encode()) > MAX_DEVICE_DETAIL_BYTES:
            raise TooLarge(f"devices[{device!r}] detail over {MAX_DEVICE_DETAIL_BYTES} bytes", field="devices",
                           max_bytes=MAX_DEVICE_DETAIL_BYTES)
        details[device] = detail
    if sum(len(d) for d in details.values()) > MAX_REPORT_BYTES:
        raise TooLarge(f"report over {MAX_REPORT_BYTES} bytes", field="devices", max_bytes=MAX_REPORT_BYTES)
    known = {r[0] for r in ctx.db.execute("SELECT device FROM devices WHERE node = ?", [ctx.node])}
    if len(known | set(details)) > MAX_DEVICES_PER_NODE:
        raise TooManyKeys(f"{ctx.node} would have more than {MAX_DEVICES_PER_NODE} devices", field="devices",
                          max_devices=MAX_DEVICES_PER_NODE)
    for device, detail in details.items():
        online = devices[device]["online"]
        row = ctx.db.execute(
            "SELECT online FROM devices WHERE node = ? AND device = ?", [ctx.node, device]
        ).fetchone()
        if row is None or bool(row[0]) != online:
            ctx.audit("device.online" if online else "device.offline", device)
            changed.append(device)
        ctx.db.execute(
            "INSERT INTO devices (node, device, online, detail, changed_ms) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (node, device) DO UPDATE SET online = excluded.online, detail = excluded.detail, "
            "changed_ms = CASE WHEN devices.online = excluded.online THEN devices.changed_ms ELSE excluded.changed_ms END",
            [ctx.node, device, int(online), detail, ctx.now_ms],
        )
        ctx.publish(f"{Key.DEVICE}{ctx.node}/{device}", {"online": online, **json.loads(detail)})
    return {"changed": changed}


@FOUNDATION.on(Msg.NODE_PRESENCE, kinds={NodeKind.SERVER})
def node_presence(ctx: Context, body: NodePresence) -> dict[str, Any]:
    """The bus saw a node come or go (heartbeats); screens show it, the audit log keeps it."""
    ctx.audit("node.up" if body.alive else "node.down", body.node)
    value: dict[str, Any] = {"alive": body.alive, "since_ms": body.since_ms or ctx.now_ms}
    before = ctx.current(f"{Key.NODE}{body.node}")
    if body.alive and isinstance(before, dict) and not before.get("alive") and isinstance(before.get("since_ms"), int):
        value["down_ms"] = before["since_ms"]     # the gap an offline terminal's actions may fall in
    ctx.publish(f"{Key.NODE}{body.node}", value)
    return {}
