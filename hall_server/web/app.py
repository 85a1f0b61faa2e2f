"""The hall server's HTTP application (Starlette): JSON API under /api/, the pages.

Every response carries the security headers (`SecurityHeaders`, a plain ASGI middleware so that
server-sent event streams pass through untouched): a strict Content-Security-Policy
(`layout.content_security_policy`: this origin only, inline code only by hash, no framing),
X-Content-Type-Options, Referrer-Policy and X-Frame-Options.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collections.abc import Mapping

from config.i18n import t
from hall_server.core.backend import Backend
from hall_server.core.store import StorageFault
from hall_server.web import pages
from hall_server.web.api import (
    SECURITY_SCHEMES, Auth, ApiError, env_api_keys, make_api, openapi_paths, rate_limited,
)
from hall_server.web.pages.layout import message, security_headers
from hall_server.web.pages.site import Site
from hall_server.web.public_state import nodes_summary, public_state

API_INFO = {"title": "Hall server API", "version": "1"}


class SecurityHeaders:
    """Adds the CSP and its companions to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers().items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def make_app(backend: Backend, *, integration_keys: Mapping[str, str] | None = None,
             api_keys: Mapping[str, str] | None = None) -> Starlette:
    """`api_keys` maps an X-Api-Key to a role (manager / viewer); default from the environment
    (HALL_MANAGER_KEY, HALL_VIEWER_KEY). See `hall_server.web.api` for who may call what."""
    site = Site.for_backend(backend) if hasattr(backend, "hub") else None
    auth = Auth(env_api_keys() if api_keys is None else api_keys, site)

    async def health(request: Request) -> JSONResponse:
        """The bus thread, the writer and the storage; 503 when one of them is dead or refusing writes"""
        healthy, report = backend.health()
        return _json(report, 200 if healthy else 503)

    def refuse_key(request: Request, exc: ApiError) -> JSONResponse:
        """A wrong X-Api-Key: 401, and 429 past the limits of wrong keys (`limits.KEY_BUDGET`)."""
        if site is not None:
            verdict = site.limits.check(request, "key")
            if not verdict.allowed:
                return site.limits.remember(rate_limited(verdict), verdict, request)
        return _json({"error": exc.code, "message": exc.message}, exc.status)

    async def state(request: Request) -> JSONResponse:
        """The state map (`?prefix=`): everything for a logged-in caller; else only what a citizen may
        see (`hall_server.web.public_state`: no rating, ticket or 办件 id, handle, link or `mgr/` key)."""
        prefix = request.query_params.get("prefix", "")
        if len(prefix) > 200:
            return _json({"error": "bad_request", "message": "prefix too long"}, 400)
        try:
            private = auth.caller(request) is not None
        except ApiError as exc:
            return refuse_key(request, exc)
        seq, values = backend.snapshot(prefix)
        if not private:
            values = public_state(values)
        return _json({"seq": seq, "state": values})

    async def nodes(request: Request) -> JSONResponse:
        """Nodes (ids, presence, device health) for a logged-in caller; else only how many are alive."""
        try:
            private = auth.caller(request) is not None
        except ApiError as exc:
            return refuse_key(request, exc)
        presence = backend.presence()
        summary = nodes_summary(presence)
        return _json({**summary, "nodes": presence} if private else summary)

    routes = [
        Route("/api/health", health, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/nodes", nodes, methods=["GET"]),
    ]

    domain_routes, ops = make_api(backend, integration_keys, auth=auth)

    async def openapi(request: Request) -> JSONResponse:
        paths: dict[str, Any] = openapi_paths(ops)
        for r in routes:
            if r.path in paths:
                continue
            methods = sorted(m.lower() for m in (r.methods or []) if m != "HEAD")
            paths[r.path] = {m: {"summary": (r.endpoint.__doc__ or r.name or "").strip(),
                                 "responses": {"200": {"description": "OK"}}} for m in methods}
        return _json({"openapi": "3.1.0", "info": API_INFO, "paths": paths,
                      "components": {"securitySchemes": SECURITY_SCHEMES}})

    routes.append(Route("/api/openapi.json", openapi, methods=["GET"]))
    routes.extend(domain_routes)

    async def not_found(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/api/"):
            return pages.not_found_page()
        return _json({"error": "not_found", "message": "no such route"}, 404)

    async def server_error(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith("/api/"):
            return pages.error_page()
        resp = _json({"error": "internal", "message": "internal error"}, 500)
        resp.headers.update(security_headers())   # sent outside the middleware stack
        return resp

    async def storage_fault(request: Request, exc: Exception) -> Response:
        """The disk refused the write (full, read-only): 503, retry later; nothing was stored."""
        status = exc.status if isinstance(exc, StorageFault) else "error"
        headers = {"Retry-After": "30"}
        if not request.url.path.startswith("/api/"):
            page = message(t(f"web.storage.{status}"), t("web.storage.text"), status=503, kind="error")
            page.headers.update(headers)
            return page
        code = exc.code if isinstance(exc, StorageFault) else "storage_error"
        return JSONResponse({"error": code, "message": f"storage {status.replace('_', '-')}: not stored, retry later"},
                            status_code=503, headers=headers)

    page_routes = pages.routes(backend, site) if site is not None else []   # web pages (hall_server.web.pages)
    return Starlette(routes=[*routes, *page_routes],
                     exception_handlers={404: not_found, 500: server_error, StorageFault: storage_fault},
                     middleware=[Middleware(SecurityHeaders)])
