"""The hall server's HTTP application (Starlette): JSON API under /api/, pages later."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collections.abc import Mapping

from config.i18n import t
from hall_server.backend import Backend
from hall_server.store import StorageFault
from hall_server.web import pages
from hall_server.web.api import SECURITY_SCHEMES, Auth, ApiError, env_api_keys, make_api, openapi_paths
from hall_server.web.pages.layout import message
from hall_server.web.pages.site import Site

API_INFO = {"title": "Hall server API", "version": "1"}


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

    async def state(request: Request) -> JSONResponse:
        prefix = request.query_params.get("prefix", "")
        if len(prefix) > 200:
            return _json({"error": "bad_request", "message": "prefix too long"}, 400)
        try:
            private = auth.caller(request) is not None     # `mgr/` keys: managers' eyes only (R6)
        except ApiError as exc:
            return _json({"error": exc.code, "message": exc.message}, exc.status)
        seq, values = backend.snapshot(prefix)
        if not private:
            values = {k: v for k, v in values.items() if not k.startswith("mgr/")}
        return _json({"seq": seq, "state": values})

    async def nodes(request: Request) -> JSONResponse:
        return _json({"nodes": backend.presence()})

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
        return _json({"error": "internal", "message": "internal error"}, 500)

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
                     exception_handlers={404: not_found, 500: server_error, StorageFault: storage_fault})
