"""`GET /screen/announce/{event_id}.wav`: one call announcement as a WAV, for the hall screen.

`event_id` is the `id` of an entry of the `calls` state key (`hall_server.domain.floor.publish_call`):
a ticket event of kind called, recalled or called_back, made today (the hall's day). Anything else
is a 404. Public like the hall screen (no login); the WAV says only the ticket number and the
window, which the hall screen shows anyway. The answer may be cached by the browser (an event never
changes); the server keeps the assembled WAVs in a bounded LRU (`announce_audio`), so a recall, or
several screens fetching one call, costs one assembly. Counted as a public read (`limits`).
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.i18n import t
from config.schema import Calling
from config.voice_pack import VoicePackError
from hall_server.domain.common import row
from hall_server.domain.hours import day_of
from hall_server.domain.speech import Unspeakable
from hall_server.web.announce_audio import AnnouncementCache
from hall_server.web.pages.layout import message
from hall_server.web.pages.qr_page import limited
from hall_server.web.pages.site import Site

log = logging.getLogger(__name__)

CALL_KINDS = ("called", "recalled", "called_back")
CACHE_CONTROL = "public, max-age=86400"
MAX_EVENT_ID = 2**63 - 1


def call_of(site: Site, event_id: int) -> tuple[str, int] | None:
    """(ticket number, window) of today's call event `event_id`, else None."""
    if not 0 < event_id <= MAX_EVENT_ID:
        return None
    e = row(site.backend.reader(), "SELECT e.at_ms, e.kind, e.window, t.no FROM ticket_events e "
                                   "JOIN tickets t ON t.id = e.ticket_id WHERE e.id = ?", [event_id])
    if e is None or e["kind"] not in CALL_KINDS or e["window"] is None:
        return None
    if day_of(e["at_ms"], site.config) != day_of(site.now_ms(), site.config):
        return None
    return e["no"], e["window"]


def routes(site: Site, cache: AnnouncementCache | None = None) -> list[Route]:
    cache = cache if cache is not None else AnnouncementCache()

    async def announce(request: Request) -> Response:
        call = call_of(site, request.path_params["event_id"])
        if call is None:
            return message(t("voice.not_found"), t("voice.not_found_text"), status=404,
                           hall_name=site.hall_name, kind="error")
        calling = site.config.calling if site.config is not None else Calling()
        try:
            wav = cache.wav(calling, *call)
        except (VoicePackError, Unspeakable) as exc:
            log.error("announcement of call event %s: %s", request.path_params["event_id"], exc)
            return message(t("voice.unavailable"), t("voice.unavailable_text"), status=503,
                           hall_name=site.hall_name, kind="error")
        return Response(wav, media_type="audio/wav", headers={"Cache-Control": CACHE_CONTROL})

    return [Route("/screen/announce/{event_id:int}.wav", limited(site, "read", announce), methods=["GET"])]
