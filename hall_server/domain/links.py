"""`rating.link`: the citizen-side way to a 办件's signed rating link (the QR code on the evaluator).

Public state (`rating/<n>`, which every node reads, staff terminals included) carries no rating
token (DESIGN "Rating tokens"). The window's touchscreen evaluator asks for the link of the 办件
that `rating/<n>` opened, by its public id, and shows the QR code when the answer comes:

    rating.link  kiosk-<n>  {job}  →  {job, qr_path, qr_url}

Only a kiosk node may ask (a terminal is refused as `forbidden` by the handler registry), only
for a 办件 finished at its own window (`wrong_window` otherwise), that still takes a first rating
by QR (`rating_expired` once `qr_expires_ms` has passed or the 办件 is 未评价, `already_rated`
once rated). The link is the one the slip carries (`jobs.qr_link`, signed with the hall secret;
`qr_url` only with `hall.public_url`, else None).

A read: the handler writes nothing. Like every node message it passes the single writer, which
keeps its reply in `applied` (one small row, so a resent request gets the same answer); the kiosk
asks once per rating it shows. It is registered without the floor refresh of the domain commands
(`commands.handler`): a read changes no floor.
"""

from __future__ import annotations

from typing import Any

from hall_server.domain.common import KIOSK, window_at
from hall_server.domain.errors import AlreadyRated, NotFinished, RatingExpired, WrongWindow
from hall_server.domain.jobs import by_pub, qr_link
from hall_server.domain.context import Context, Handlers
from hallnet.bodies import RatingLink
from hallnet.vocabulary import Msg

LINK_TYPE = Msg.RATING_LINK


def link_for(ctx: Context, window: int, pub: str) -> dict[str, Any]:
    """The signed link of 办件 `pub` for the evaluator of `window`; a named refusal otherwise."""
    job = by_pub(ctx.db, pub)
    if job["window"] != window:
        raise WrongWindow(f"this 办件 was handled at window {job['window']}, not {window}", window=job["window"])
    if job["status"] != "finished" or job["finished_ms"] is None:
        raise NotFinished("this 办件 is not finished")
    if job["rating"] in ("rated", "default"):
        raise AlreadyRated("this 办件 has been rated (已评价)")
    if job["rating"] not in ("open", "qr") or job["qr_expires_ms"] is None or ctx.now_ms > job["qr_expires_ms"]:
        raise RatingExpired("the time to rate this 办件 is over")
    return {"job": job["pub"], **qr_link(ctx, job)}


HANDLERS = Handlers()   # this module's message types (collected in hall_server.core.handlers)


@HANDLERS.on(LINK_TYPE, kinds={KIOSK})
def rating_link(ctx: Context, body: RatingLink) -> dict[str, Any]:
    """The evaluator of window n (kiosk-n) asks for the QR link of the 办件 its rating screen shows."""
    own = window_at(ctx, None)
    return link_for(ctx, own.number, body.job)
