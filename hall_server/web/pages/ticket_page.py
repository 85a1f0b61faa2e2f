"""The citizen's ticket status page (issue 13): `GET /t/{pub}`, the link in the QR code printed on
each ticket, and `GET /t/{pub}/data`, the same as JSON for the page's small script.

`pub` is the ticket's unguessable public id (`tickets.public_status`): the page shows that ticket
only — its number, category, the people ahead ("前面还有 N 人") and the estimated wait while it
waits, "请到 3 号窗口" once called, and done / no-show / expired said plainly — and nothing about
other citizens. No login. An unknown or malformed id gets a Chinese 404 page (the JSON a 404
`{"error": "unknown_ticket"}`). Both routes are public reads behind `hall_server.web.limits`
(the read budget); a refusal is a 429 with Retry-After (a page, or the API's JSON for the script).

Live: the script (`static/ticket.js`, allowed by its CSP hash) asks for the JSON every few
seconds (`poll_s` in it: sooner when the ticket is near, never after it ended) and backs off on
errors and 429s; without JavaScript a `<meta http-equiv="refresh">` inside `<noscript>` reloads the
page. One column, phone-sized (390 px) first.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain import tickets
from hall_server.domain.errors import UnknownTicket
from hall_server.web.api_io import rate_limited
from hall_server.web.pages.layout import message, page, static_script
from hall_server.web.pages.qr_page import limited
from hall_server.web.pages.site import Site

SCRIPT = static_script("ticket.js")
REFRESH_S = 20                  # the page without JavaScript reloads this often
ENDED = ("done", "no_show", "expired")
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class TicketView:
    """What the page shows of one ticket (and what its JSON carries): texts ready to show."""

    ticket: str
    category: str                   # the category's name
    state: str                      # waiting / next / called / serving / parked / done / no_show / expired
    headline: str                   # the big line: 前面还有 N 人, 请到 3 号窗口, 已办结 …
    detail: str                     # the wait estimate, or what to do now
    note: str                       # a small hint under it
    ahead: int | None
    window: int | None
    wait_min_minutes: int | None
    wait_max_minutes: int | None
    poll_s: int                     # when the script asks again; 0 = the ticket ended, stop


def wait_text(low: int | None, high: int | None) -> str:
    """The estimated wait as the citizen reads it."""
    if low is None or high is None:
        return t("ticket.wait.unknown")
    if low <= 0:
        return t("ticket.wait.within", hi=high)
    return t("ticket.wait.range", lo=low, hi=high)


def ticket_view(status: dict[str, Any]) -> TicketView:
    """The page's texts from `tickets.public_status`."""
    st, ahead, window = status["status"], status.get("ahead"), status.get("window")
    low, high = status.get("wait_min_minutes"), status.get("wait_max_minutes")
    note, poll_s = "", 10
    if st == "waiting":
        ahead = int(ahead or 0)
        state = "next" if ahead == 0 else "waiting"
        headline = t("ticket.page.next") if ahead == 0 else t("ticket.page.ahead", n=ahead)
        detail, note = wait_text(low, high), t("ticket.page.estimate_note")
        poll_s = 5 if ahead <= 5 else 15
    elif st == "called":
        state, headline, detail = "called", t("ticket.page.go_to", window=window), t("ticket.page.called_detail")
    elif st == "serving":
        state, headline, detail, poll_s = "serving", t("ticket.page.serving", window=window), "", 30
    elif st == "parked":
        state, headline, detail = "parked", t("ticket.page.parked"), t("ticket.page.parked_detail")
    elif st in ENDED:
        state, headline, detail, poll_s = st, t(f"ticket.page.{st}"), t(f"ticket.page.{st}_detail"), 0
    else:                           # a status this page does not know yet: say nothing wrong
        state, headline, detail = "waiting", t("ticket.page.in_queue"), ""
    return TicketView(ticket=status["ticket"], category=status.get("category_name") or status["category"],
                      state=state, headline=headline, detail=detail, note=note,
                      ahead=ahead if st == "waiting" else None, window=window if st in ("called", "serving") else None,
                      wait_min_minutes=low, wait_max_minutes=high, poll_s=poll_s)


def routes(site: Site) -> list[Route]:

    def lookup(pub: str) -> TicketView | None:
        if site.config is None or not tickets.is_public_id(pub):
            return None
        try:
            return ticket_view(tickets.public_status(site.backend.reader(), site.config, pub))
        except UnknownTicket:
            return None

    async def show(request: Request) -> Response:
        pub = request.path_params["pub"]
        view = await asyncio.to_thread(lookup, pub)
        if view is None:
            return message(t("ticket.page.not_found"), t("ticket.page.not_found_text"), status=404,
                           hall_name=site.hall_name, kind="error")
        return page("ticket.html", title=t("ticket.page.title", ticket=view.ticket), hall_name=site.hall_name,
                    narrow=True, v=view, pub=pub, refresh_s=REFRESH_S if view.poll_s else 0, script=SCRIPT)

    async def data(request: Request) -> Response:
        view = await asyncio.to_thread(lookup, request.path_params["pub"])
        if view is None:
            return JSONResponse({"error": "unknown_ticket", "message": t("ticket.page.not_found", "en")},
                                status_code=404, headers=NO_STORE)
        return JSONResponse(asdict(view), headers=NO_STORE)

    async def data_limited(request: Request) -> Response:
        verdict = site.limits.check(request, "read")
        if verdict.allowed:
            response = await data(request)
        else:
            response = rate_limited(verdict)           # the API's 429 body
        return site.limits.remember(response, verdict, request)

    return [
        Route("/t/{pub}", limited(site, "read", show), methods=["GET"]),
        Route("/t/{pub}/data", data_limited, methods=["GET"]),
    ]
