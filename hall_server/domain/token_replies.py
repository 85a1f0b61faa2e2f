"""Rating tokens never rest in the store: the writer's dedupe table keeps token-free replies.

Two replies carry a 办件's signed rating link (`qr_path`, `qr_url`): `slip.fetch` (to the devices
gateway, which prints it) and `rating.link` (to the window's evaluator, which shows it). The single
writer keeps every reply in `applied` so that a resent message (the same node and message id, its
reply lost on the way) gets the same answer without being applied again (DESIGN "Messages"). Kept
as is, that table would hold a usable copy of every token handed out, for as long as the row
lives — a server-side credential store nobody needs.

What is kept instead: the reply with `qr_path` and `qr_url` set to None and `REDACTED` = True
(`redact`). On a resend the writer rebuilds the link from the 办件's row and the hall secret
(`restore`) and the node gets a working reply again.

Why rebuilding and not "redact once the slip's result arrives": the token is a deterministic
function of (hall secret, the 办件's public id, its `finished_ms`, `rating.qr_valid_days`) —
`hall_server.core.qr_token.sign` is an HMAC with no nonce nor clock — so the rebuilt link is the
one first handed out, byte for byte (unless a manager changed `qr_valid_days` in between; then it
is the link a fresh request would get, which works just the same). Redacting later would keep the
token at rest for a while, needs an event that `rating.link` does not have (a citizen may never
scan), and a crash between the two steps would leave it there for good. Rebuilding costs one
indexed read, only on resends, which are rare.

The rebuilt reply is what a fresh request would have been answered, minus the checks: a resend
is the same request, and the node that sent it is the one the reply goes to (the ROUTER identity
of the connection, authenticated by CURVE). Nothing else reads `applied` replies back.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.jobs import link

TOKEN_FIELDS = ("qr_path", "qr_url")      # the reply fields that carry a signed rating link
REDACTED = "_token_redacted"               # marks a stored reply whose link must be rebuilt on replay


def redact(result: dict[str, Any]) -> dict[str, Any]:
    """The reply as the dedupe table keeps it: without any rating link (`result` is not changed).
    A link without the 办件's public id beside it (no such reply today) is dropped for good."""
    if not any(result.get(f) for f in TOKEN_FIELDS):
        return result
    rebuildable = isinstance(result.get("job"), str)
    return {**result, **{f: None for f in TOKEN_FIELDS}, **({REDACTED: True} if rebuildable else {})}


def restore(db: sqlite_utils.Database, config: HallConfig, secret: bytes, stored: dict[str, Any]) -> dict[str, Any]:
    """A stored reply as the node gets it on a resend: the link rebuilt from the 办件's row."""
    if not stored.get(REDACTED):
        return stored
    out = {k: v for k, v in stored.items() if k != REDACTED}
    found = db.execute("SELECT pub, finished_ms FROM jobs WHERE pub = ?", [out.get("job")]).fetchone()
    if found is not None:
        out.update(link(secret, config, {"pub": found[0], "finished_ms": found[1]}))
    return out
