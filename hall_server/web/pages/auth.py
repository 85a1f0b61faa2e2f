"""Managers' login: scrypt-hashed accounts (`hall_server.web.users`), a signed session cookie
(HttpOnly, SameSite=Strict), a CSRF token bound to the session in every form, and failed logins
slowed per (account, address) without locking the real user out (`login_guard`).

Cookie `hall_session` = the `hall_server.core.signing` token of purpose `session` over
"<name>:<role>:<generation>:<expiry s>:<nonce>" (a cookie of the previous release, the same payload
signed without a purpose, is still read until it expires). The CSRF token is the keyed hash of purpose `csrf`
of the nonce: a form posted from another site has no token. The login
form itself (no session yet) is protected by the Origin check: browsers name the origin of every
cross-site POST.

Every request checks the cookie against the record, cheaply: the account's role and session
generation in users.json (one `stat`, re-read only when the file changed; role change, password
change, `users revoke` bump the generation) and the nonce against the sessions ended by logout
in the hall's store (`hall_server.web.sessions`, one primary-key lookup). Both survive a restart.
The client's address is `Site.client_address` (X-Forwarded-For only from trusted proxies).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from config.i18n import t
from hall_server.web.sessions import is_ended
from hall_server.core.signing import BadSignature, Signer, unsign_unlabelled
from hall_server.web.users import ROLES, AccountCache, User, check_password
from hall_server.web.pages.layout import message, page
from hall_server.web.pages.login_guard import LoginGuard
from hall_server.web.pages.site import FormError, Site, first, read_form
from hallnet.vocabulary import Msg, NodeKind

log = logging.getLogger(__name__)

COOKIE = "hall_session"
SESSION_S = 12 * 3600
MAX_COOKIE_LEN = 400


@dataclass(frozen=True)
class Session:
    user: User
    nonce: str
    csrf: str
    generation: int = 0
    expires_s: int = 0


def csrf_for(secret: bytes, nonce: str) -> str:
    return Signer(secret, "csrf").keyed_hash(nonce)


def make_cookie(secret: bytes, user: User, now_s: float, generation: int = 0) -> str:
    body = f"{user.name}:{user.role}:{generation}:{int(now_s) + SESSION_S}:{secrets.token_hex(8)}"
    return Signer(secret, "session").sign(body)


def read_cookie(secret: bytes, value: str | None, now_s: float) -> Session | None:
    if not value:
        return None
    try:
        try:
            body = Signer(secret, "session").unsign(value, MAX_COOKIE_LEN)
        except BadSignature:      # a cookie of the previous release (no purpose), valid until it expires
            body = unsign_unlabelled(secret, value, MAX_COOKIE_LEN)
        name, role, gen, exp, nonce = body.split(":")
        if role not in ROLES or now_s > int(exp):
            return None
        return Session(User(name, role), nonce, csrf_for(secret, nonce), int(gen), int(exp))
    except (BadSignature, ValueError):
        return None


def accounts(site: Site) -> AccountCache:
    if site.accounts is None:
        site.accounts = AccountCache(site.data_dir)
    return site.accounts


def session_of(site: Site, request: Request) -> Session | None:
    """The request's session if its cookie is signed, unexpired, of the account's current role and
    generation, and not logged out."""
    s = read_cookie(site.secret, request.cookies.get(COOKIE), site.clock())
    if s is None or s.nonce in site.revoked:
        return None
    acc = accounts(site).get(s.user.name)
    if acc is None or acc.role != s.user.role or acc.generation != s.generation:
        return None
    if is_ended(site.backend.reader(), s.nonce):
        site.revoked.add(s.nonce)
        return None
    return s


def same_origin(request: Request) -> bool:
    """A browser's POST names its origin; when it does, it must be this host."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":      # not told (old browsers, privacy settings): the CSRF token decides
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


Handler = Callable[[Request, Session], Awaitable[Response]]


def guard(site: Site, role: str | None = None, *, form: bool = False,
          limits: tuple[int, int] | None = None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a page: a session is required (else to /login); `role` if given; for POSTs the CSRF
    token and the origin are checked, and the parsed form is put on `request.state.form`
    (`limits`: (bytes, fields) for a big form such as the roster's week grid)."""

    def wrap(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            s = session_of(site, request)
            if s is None:
                if request.method == "GET" and "text/event-stream" not in request.headers.get("accept", ""):
                    return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
                return message(t("web.login.needed"), t("web.login.needed_text"), status=401,
                               hall_name=site.hall_name, kind="error")
            if role is not None and s.user.role != role:
                return message(t("web.forbidden"), t("web.forbidden_text"), status=403, hall_name=site.hall_name,
                               kind="error")
            if request.method == "POST":
                try:
                    data = await (read_form(request, *limits) if limits else read_form(request))
                except FormError:
                    return message(t("web.bad_form"), t("web.bad_form_text"), status=400, hall_name=site.hall_name,
                                   kind="error")
                if not same_origin(request) or not hmac.compare_digest(first(data, "csrf"), s.csrf):
                    return message(t("web.csrf"), t("web.csrf_text"), status=403, hall_name=site.hall_name,
                                   kind="error")
                request.state.form = data
            return await fn(request, s)

        return endpoint

    return wrap


def set_session(response: Response, request: Request, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=SESSION_S, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") and len(value) < 200 else "/floor"


def login_form(site: Site, error: str = "", next_: str = "/floor", status: int = 200) -> Response:
    return page("login.html", status=status, title=t("web.login.title"), narrow=True, hall_name=site.hall_name,
                error=error, next=next_)


def routes(site: Site) -> list[Route]:
    throttle = LoginGuard()

    async def login_get(request: Request) -> Response:
        if session_of(site, request) is not None:
            return RedirectResponse("/floor", status_code=303)
        return login_form(site, next_=_safe_next(request.query_params.get("next", "/floor")))

    async def login_post(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError:
            return login_form(site, t("web.bad_form_text"), status=400)
        name, password = first(form, "user").strip()[:64], first(form, "password")
        next_ = _safe_next(first(form, "next", "/floor"))
        if not same_origin(request):
            return login_form(site, t("web.csrf_text"), next_, status=403)
        address = site.client_address(request)
        wait = throttle.wait_s(name, address)
        if wait > 0:
            return login_form(site, t("web.login.throttled", s=int(wait) + 1), next_, status=429)
        user = check_password(site.data_dir, name, password) if name and password else None
        acc = accounts(site).get(user.name) if user is not None else None
        if user is None or acc is None:
            throttle.failed(name, address)
            return login_form(site, t("web.login.wrong"), next_, status=401)
        throttle.succeeded(name, address)
        resp = RedirectResponse(next_, status_code=303)
        set_session(resp, request, make_cookie(site.secret, User(user.name, acc.role), site.clock(), acc.generation))
        return resp

    @guard(site)
    async def logout(request: Request, s: Session) -> Response:
        if len(site.revoked) > 100_000:
            site.revoked.clear()
        site.revoked.add(s.nonce)
        body = {"nonce": s.nonce, "user": s.user.name, "expires_ms": s.expires_s * 1000}
        try:      # through the one writer, so that the logout outlives a restart
            a = await site.backend.command(Msg.SESSION_END, body, NodeKind.WEB)
            if not a.ok:
                log.warning("logout of %s not stored: %s", s.user.name, a.error)
        except (asyncio.TimeoutError, RuntimeError) as exc:
            log.warning("logout of %s not stored: %s", s.user.name, exc)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    return [
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]

