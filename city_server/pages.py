"""The city's pages: login (rate-limited per address), the month's ranking of halls, every hall's
open and overdue 差评 cases with 督办 (a city manager pushes an overdue case back to its hall with a
note; every form carries a CSRF token and every write is rate-limited), the drill-down city → hall →
window → staff, the monthly bulletin (city_server.bulletin), and the hall's side of 督办:
`GET /api/notes` and `POST /api/notes/ack` with the hall's key."""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qs, quote

import psycopg
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from city_server import accounts, bulletin, drill
from city_server.accounts import Session
from city_server.figures import month_ranking
from city_server.halls import hall_for_key
from city_server.layout import message, page, security_headers
from city_server.limits import limiter
from config.i18n import t

log = logging.getLogger("city_server.pages")
COOKIE = "city_session"
Conn = psycopg.Connection
MAX_FORM_BYTES = 8192


class FormError(ValueError):
    """A form that is not a small UTF-8 urlencoded body."""


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form of at most MAX_FORM_BYTES (each field's first value); raises FormError."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("form too large")
    if ctype != "application/x-www-form-urlencoded" and (body or ctype):
        raise FormError("expected a form")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise FormError("form is not UTF-8 urlencoded") from None
    return {k: v[0] for k, v in parsed.items() if v}


class BadMonth(ValueError):
    """A month that is not YYYY-MM."""


def parse_month(text: str | None) -> date:
    if not text:
        today = date.today()
        return today.replace(day=1)
    try:
        y, m = text.split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        raise BadMonth(text) from None


def month_context(month: date) -> dict[str, Any]:
    """The month shown and the picker's choices (the last 24 months, and the month shown)."""
    this = date.today().replace(day=1)
    firsts = {month}
    for back in range(24):
        y, m = divmod(this.year * 12 + this.month - 1 - back, 12)
        firsts.add(date(y, m + 1, 1))
    return {"month_text": f"{month:%Y-%m}", "month_label": t("city.month_label", y=month.year, m=month.month),
            "months": [(f"{d:%Y-%m}", t("city.month_label", y=d.year, m=d.month)) for d in sorted(firsts, reverse=True)]}


def routes(pool: Any) -> list[Route]:
    logins = limiter(10, 60.0)        # login attempts per address
    writes = limiter(30, 60.0)        # 督办 and logouts per address
    hall_calls = limiter(120, 60.0)   # a hall's note fetches and confirmations per hall
    guesses = limiter(20, 60.0)       # unknown hall keys per address

    def with_conn(fn: Callable[[Conn], Response]) -> Response:
        try:
            with pool.connection() as conn:
                return fn(conn)
        except (psycopg.OperationalError, queue.Empty):
            return message(t("city.down"), t("city.down_text"), status=503)

    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    def signed_in(fn: Callable[[Request, Conn, Session], Response], *, write: bool = False,
                  manager: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form: dict[str, str] = {}
            if write:
                if not writes.hit(address(request)):
                    return message(t("city.too_many"), t("city.too_many_text"), status=429)
                try:
                    form = await read_form(request)
                except FormError:
                    return message(t("city.bad_form"), t("city.bad_form_text"), status=400)

            def run(conn: Conn) -> Response:
                s = accounts.read_session(conn, request.cookies.get(COOKIE))
                if s is None:
                    if write:
                        return message(t("city.expired"), t("city.expired_text"), status=403)
                    return RedirectResponse("/login?next=" + quote(request.url.path + (
                        "?" + request.url.query if request.url.query else ""), safe=""), status_code=303)
                if write and not accounts.csrf_ok(conn, s, form.get("csrf", "")):
                    return message(t("city.expired"), t("city.expired_text"), status=403)
                if manager and not s.manager:
                    return message(t("city.forbidden"), t("city.forbidden_text"), status=403,
                                   user=s, csrf=accounts.csrf_token(conn, s))
                request.state.form = form
                try:
                    return fn(request, conn, s)
                except BadMonth:
                    return message(t("city.bad_month"), t("city.bad_month_text"), status=400,
                                   user=s, csrf=accounts.csrf_token(conn, s))
            return await run_in_threadpool(with_conn, run)
        return endpoint

    def common(conn: Conn, s: Session, active: str) -> dict[str, Any]:
        return {"user": s, "csrf": accounts.csrf_token(conn, s), "active": active}

    async def login_get(request: Request) -> Response:
        return page("login.html", title=t("city.login.title"), error="", name="",
                    next=_safe_next(request.query_params.get("next", "/ranking")), narrow=True)

    async def login_post(request: Request) -> Response:
        if not logins.hit(address(request)):
            return page("login.html", status=429, title=t("city.login.title"), error=t("city.login.too_many"),
                        name="", next="/ranking", narrow=True)
        try:
            form = await read_form(request)
        except FormError:
            return message(t("city.bad_form"), t("city.bad_form_text"), status=400)
        name, password = form.get("name", "")[:64], form.get("password", "")[:200]
        nxt = _safe_next(form.get("next", "/ranking"))

        def run(conn: Conn) -> Response:
            if accounts.check_password(conn, name, password) is None:
                return page("login.html", status=401, title=t("city.login.title"), error=t("city.login.wrong"),
                            name=name, next=nxt, narrow=True)
            resp = RedirectResponse(nxt, status_code=303, headers=security_headers())
            resp.set_cookie(COOKIE, accounts.open_session(conn, name), max_age=accounts.SESSION_HOURS * 3600,
                            httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
            return resp
        return await run_in_threadpool(with_conn, run)

    def logout(request: Request, conn: Conn, s: Session) -> Response:
        accounts.close_session(conn, s)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    def ranking(request: Request, conn: Conn, s: Session) -> Response:
        month = parse_month(request.query_params.get("month"))
        return page("ranking.html", title=t("city.nav.ranking"), rows=month_ranking(conn, month),
                    **month_context(month), **common(conn, s, "ranking"))

    def hall_page(request: Request, conn: Conn, s: Session) -> Response:
        month, hall = parse_month(request.query_params.get("month")), request.path_params["hall"]
        name = drill.hall_name(conn, hall)
        if name is None:
            return message(t("city.not_found"), t("city.not_found_text"), status=404, user=s,
                           csrf=accounts.csrf_token(conn, s))
        return page("hall.html", title=name, hall=hall, hall_name=name, rows=drill.by_window(conn, hall, month),
                    **month_context(month), **common(conn, s, "ranking"))

    def window_page(request: Request, conn: Conn, s: Session) -> Response:
        month, hall = parse_month(request.query_params.get("month")), request.path_params["hall"]
        window = int(request.path_params["window"])
        name = drill.hall_name(conn, hall)
        if name is None:
            return message(t("city.not_found"), t("city.not_found_text"), status=404, user=s,
                           csrf=accounts.csrf_token(conn, s))
        return page("window.html", title=name, hall=hall, hall_name=name, window=window,
                    rows=drill.by_staff(conn, hall, month, window), **month_context(month), **common(conn, s, "ranking"))

    def cases_page(request: Request, conn: Conn, s: Session, notice: str = "", error: str = "",
                   status: int = 200) -> Response:
        return page("cases.html", status=status, title=t("city.nav.cases"), cases=drill.open_cases(conn),
                    notice=notice, error=error, **common(conn, s, "cases"))

    def pushback(request: Request, conn: Conn, s: Session) -> Response:
        hall, case_id = request.path_params["hall"], int(request.path_params["case_id"])
        try:
            drill.push_back(conn, hall, case_id, request.state.form.get("note", ""), s.account)
        except drill.PushBackError as exc:
            return cases_page(request, conn, s, error=t(f"city.pushback.error.{exc}"), status=400)
        log.info("督办: %s pushed back case %s of hall %s", s.account, case_id, hall)
        return cases_page(request, conn, s, notice=t("city.pushback.done", id=case_id))

    def bulletin_file(request: Request, conn: Conn, s: Session) -> Response:
        month = parse_month(request.path_params["month"])
        kind = request.path_params["kind"]
        if kind not in ("xlsx", "pdf"):
            return message(t("city.not_found"), t("city.not_found_text"), status=404, user=s,
                           csrf=accounts.csrf_token(conn, s))
        rows, cases = month_ranking(conn, month), drill.open_cases(conn)
        body = bulletin.xlsx(month, rows) if kind == "xlsx" else bulletin.pdf(month, rows, cases)
        media = bulletin.XLSX_TYPE if kind == "xlsx" else "application/pdf"
        return Response(body, media_type=media, headers={
            **security_headers(), "Content-Disposition": f'attachment; filename="city-bulletin-{month:%Y-%m}.{kind}"'})

    def hall_api(fn: Callable[[Conn, str, dict[str, Any]], Response]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
            body: dict[str, Any] = {}
            if request.method == "POST":
                raw = b""
                async for chunk in request.stream():
                    raw += chunk
                    if len(raw) > MAX_FORM_BYTES:
                        return JSONResponse({"error": "too_large"}, status_code=413)
                try:
                    got = json.loads(raw or b"{}")
                    body = got if isinstance(got, dict) else {}
                except ValueError:
                    return JSONResponse({"error": "bad_body"}, status_code=400)

            def run() -> Response:
                try:
                    with pool.connection() as conn:
                        hall = hall_for_key(conn, key)
                        if hall is None:
                            if not guesses.hit(address(request)):
                                return JSONResponse({"error": "rate_limited"}, status_code=429)
                            return JSONResponse({"error": "unknown_key"}, status_code=401)
                        if not hall_calls.hit(hall):
                            return JSONResponse({"error": "rate_limited"}, status_code=429)
                        return fn(conn, hall, body)
                except (psycopg.OperationalError, queue.Empty):
                    return JSONResponse({"error": "database_down"}, status_code=503)
            return await run_in_threadpool(run)
        return endpoint

    def notes(conn: Conn, hall: str, body: dict[str, Any]) -> Response:
        return JSONResponse({"notes": drill.pending_notes(conn, hall)})

    def notes_ack(conn: Conn, hall: str, body: dict[str, Any]) -> Response:
        upto = body.get("upto")
        if not isinstance(upto, int) or isinstance(upto, bool):
            return JSONResponse({"error": "bad_body", "message": "upto: an integer"}, status_code=400)
        return JSONResponse({"confirmed": drill.confirm_notes(conn, hall, upto)})

    async def home(request: Request) -> Response:
        return RedirectResponse("/ranking", status_code=303)

    return [
        Route("/", home),
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", signed_in(logout, write=True), methods=["POST"]),
        Route("/ranking", signed_in(ranking)),
        Route("/cases", signed_in(cases_page)),
        Route("/cases/{hall}/{case_id:int}/pushback", signed_in(pushback, write=True, manager=True), methods=["POST"]),
        Route("/hall/{hall}", signed_in(hall_page)),
        Route("/hall/{hall}/window/{window:int}", signed_in(window_page)),
        Route("/bulletin/{month}.{kind:str}", signed_in(bulletin_file)),
        Route("/api/notes", hall_api(notes), methods=["GET"]),
        Route("/api/notes/ack", hall_api(notes_ack), methods=["POST"]),
    ]


def _safe_next(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/ranking"
