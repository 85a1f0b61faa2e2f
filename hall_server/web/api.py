"""The JSON API of the hall domain under /api/ (Starlette), with its OpenAPI description.

Reads go through `backend.reader()` (a read-only connection); commands through
`backend.command(type, body, node)` — the same handlers the nodes use. Refusals come back as
4xx with `{"error": <stable code>, "message": <English>}`; bad input never reaches a 500.

The integration endpoint (`POST /api/integration/jobs/finish`) is for the hall's business system:
it sends its API key in `X-Api-Key` and finishes the 办件 at a window with its 办件编号.

Who may call what (R6: levels, cases and the rater's data are for the hall's managers only):
  - anyone: floor (public summary), queue, a normal ticket (a priority one needs a manager: the
    domain refuses it from the anonymous node `web`), one ticket's own status by its unguessable
    public id, `POST /api/ratings` and `/api/ratings/followup` with the signed QR token of the slip
    (channel 3, never a bare 办件 id), comments, health;
  - `viewer` (a web session of any role, or a viewer/manager API key): reads of 办件 with their
    ratings, cases (masked), figures, assessment, the managers' floor counts and `mgr/` state keys;
  - `manager` (a manager session, or `HALL_MANAGER_KEY` in `X-Api-Key`): the case actions, and a
    case's unmasked phone and text.
A session is the web login's cookie (`pages.auth`); a cookie-authenticated POST must be JSON and,
when the browser names an origin, same-origin. Missing credentials → 401, a viewer writing → 403.

Every POST with a body must say `Content-Type: application/json` (415 otherwise: a cross-site form
can send `text/plain` without asking). Public writes (no valid key or session) are rate-limited per
client and per address (`hall_server.web.limits`, shared with the QR pages): 429 with Retry-After.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hall_server.core.backend import Backend
from hall_server.domain import assessment, cases, figures, floor, jobs, ratings, tickets
from hall_server.domain.common import row, rows
from hall_server.domain.floor_snapshot import coordinator_for
from hall_server.domain.context import DomainError
from hall_server.web.api_io import (  # noqa: F401  (re-exported: the API's errors and input helpers)
    JSON_TYPE, MAX_BODY_BYTES, STATUS, ApiError, _err, error_response, json_body, media_type, p_int, p_str, q_int,
    q_str, rate_limited, status_for,
)
from hall_server.web.api_auth import (  # noqa: F401  (re-exported: app.py and the tests use them)
    KEY_NODE, MANAGER, VIEWER, Auth, Caller, env_api_keys,
)
from hall_server.web.limits import PublicLimits
from hall_server.web.openapi import (  # noqa: F401  (re-exported: app.py builds the document)
    ERROR_SCHEMA, I, LEVEL, S, SECURITY_SCHEMES, TAGS, Op, obj, openapi_paths, pp, qp,
)
from hall_server.web.pages.rater import staff_network_refusal, submit_rating
from hall_server.web.public_state import api_floor_json
from hallnet.messages import now_ms
from hall_server.web.pages.site import Site
from hall_server.core import qr_token
from hallnet.vocabulary import Msg, NodeKind, node_id

INTEGRATION_NODE = node_id(NodeKind.BIZSYS, 1)
API_NODE = NodeKind.WEB
QR_NODE = node_id(NodeKind.QR, "web")   # ratings with a QR token (channel 3), as the QR page sends them

class PrebuiltJSON(JSONResponse):
    """A JSON response whose body was serialised before (the floor's, once per snapshot)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


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
        site = Site.for_backend(backend)
    if auth is None:
        auth = Auth(env_api_keys() if api_keys is None else api_keys, site)
    limits: PublicLimits = site.limits if site is not None else PublicLimits(b"")

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
    coordinator = site.floor if site is not None else coordinator_for(backend, now_ms)

    async def get_floor(request: Request) -> Any:
        """Rating and case counts, and the 办件 public ids, only for a logged-in caller (R6); the public
        gets the public part only. One snapshot per state change, serialised once per audience."""
        snap = coordinator.peek() or await asyncio.to_thread(coordinator.current)
        return PrebuiltJSON(api_floor_json(snap, manager=auth.caller(request) is not None))

    def get_queue(request: Request) -> Any:
        """The waiting tickets by number; their row ids only for a logged-in caller."""
        category = q_str(request, "category", max_len=8)
        sql = ("SELECT id, no, category, priority_kind, status, target_window, taken_ms, queued_ms FROM tickets "
               "WHERE status = 'waiting'" + (" AND category = ?" if category else "") +
               " ORDER BY priority DESC, queued_ms, id LIMIT 500")
        waiting = rows(db(), sql, [category] if category else [])
        if auth.caller(request) is None:
            waiting = [{k: v for k, v in w.items() if k != "id"} for w in waiting]
        cats = [c.code for c in backend.config.categories] if backend.config else []
        return {"queues": [floor.queue_view(db(), backend.config, c) for c in cats if not category or c == category],
                "waiting": waiting}

    async def post_ticket(request: Request) -> Any:
        """Anyone takes a normal ticket (node `web`); a manager (key or session) may give a priority
        one (node `manager-…`): the domain decides (`tickets.PRIORITY_GIVERS`)."""
        who = auth.caller(request)
        node = API_NODE
        if who is not None and who.role == MANAGER:
            # a manager's key is checked once (above); a session's POST also passes `require`'s CSRF check
            node = who.node if who.via == "key" else auth.require(request, MANAGER).node
        applied = await backend.command(Msg.QUEUE_TAKE, await json_body(request), node)
        if not applied.ok:
            return _err(status_for(applied.error), applied.error, applied.message, applied.details)
        result = dict(applied.result)
        if node == API_NODE:            # the citizen gets their ticket's public id, not the row id
            result.pop("ticket_id", None)
        return JSONResponse(result, status_code=201)

    def get_ticket(request: Request) -> Any:
        """One ticket's own status by its public id; a logged-in caller may also give the row id
        and gets the whole ticket with its timeline."""
        key = p_str(request, "ticket", 32)
        if key.isascii() and key.isdigit() and auth.caller(request) is not None:
            tid = p_int(request, "ticket")
            t = row(db(), "SELECT id, pub, day, no, category, priority_kind, status, window, target_window, taken_ms, "
                          "first_called_ms, called_ms, recalls FROM tickets WHERE id = ?", [tid])
            if t is None:
                raise ApiError(404, "unknown_ticket", "no such ticket")
            return {**t, "timeline": tickets.timeline(db(), tid)}
        return tickets.public_status(db(), backend.config, key)

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
        if site is not None and staff_network_refusal(site, request) is not None:       # issue 11: docs/trust.md
            raise ApiError(403, "staff_network", "no rating from the hall's staff networks")
        if site is None:
            return await command(type_, body, node=QR_NODE, status=201)
        kind = "followup" if type_ == Msg.RATING_FOLLOWUP else "submit"
        applied = await submit_rating(site, request, kind, body, None)      # with its source: the pattern flags
        if not applied.ok:
            return _err(status_for(applied.error), applied.error, applied.message, applied.details)
        return JSONResponse({k: v for k, v in applied.result.items() if k != "flags"}, status_code=201)

    async def post_rating(request: Request) -> Any:
        return await rate(request, Msg.RATING_SUBMIT,
                          ("token", "level", "tags", "efficiency", "skill", "attitude", "text", "phone"))

    async def post_followup(request: Request) -> Any:
        return await rate(request, Msg.RATING_FOLLOWUP, ("token", "level", "tags", "text"))

    async def post_comment(request: Request) -> Any:
        return await command(Msg.COMMENT_SUBMIT, await json_body(request), status=201)

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
        return {"rows": figures.attendance(db(), start, end, by, backend.config)}

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
            verdict = limits.check(request, "key")         # guessing keys is limited too
            if not verdict.allowed:
                return limits.remember(rate_limited(verdict), verdict, request)
            raise ApiError(401, "unauthorized", "a valid X-Api-Key header is required")
        body = await json_body(request)
        for k in ("window", "service_code", "job_no"):
            if k not in body:
                raise ApiError(400, "bad_request", f"missing field {k!r}")
        return await command(Msg.JOB_FINISH, body, node=node)

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
    note_required = obj({"note": {"type": "string", "maxLength": 1000}}, ["note"])    # issue 15
    callback = obj({"note": {"type": "string", "maxLength": 1000}, "reached": {"type": "boolean"},
                    "satisfied": {"type": "boolean"},
                    "words": {"type": "string", "maxLength": 1000,
                              "description": "the citizen's reason in their words (private like the case's text)"}},
                   [])
    ops = [
        Op("GET", "/api/floor", "The live floor: windows, queues, today's summary", get_floor, tag="floor"),
        Op("GET", "/api/queue", "Waiting tickets and queue counts", get_queue, [qp("category")], tag="queue"),
        Op("POST", "/api/tickets", "Take a ticket (取号); the answer's `public_id` looks up its status "
           "(`status_path` /t/{public_id} is the citizen's page), with `ahead` and the estimated wait in minutes "
           "(`wait_min_minutes`, `wait_max_minutes`; null when no window of the category is open). "
           "A priority ticket needs a manager (X-Api-Key or session): anonymous callers get 403 "
           "priority_not_allowed", post_ticket,
           body=obj({"category": S, "priority": {"type": "string", "enum": ["appointment", "elderly", "green"],
                                                 "description": "manager only"}},
                    ["category"]), status=201, tag="queue"),
        Op("GET", "/api/tickets/{ticket}", "One ticket's own status by its public id: {ticket, category, "
           "category_name, status, ahead (tickets called before it), window (called to), wait_min_minutes, "
           "wait_max_minutes (the estimated wait while it waits)}; a logged-in caller may "
           "give the row id and gets the ticket with its timeline", get_ticket,
           [pp("ticket", desc="the public_id returned when the ticket was taken")], tag="queue"),
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
        Op("POST", "/api/cases/{case_id}/callback", "Record the call-back (回访) and its outcome",
           case_action(Msg.CASE_CALLBACK), [pp("case_id", "integer")], callback, tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/rectify", "Record the rectification (整改): what was done",
           case_action(Msg.CASE_RECTIFY), [pp("case_id", "integer")], note_required, tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/close", "Close a case, saying what was done", case_action(Msg.CASE_CLOSE),
           [pp("case_id", "integer")], note_required, tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/appeal", "Appeal a 差评 (申诉复核)", case_action(Msg.CASE_APPEAL),
           [pp("case_id", "integer")], obj({"reason": {"type": "string", "maxLength": 1000}}, ["reason"]),
           tag="cases", auth=MANAGER),
        Op("POST", "/api/cases/{case_id}/decide", "Decide an appeal", case_action(Msg.CASE_DECIDE),
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
            verdict = None
            try:
                known, bad_key = auth.caller(request), False
            except ApiError:        # the integration route checks its own keys (and counts wrong ones)
                known, bad_key = None, not op.path.startswith("/api/integration/")
            if (op.public_write and known is None) or bad_key:
                verdict = limits.check(request, "key" if bad_key else "write")
                if not verdict.allowed:
                    return limits.remember(rate_limited(verdict), verdict, request)
            response = await answer(request)
            if verdict is not None:
                limits.remember(response, verdict, request)
            return response

        async def answer(request: Request) -> JSONResponse:
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
