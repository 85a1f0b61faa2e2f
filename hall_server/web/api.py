"""The JSON API of the hall domain under /api/ (Starlette), with its OpenAPI description.

Reads go through `backend.reader()` (a read-only connection); commands through
`backend.command(type, body, node)` — the same handlers the nodes use. Refusals come back as
4xx with `{"error": <stable code>, "message": <English>}`; bad input never reaches a 500.

The integration endpoint (`POST /api/integration/jobs/finish`) is for the hall's business system:
it sends its API key in `X-Api-Key` and finishes the 办件 at a window with its 办件编号.

Who may call what (R6: levels, cases and the rater's data are for the hall's managers only):
  - anyone: floor (public summary), queue, tickets, `POST /api/ratings` and `/api/ratings/followup`
    with the signed QR token of the slip (channel 3, never a bare 办件 id), comments, health;
  - `viewer` (a web session of any role, or a viewer/manager API key): reads of 办件 with their
    ratings, cases (masked), figures, assessment, the managers' floor counts and `mgr/` state keys;
  - `manager` (a manager session, or `HALL_MANAGER_KEY` in `X-Api-Key`): the case actions, and a
    case's unmasked phone and text.
A session is the web login's cookie (`pages.auth`); a cookie-authenticated POST must be JSON and,
when the browser names an origin, same-origin. Missing credentials → 401, a viewer writing → 403.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hall_server.backend import Backend
from hall_server.domain import assessment, cases, figures, floor, jobs, ratings, tickets
from hall_server.domain.common import row, rows
from hall_server.handlers import DomainError
from hallnet.messages import now_ms

MAX_BODY_BYTES = 16 * 1024
INTEGRATION_NODE = "bizsys-1"
API_NODE = "web"
KEY_NODE = "manager-api"          # commands sent with a manager API key
QR_NODE = "qr-web"                # ratings with a QR token (channel 3), as the QR page sends them
VIEWER, MANAGER = "viewer", "manager"

STATUS = {"bad_request": 400, "forbidden": 403, "not_configured": 503, "internal": 503, "unknown_type": 400}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def status_for(code: str) -> int:
    if code in STATUS:
        return STATUS[code]
    if code.startswith("unknown_"):
        return 404
    return 409


def _err(status: int, code: str, message: str, details: Mapping[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = dict(details)
    return JSONResponse(body, status_code=status)


# --- who is calling -------------------------------------------------------------------------

@dataclass(frozen=True)
class Caller:
    role: str          # "manager" | "viewer"
    node: str          # the node id its commands are sent as, e.g. "manager-boss"
    via: str           # "session" | "key"


def env_api_keys() -> dict[str, str]:
    """API keys from the environment: HALL_MANAGER_KEY (role manager), HALL_VIEWER_KEY (viewer)."""
    out = {}
    for var, role in (("HALL_VIEWER_KEY", VIEWER), ("HALL_MANAGER_KEY", MANAGER)):
        if os.environ.get(var):
            out[os.environ[var]] = role
    return out


class Auth:
    """Finds the caller of a request: an `X-Api-Key` from `api_keys` (key → role), else the web
    session cookie (needs the pages' `Site`: its secret and logged-out sessions)."""

    def __init__(self, api_keys: Mapping[str, str], site: Any = None) -> None:
        self.api_keys = {k: r for k, r in api_keys.items() if k and r in (VIEWER, MANAGER)}
        self.site = site

    def caller(self, request: Request) -> Caller | None:
        given = request.headers.get("x-api-key")
        if given is not None:
            role = None
            for key, r in self.api_keys.items():
                if hmac.compare_digest(given.encode(), key.encode()):
                    role = r
            if role is None:
                raise ApiError(401, "unauthorized", "the X-Api-Key header is not a valid manager or viewer key")
            return Caller(role, KEY_NODE, "key")
        if self.site is None:
            return None
        from hall_server.web.pages.auth import session_of

        s = session_of(self.site, request)
        if s is None:
            return None
        return Caller(s.user.role, f"manager-{s.user.name}", "session")

    def require(self, request: Request, role: str) -> Caller:
        c = self.caller(request)
        if c is None:
            raise ApiError(401, "unauthorized", "log in (web session) or send a valid X-Api-Key header")
        if role == MANAGER and c.role != MANAGER:
            raise ApiError(403, "forbidden", "the viewer role is read-only: this needs a manager")
        if c.via == "session" and request.method == "POST":
            from hall_server.web.pages.auth import same_origin

            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json" or not same_origin(request):
                raise ApiError(403, "forbidden", "a session's POST must be same-origin JSON")
        return c


# --- input --------------------------------------------------------------------------------------

async def json_body(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        raise ApiError(413, "too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "bad_request", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return body


def q_str(request: Request, name: str, default: str | None = None, max_len: int = 64) -> str | None:
    value = request.query_params.get(name, default)
    if value is not None and (len(value) > max_len or "\x00" in value):
        raise ApiError(400, "bad_request", f"query parameter {name!r} is too long")
    return value


def q_int(request: Request, name: str, lo: int, hi: int, default: int | None = None) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.lstrip("-").isdigit()) or len(value) > 12 or not lo <= int(value) <= hi:
        raise ApiError(400, "bad_request", f"query parameter {name!r} must be a whole number from {lo} to {hi}")
    return int(value)


def p_int(request: Request, name: str) -> int:
    value = request.path_params[name]
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12):
        raise ApiError(404, "not_found", f"no such {name}")
    return int(value)


def p_str(request: Request, name: str, max_len: int = 64) -> str:
    value = request.path_params[name]
    if len(value) > max_len:
        raise ApiError(404, "not_found", f"no such {name}")
    return value


# --- the route table with its OpenAPI description -------------------------------------------

@dataclass
class Op:
    method: str
    path: str
    summary: str
    fn: Callable[[Request], Any]     # async (commands) or plain (reads: run in a worker thread)
    params: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] | None = None
    status: int = 200
    tag: str = ""
    auth: str = ""                   # "" anyone, "viewer" any logged-in role or key, "manager"


def qp(name: str, type_: str = "string", desc: str = "", required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": desc, "schema": {"type": type_, **extra}}


def pp(name: str, type_: str = "string", desc: str = "") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": desc, "schema": {"type": type_}}


def obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


S = {"type": "string"}
I = {"type": "integer"}
LEVEL = {"type": "integer", "minimum": 1, "maximum": 5}
TAGS = {"type": "array", "items": S, "maxItems": 10}
ERROR_SCHEMA = {"type": "object", "properties": {"error": S, "message": S, "details": {"type": "object"}},
                "required": ["error", "message"]}


def make_api(backend: Backend, integration_keys: Mapping[str, str] | None = None, *,
             api_keys: Mapping[str, str] | None = None, site: Any = None,
             auth: Auth | None = None) -> tuple[list[Route], list[Op]]:
    """The API's routes and their descriptions. `integration_keys` maps an API key to the business
    system's node id; default: the HALL_INTEGRATION_KEY environment variable (node bizsys-1).
    `api_keys` maps a key to a role (manager / viewer); default: `env_api_keys()`. `site` (the web
    pages' `Site`) lets a manager's web session in and verifies QR tokens; without it, built here
    when the backend has a hub. `auth` overrides both (the app shares one with /api/state)."""
    if integration_keys is None:
        env = os.environ.get("HALL_INTEGRATION_KEY", "")
        integration_keys = {env: INTEGRATION_NODE} if env else {}
    keys = dict(integration_keys)
    if site is None and auth is not None:
        site = auth.site
    if site is None and hasattr(backend, "hub"):
        from hall_server.web.pages.site import Site

        site = Site.for_backend(backend)
    if auth is None:
        auth = Auth(env_api_keys() if api_keys is None else api_keys, site)

    def db() -> Any:
        return backend.reader()

    async def command(type_: str, body: dict[str, Any], node: str = API_NODE, status: int = 200) -> JSONResponse:
        applied = await backend.command(type_, body, node)
        if applied.ok:
            return JSONResponse(applied.result, status_code=status)
        return _err(status_for(applied.error), applied.error, applied.message, applied.details)

    def period(request: Request) -> tuple[str, str]:
        start = q_str(request, "from", max_len=10)
        end = q_str(request, "to", max_len=10)
        if not start or not end:
            raise ApiError(400, "bad_request", "query parameters 'from' and 'to' (YYYY-MM-DD) are required")
        figures.check_days(start, end)
        return start, end

    # floor and queue ------------------------------------------------------------------------
    def get_floor(request: Request) -> Any:
        """Rating and case counts only for a logged-in caller (R6)."""
        return floor.snapshot(db(), backend.config, now_ms(), manager=auth.caller(request) is not None)

    def get_queue(request: Request) -> Any:
        category = q_str(request, "category", max_len=8)
        sql = ("SELECT id, no, category, priority_kind, status, target_window, taken_ms, queued_ms FROM tickets "
               "WHERE status = 'waiting'" + (" AND category = ?" if category else "") +
               " ORDER BY priority DESC, queued_ms, id LIMIT 500")
        waiting = rows(db(), sql, [category] if category else [])
        cats = [c.code for c in backend.config.categories] if backend.config else []
        return {"queues": [floor.queue_view(db(), backend.config, c) for c in cats if not category or c == category],
                "waiting": waiting}

    async def post_ticket(request: Request) -> Any:
        return await command("queue.take", await json_body(request), status=201)

    def get_ticket(request: Request) -> Any:
        tid = p_int(request, "ticket_id")
        t = row(db(), "SELECT id, day, no, category, priority_kind, status, window, target_window, taken_ms, "
                      "first_called_ms, called_ms, recalls FROM tickets WHERE id = ?", [tid])
        if t is None:
            raise ApiError(404, "unknown_ticket", "no such ticket")
        return {**t, "timeline": tickets.timeline(db(), tid)}

    # 办件 -----------------------------------------------------------------------------------
    def get_jobs(request: Request) -> Any:
        status = q_str(request, "status", max_len=16)
        day = q_str(request, "day", max_len=10)
        return {"jobs": jobs.listing(db(), window=q_int(request, "window", 0, 9999), day=day, status=status,
                                     limit=q_int(request, "limit", 1, 500, 100) or 100,
                                     offset=q_int(request, "offset", 0, 10**9, 0) or 0)}

    def get_job(request: Request) -> Any:
        try:
            j = jobs.by_pub(db(), p_str(request, "job"))
        except DomainError as exc:
            raise ApiError(404, exc.code, exc.message) from None
        rs = rows(db(), "SELECT * FROM ratings WHERE job_id = ? ORDER BY round", [j["id"]])
        return {**jobs.view(j), "ratings": [ratings.view(r) for r in rs]}

    # ratings and comments ---------------------------------------------------------------------
    def token_job(body: dict[str, Any]) -> str:
        """The 办件 public id in the signed QR token of the slip (never a bare id from the caller)."""
        from hall_server import qr_token

        token = body.pop("token", None)
        if not isinstance(token, str) or not token:
            raise ApiError(400, "bad_request", "missing field 'token': the signed QR token of the slip (/r/<token>)")
        if site is None:
            raise ApiError(503, "not_configured", "QR tokens cannot be checked here")
        try:
            return qr_token.verify(site.secret, token.removeprefix("/r/"), site.now_ms() / 1000)
        except qr_token.TokenExpired:
            raise ApiError(410, "token_expired", "this QR link has expired") from None
        except qr_token.TokenError:
            raise ApiError(400, "bad_token", "not a valid QR token") from None

    async def rate(request: Request, type_: str, allowed: tuple[str, ...]) -> Any:
        body = await json_body(request)
        extra = [k for k in body if k not in allowed]
        if extra:
            raise ApiError(400, "bad_request", f"unknown field(s): {', '.join(str(k)[:40] for k in extra[:5])}")
        body["job"] = token_job(body)
        return await command(type_, body, node=QR_NODE, status=201)

    async def post_rating(request: Request) -> Any:
        return await rate(request, "rating.submit",
                          ("token", "level", "tags", "efficiency", "skill", "attitude", "text", "phone"))

    async def post_followup(request: Request) -> Any:
        return await rate(request, "rating.followup", ("token", "level", "tags", "text"))

    async def post_comment(request: Request) -> Any:
        return await command("comment.submit", await json_body(request), status=201)

    # cases ----------------------------------------------------------------------------------
    def get_cases(request: Request) -> Any:
        status = q_str(request, "status", max_len=16)
        kind = q_str(request, "kind", max_len=16)
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if q_str(request, "overdue", max_len=5) in ("1", "true"):
            where.append("(callback_overdue OR rectify_overdue)")
        sql = "SELECT * FROM cases" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ? OFFSET ?"
        limit = q_int(request, "limit", 1, 500, 100) or 100
        found = rows(db(), sql, [*params, limit, q_int(request, "offset", 0, 10**9, 0) or 0])
        return {"cases": [cases.view(db(), c, config=backend.config) for c in found]}

    def get_case(request: Request) -> Any:
        """R6: the rater's phone and text in clear only for a manager."""
        try:
            c = cases.get(db(), p_int(request, "case_id"))
        except DomainError as exc:
            raise ApiError(404, exc.code, exc.message) from None
        who = auth.caller(request)
        return cases.view(db(), c, reveal_private=who is not None and who.role == MANAGER, config=backend.config)

    def case_action(type_: str) -> Callable[[Request], Awaitable[Any]]:
        async def act(request: Request) -> Any:
            who = auth.require(request, MANAGER)
            body = await json_body(request)
            body["case_id"] = p_int(request, "case_id")
            return await command(type_, body, node=who.node)
        act.__name__ = type_.replace(".", "_")
        return act

    # figures --------------------------------------------------------------------------------
    def get_figures(request: Request) -> Any:
        start, end = period(request)
        by = q_str(request, "by", "window", 16) or "window"
        return {"from": start, "to": end, "by": by, "rows": figures.report(db(), backend.config, start, end, by)}

    def get_heatmap(request: Request) -> Any:
        start, end = period(request)
        return figures.heatmap(db(), start, end)

    def get_case_figures(request: Request) -> Any:
        start, end = period(request)
        by = q_str(request, "by", "hall", 16) or "hall"
        return {"rows": figures.case_rates(db(), backend.config, start, end, by)}

    def get_attendance(request: Request) -> Any:
        start, end = period(request)
        by = q_str(request, "by", "window", 16) or "window"
        return {"rows": figures.attendance(db(), start, end, by)}

    def get_assessment(request: Request) -> Any:
        if backend.config is None:
            raise ApiError(503, "not_configured", "no hall configuration")
        month = p_str(request, "month", 7)
        return assessment.monthly(db(), backend.config, month)

    # integration ----------------------------------------------------------------------------
    async def integration_finish(request: Request) -> Any:
        given = request.headers.get("x-api-key", "")
        node = None
        for key, name in keys.items():
            if key and hmac.compare_digest(given.encode(), key.encode()):
                node = name
        if not keys:
            raise ApiError(503, "not_configured", "no integration key is configured")
        if node is None:
            raise ApiError(401, "unauthorized", "a valid X-Api-Key header is required")
        body = await json_body(request)
        for k in ("window", "service_code", "job_no"):
            if k not in body:
                raise ApiError(400, "bad_request", f"missing field {k!r}")
        return await command("job.finish", body, node=node)

    finish_body = obj({"window": I, "service_code": S, "job_no": {"type": "string", "maxLength": 64}},
                      ["window", "service_code", "job_no"])
    token = {"type": "string", "maxLength": 204,
             "description": "the signed QR token of the slip (the part after /r/ of its link); channel 3"}
    rating_body = obj({"token": token, "level": LEVEL, "tags": TAGS, "efficiency": LEVEL,
                       "skill": LEVEL, "attitude": LEVEL, "text": {"type": "string", "maxLength": 500},
                       "phone": {"type": "string", "maxLength": 20}}, ["token", "level"])
    period_params = [qp("from", desc="first day, YYYY-MM-DD", required=True),
                     qp("to", desc="last day, YYYY-MM-DD", required=True)]
    note = obj({"note": {"type": "string", "maxLength": 1000}}, [])
    ops = [
        Op("GET", "/api/floor", "The live floor: windows, queues, today's summary", get_floor, tag="floor"),
        Op("GET", "/api/queue", "Waiting tickets and queue counts", get_queue, [qp("category")], tag="queue"),
        Op("POST", "/api/tickets", "Take a ticket (取号)", post_ticket,
           body=obj({"category": S, "priority": {"type": "string", "enum": ["appointment", "elderly", "green"]}},
                    ["category"]), status=201, tag="queue"),
        Op("GET", "/api/tickets/{ticket_id}", "A ticket and its timeline", get_ticket, [pp("ticket_id", "integer")],
           tag="queue"),
        Op("GET", "/api/jobs", "办件, newest first", get_jobs,
           [qp("window", "integer"), qp("day", desc="YYYY-MM-DD"), qp("status"), qp("limit", "integer"),
            qp("offset", "integer")], tag="jobs", auth=VIEWER),
        Op("GET", "/api/jobs/{job}", "One 办件 by its public id, with its ratings (private fields masked)", get_job,
           [pp("job")], tag="jobs", auth=VIEWER),
        Op("POST", "/api/ratings", "Rate a finished 办件 with the signed token of its QR slip (channel 3)",
           post_rating, body=rating_body, status=201, tag="ratings"),
        Op("POST", "/api/ratings/followup", "追评 after a 差评 was rectified, with the slip's QR token", post_followup,
           body=obj({"token": token, "level": LEVEL, "tags": TAGS, "text": {"type": "string", "maxLength": 500}},
                    ["token", "level"]), status=201, tag="ratings"),
        Op("POST", "/api/comments", "A hall comment or complaint (综合点评), lands in the case list", post_comment,
           body=obj({"text": {"type": "string", "maxLength": 1000}, "phone": {"type": "string", "maxLength": 20}},
                    ["text"]), status=201, tag="cases"),
        Op("GET", "/api/cases", "差评 cases and hall comments (phone and text masked); each due time "
           "`*_due_ms` comes with `*_due_day` and `*_due_provisional`", get_cases,
           [qp("status"), qp("kind"), qp("overdue", "boolean"), qp("limit", "integer"), qp("offset", "integer")],
           tag="cases", auth=VIEWER),
        Op("GET", "/api/cases/{case_id}", "One case with its records (phone and text in clear for a manager)",
           get_case, [pp("case_id", "integer")], tag="cases", auth=VIEWER),
        Op("POST", "/api/cases/{case_id}/callback", "Record the call-back (回访)", case_action("case.callback"),
           [pp("case_id", "integer")], note, tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/rectify", "Record the rectification (整改)", case_action("case.rectify"),
           [pp("case_id", "integer")], note, tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/close", "Close a case", case_action("case.close"),
           [pp("case_id", "integer")], note, tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/appeal", "Appeal a 差评 (申诉复核)", case_action("case.appeal"),
           [pp("case_id", "integer")], obj({"reason": {"type": "string", "maxLength": 1000}}, ["reason"]),
           tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/decide", "Decide an appeal", case_action("case.decide"),
           [pp("case_id", "integer")], obj({"upheld": {"type": "boolean"}, "note": S}, ["upheld"]), tag="cases",
           auth=MANAGER),
        Op("GET", "/api/figures", "Counts per level and rates (R8), cut by one dimension", get_figures,
           [*period_params, qp("by", enum=sorted(figures.CUTS))], tag="figures", auth=VIEWER),
        Op("GET", "/api/figures/heatmap", "Hour of day × weekday: 办件 finished, rated, 差评", get_heatmap,
           period_params, tag="figures", auth=VIEWER),
        Op("GET", "/api/figures/cases", "差评回复率, 回访整改率, 整改满意率, overdue cases", get_case_figures,
           [*period_params, qp("by", enum=["hall", "staff", "window"])], tag="figures", auth=VIEWER),
        Op("GET", "/api/figures/attendance", "迟到, 早退, 离岗, 空岗", get_attendance,
           [*period_params, qp("by", enum=["day", "staff", "window"])], tag="figures", auth=VIEWER),
        Op("GET", "/api/assessment/{month}", "Monthly assessment with 优质服务窗口 / 标兵 / 末位", get_assessment,
           [pp("month", desc="YYYY-MM")], tag="figures", auth=VIEWER),
        Op("POST", "/api/integration/jobs/finish", "Business system: finish a window's 办件 with its 办件编号",
           integration_finish, body=finish_body, tag="integration"),
    ]

    def wrap(op: Op) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                if op.auth:
                    auth.require(request, op.auth)
                if inspect.iscoroutinefunction(op.fn):
                    out = await op.fn(request)
                else:   # a read: keep the event loop free while SQLite works
                    out = await asyncio.to_thread(op.fn, request)
            except ApiError as exc:
                return _err(exc.status, exc.code, exc.message)
            except DomainError as exc:
                return _err(status_for(exc.code), exc.code, exc.message, exc.details)
            if isinstance(out, JSONResponse):
                return out
            return JSONResponse(out, status_code=op.status)
        endpoint.__doc__ = op.summary
        endpoint.__name__ = op.fn.__name__
        return endpoint

    routes = [Route(op.path, wrap(op), methods=[op.method]) for op in ops]
    return routes, ops


def openapi_paths(ops: list[Op]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    err = {"description": "refused", "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    for op in ops:
        entry: dict[str, Any] = {
            "summary": op.summary, "operationId": op.fn.__name__, "tags": [op.tag] if op.tag else [],
            "parameters": op.params,
            "responses": {str(op.status): {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": err, "404": err, "409": err},
        }
        if op.body is not None:
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
            entry["responses"]["413"] = err
        if op.path.startswith("/api/integration/"):
            entry["security"] = [{"apiKey": []}]
            entry["responses"]["401"] = err
        elif op.auth:
            entry["security"] = [{"managerKey": []}, {"session": []}]
            entry["description"] = f"Needs the {op.auth} role (or manager)."
            entry["responses"]["401"] = err
            entry["responses"]["403"] = err
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return paths


SECURITY_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
               "description": "the business system's integration key (HALL_INTEGRATION_KEY)"},
    "managerKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                   "description": "a manager (HALL_MANAGER_KEY) or viewer (HALL_VIEWER_KEY) key"},
    "session": {"type": "apiKey", "in": "cookie", "name": "hall_session", "description": "the web login's session"},
}
