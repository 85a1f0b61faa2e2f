"""Actions a window terminal took while the hall server was unreachable (`hallnet.bodies.DoneAt`:
办结, pause, resume, sign-out), applied at the time the clerk took them.

The terminal's clock is not trusted beyond what the server saw: a `done_ms` counts only within the
terminal's own offline gap — from when the bus last lost it (`node/<name>`'s `since_ms` while it is
down, or its `down_ms` once it is back) less `SLACK_MS` (the silence before the bus noticed), up to
when it came back (or now). Anything else is applied at the server's time, so a connected terminal
cannot antedate a 办结 to shorten its handling time, nor postdate a sign-out.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hall_server.domain.context import Context
from hallnet.vocabulary import Key

SLACK_MS = 30_000           # heartbeats stop this long before the bus marks a node gone
MAX_GAP_MS = 12 * 3_600_000  # an offline action older than this is applied at the server's time


def done_at(ctx: Context, done_ms: int | None) -> int:
    """The time to record for an action the sender says it took at `done_ms`."""
    if done_ms is None or done_ms >= ctx.now_ms or ctx.now_ms - done_ms > MAX_GAP_MS:
        return ctx.now_ms
    seen: Any = ctx.current(f"{Key.NODE}{ctx.node}")
    if not isinstance(seen, dict):
        return ctx.now_ms
    since = seen.get("since_ms")
    if seen.get("alive"):
        down, up = seen.get("down_ms"), since
    else:
        down, up = since, ctx.now_ms
    if not isinstance(down, int) or not isinstance(up, int):
        return ctx.now_ms
    return done_ms if down - SLACK_MS <= done_ms <= up else ctx.now_ms


def as_done(ctx: Context, done_ms: int | None) -> Context:
    """`ctx` with the clock set to when the clerk took the action (same transaction and deltas)."""
    at = done_at(ctx, done_ms)
    return ctx if at == ctx.now_ms else dataclasses.replace(ctx, now_ms=at)
