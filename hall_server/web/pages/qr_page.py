"""The citizen's phone pages: rate a 办件 from the QR slip (`/r/<token>`), the hall QR for
comments not tied to a 办件 (`/c`, R12), and the QR images for slips and kiosks.

No JavaScript; one column that fits a 360 px screen. 一次一评 is the domain's rule: the page
asks the domain (node `qr-web`, channel 3) and shows "已评价" when any channel rated first.
After rectification of a 差评 the same link takes the one 追评. Forged, expired and reused
links get a clear page (4xx), never a trace. Every request is rate-limited per client and per
address (`hall_server.web.limits`: reads and writes have their own budgets); a refusal is a
Chinese page with status 429 and a Retry-After.

Trust (`rater`, docs/trust.md): no rating from the hall's staff networks; a long-lived rater
cookie and the client address, hashed, go with each rating in the same message (`rating.sourced`) so that
one device rating many 办件 is flagged for the managers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

import qrcode
import qrcode.image.svg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.i18n import t
from hall_server.domain.common import row
from hall_server.core import qr_token
from hall_server.web.limits import Kind
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.rater import QR_NODE, rater_of, staff_network_refusal, submit_rating
from hall_server.web.pages.site import FormError, Site, first, read_form
from hallnet.vocabulary import Msg



def rating_url(site: Site, base_url: str, job_pub: str, finished_ms: int) -> str:
    """The link printed on the slip / shown by the kiosk for one finished 办件."""
    days = site.config.hall.rating.qr_valid_days if site.config is not None else 7
    token = qr_token.sign(site.secret, job_pub, qr_token.token_expiry_s(finished_ms, days))
    return f"{base_url.rstrip('/')}/r/{token}"


def qr_png(url: str) -> bytes:
    img = qrcode.make(url, box_size=8, border=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def qr_svg(url: str) -> bytes:
    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def _image(url: str, kind: str) -> Response:
    if kind == "png":
        return Response(qr_png(url), media_type="image/png", headers={"Cache-Control": "no-store"})
    return Response(qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# --- what the page knows about a 办件 ---------------------------------------------------------

def job_info(site: Site, pub: str) -> dict[str, Any] | None:
    db = site.backend.reader()
    j = row(db, "SELECT id, pub, window, staff_no, status, finished_ms, service_code, rating, qr_expires_ms "
                "FROM jobs WHERE pub = ?", [pub])
    if j is None:
        return None
    rounds = {r[0] for r in db.execute("SELECT round FROM ratings WHERE job_id = ?", [j["id"]]).fetchall()}
    case = row(db, "SELECT rectified_ms FROM cases WHERE job_id = ? AND kind = 'bad_rating'", [j["id"]])
    config = site.config
    window_name = service_name = ""
    if config is not None:
        try:
            window_name = config.window(j["window"]).name
        except KeyError:
            pass
        try:
            service_name = config.service(j["service_code"]).name if j["service_code"] else ""
        except KeyError:
            pass
    j.update(window_name=window_name, service_name=service_name, rounds=rounds,
             rectified=case is not None and case["rectified_ms"] is not None)
    return j


def stage(site: Site, j: dict[str, Any]) -> str:
    """first (may rate) | followup (may give the 追评) | rated | rated_followup | expired | not_finished."""
    if j["status"] != "finished":
        return "not_finished"
    if 2 in j["rounds"]:
        return "rated_followup"
    if 1 in j["rounds"]:
        return "followup" if j["rectified"] else "rated"
    if j["rating"] in ("open", "qr") and site.now_ms() <= (j["qr_expires_ms"] or 0):
        return "first"
    return "expired"


def _facts(site: Site, j: dict[str, Any]) -> list[tuple[str, str]]:
    return [(t("web.qr.hall"), site.hall_name),
            (t("web.qr.window"), f'{j["window_name"] or t("window.number", number=j["window"])}'),
            (t("web.qr.service"), j["service_name"] or j["service_code"] or ""),
            (t("web.qr.time"), site.local_text(j["finished_ms"]))]


def _tags_for(site: Site, levels: tuple[int, ...], skip: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    seen: dict[str, str] = {}
    if site.config is not None:
        for lv in levels:
            for tag in site.config.tags.for_level(lv):
                if tag.code not in skip:
                    seen.setdefault(tag.code, tag.text)
    return seen


def rating_form(site: Site, token: str, j: dict[str, Any], followup: bool, *, error: str = "",
                values: dict[str, Any] | None = None, status: int = 200) -> Response:
    v = values or {}
    bad_tags = _tags_for(site, (1, 2))
    return page("qr_rate.html", status=status, narrow=True, hall_name=site.hall_name,
                title=t("web.qr.followup_title") if followup else t("rating.prompt"),
                token=token, facts=_facts(site, j), followup=followup, error=error, level=v.get("level"),
                chosen=set(v.get("tags", [])), text=v.get("text", ""), phone=v.get("phone", ""),
                bad_tags=bad_tags, good_tags=_tags_for(site, (3, 4, 5), set(bad_tags)))


def _parse_rating(site: Site, form: dict[str, list[str]]) -> tuple[dict[str, Any], str]:
    """The form as a command body; an error text for the citizen when something is missing."""
    values: dict[str, Any] = {"tags": form.get("tags", [])[:10], "text": first(form, "text").strip()[:500],
                              "phone": first(form, "phone").strip()[:20]}
    try:
        level = int(first(form, "level"))
    except ValueError:
        return values, t("web.qr.need_level")
    if not 1 <= level <= 5:
        return values, t("web.qr.need_level")
    values["level"] = level
    if site.config is not None:           # keep only the tags that fit the chosen level
        allowed = {tag.code for tag in site.config.tags.for_level(level)}
        values["tags"] = [c for c in values["tags"] if c in allowed]
    if level <= 2 and not values["tags"]:
        return values, t("rating.need_tag")
    return values, ""


Endpoint = Callable[[Request], Awaitable[Response]]


def limited(site: Site, kind: Kind, fn: Endpoint) -> Endpoint:
    """`fn` behind the public limits: a 429 page (Retry-After) past them; the client cookie kept."""

    async def endpoint(request: Request) -> Response:
        verdict = site.limits.check(request, kind)
        if verdict.allowed:
            response = await fn(request)
        else:
            response = message(t("web.rate_limited"), t("web.limits.retry_text", s=verdict.retry_after_s),
                               status=429, hall_name=site.hall_name, kind="error")
        return site.limits.remember(response, verdict, request)

    endpoint.__name__, endpoint.__doc__ = getattr(fn, "__name__", "endpoint"), fn.__doc__
    return endpoint


def routes(site: Site) -> list[Route]:

    def token_job(token: str) -> tuple[dict[str, Any] | None, Response | None]:
        try:
            pub = qr_token.verify(site.secret, token, site.now_ms() / 1000)   # hall time, like the job's
        except qr_token.TokenExpired:
            return None, message(t("web.qr.link_expired"), t("web.qr.link_expired_text"), status=410,
                                 hall_name=site.hall_name, kind="error")
        except qr_token.TokenError:
            return None, message(t("web.qr.forged"), t("web.qr.forged_text"), status=400, hall_name=site.hall_name,
                                 kind="error")
        j = job_info(site, pub)
        if j is None:
            return None, message(t("web.qr.unknown"), t("web.qr.unknown_text"), status=404, hall_name=site.hall_name,
                                 kind="error")
        return j, None

    def stage_page(j: dict[str, Any], st: str) -> Response:
        if st in ("rated", "rated_followup"):
            return message(t("rating.already"), t("web.qr.already_text" if st == "rated" else "web.qr.followup_done"),
                           status=409, hall_name=site.hall_name, kind="info")
        if st == "not_finished":
            return message(t("web.qr.not_finished"), t("web.qr.not_finished_text"), status=409,
                           hall_name=site.hall_name)
        return message(t("rating.expired"), t("web.qr.expired_text"), status=410, hall_name=site.hall_name,
                       kind="error")

    async def rate_get(request: Request) -> Response:
        if (refused := staff_network_refusal(site, request)) is not None:
            return refused
        token = request.path_params["token"]
        j, err = token_job(token)
        if err is not None:
            return err
        assert j is not None
        st = stage(site, j)
        if st in ("first", "followup"):
            return rating_form(site, token, j, st == "followup")     # `limited` gives the client cookie
        return stage_page(j, st)

    async def rate_post(request: Request) -> Response:
        if (refused := staff_network_refusal(site, request)) is not None:
            return refused                       # nothing recorded
        token = request.path_params["token"]
        j, err = token_job(token)
        if err is not None:
            return err
        assert j is not None
        try:
            form = await read_form(request)
        except FormError:
            return message(t("web.bad_form"), t("web.bad_form_text"), status=400, hall_name=site.hall_name,
                           kind="error")
        st = stage(site, j)
        if st not in ("first", "followup"):
            return stage_page(j, st)
        followup = st == "followup"
        values, problem = _parse_rating(site, form)
        if problem:
            return rating_form(site, token, j, followup, error=problem, values=values, status=422)
        body: dict[str, Any] = {"job": j["pub"], "level": values["level"], "tags": values["tags"],
                                "text": values["text"]}
        if not followup and values["phone"]:
            body["phone"] = values["phone"]
        rater = rater_of(site, request)
        a = await submit_rating(site, request, "followup" if followup else "submit", body, rater)
        if a.ok:
            return message(t("rating.thanks"), t("web.qr.thanks_followup" if followup else "web.qr.thanks_text"),
                           hall_name=site.hall_name, kind="ok")
        if a.error == "already_rated":
            return stage_page(j, "rated_followup" if followup else "rated")
        if a.error == "rating_expired":
            return stage_page(j, "expired")
        if a.error in ("bad_request", "unknown_tag", "tag_required"):
            text = t("web.qr.bad_phone") if a.details.get("field") == "phone" else t("web.qr.check_form")
            return rating_form(site, token, j, followup, error=text, values=values, status=422)
        return message(t("web.qr.refused"), t("web.qr.refused_text"), status=409, hall_name=site.hall_name,
                       kind="error")

    async def rate_qr(request: Request) -> Response:
        token, kind = request.path_params["token"], request.path_params["kind"]
        _, err = token_job(token)
        if err is not None:
            return err
        return _image(str(request.base_url).rstrip("/") + f"/r/{token}", kind)

    # --- R12 hall QR -----------------------------------------------------------------------------
    def comment_form(error: str = "", text: str = "", phone: str = "", status: int = 200) -> Response:
        return page("comment.html", status=status, narrow=True, hall_name=site.hall_name,
                    title=t("web.comment.title"), error=error, text=text, phone=phone)

    async def comment_get(request: Request) -> Response:
        return comment_form()

    async def comment_post(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError:
            return message(t("web.bad_form"), t("web.bad_form_text"), status=400, hall_name=site.hall_name,
                           kind="error")
        text, phone = first(form, "text").strip()[:1000], first(form, "phone").strip()[:20]
        if not text:
            return comment_form(t("web.comment.need_text"), text, phone, status=422)
        body: dict[str, Any] = {"text": text}
        if phone:
            body["phone"] = phone
        a = await site.backend.command(Msg.COMMENT_SUBMIT, body, QR_NODE)
        if a.ok:
            return message(t("web.comment.thanks"), t("web.comment.thanks_text"), hall_name=site.hall_name, kind="ok")
        if a.error == "bad_request":
            return comment_form(t("web.qr.bad_phone") if a.details.get("field") == "phone" else t("web.qr.check_form"),
                                text, phone, status=422)
        return message(t("web.qr.refused"), t("web.qr.refused_text"), status=409, hall_name=site.hall_name,
                       kind="error")

    async def comment_qr(request: Request) -> Response:
        return _image(str(request.base_url).rstrip("/") + "/c", request.path_params["kind"])

    return [
        Route("/r/{token}", limited(site, "read", rate_get), methods=["GET"]),
        Route("/r/{token}", limited(site, "write", rate_post), methods=["POST"]),
        Route("/r/{token}/qr.{kind:str}", limited(site, "read", _only_images(rate_qr)), methods=["GET"]),
        Route("/c", limited(site, "read", comment_get), methods=["GET"]),
        Route("/c", limited(site, "write", comment_post), methods=["POST"]),
        Route("/c/qr.{kind:str}", limited(site, "read", _only_images(comment_qr)), methods=["GET"]),
    ]


def _only_images(fn: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        if request.path_params["kind"] not in ("png", "svg"):
            return Response(json.dumps({"error": "not_found", "message": "png or svg"}), status_code=404,
                            media_type="application/json")
        return await fn(request)

    return endpoint
