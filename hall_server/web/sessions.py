"""The managers' web sessions that ended, in the hall's store, so a logout survives a restart.

A session cookie (`hall_server.web.pages.auth`) names a random nonce. Logging out sends
`session.end` through the one writer; the row is kept until the cookie would have expired anyway,
then swept. Every request checks its nonce here (`is_ended`: one primary-key lookup on the
reader). Ending *all* sessions of an account (role or password change, `users revoke`) is the
account's generation in users.json (`hall_server.web.users`), not a row per session.

| type | from | body | result |
|---|---|---|---|
| `session.end` | web | `{nonce (16 hex), user, expires_ms}` | `{ended: true}` |
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from hall_server.domain.context import Context, Handlers
from hallnet.bodies import SessionEnd
from hallnet.vocabulary import Msg, NodeKind

HANDLERS = Handlers()   # this module's message types (collected in hall_server.core.handlers)


@HANDLERS.on(Msg.SESSION_END, kinds={NodeKind.WEB})
def session_end(ctx: Context, body: SessionEnd) -> dict[str, Any]:
    """A manager logged out: that session's cookie is dead from now on, restarts included."""
    nonce, user, expires_ms = body.nonce, body.user, body.expires_ms
    ctx.db.execute("DELETE FROM web_sessions_ended WHERE expires_ms < ?", [ctx.now_ms])
    ctx.db.execute("INSERT OR IGNORE INTO web_sessions_ended (nonce, user, ended_ms, expires_ms) VALUES (?, ?, ?, ?)",
                   [nonce, user, ctx.now_ms, expires_ms])
    ctx.audit("web.logout", user)
    return {"ended": True}


def is_ended(db: sqlite_utils.Database, nonce: str) -> bool:
    return db.execute("SELECT 1 FROM web_sessions_ended WHERE nonce = ?", [nonce]).fetchone() is not None
