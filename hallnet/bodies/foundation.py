"""The foundation's bodies: a node's audit note, its devices' report, its presence (the bus's own),
a manager's logout (the web side's) and the hall screen's notice line."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from hallnet.bodies.base import Body, _s


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


class ScreenNotice(Body, kw_only=True):
    text: _s(200) = ""
