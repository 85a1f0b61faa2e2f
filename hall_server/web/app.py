"""The hall server's HTTP application (Starlette): JSON API under /api/, pages later."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hall_server.backend import Backend

API_INFO = {"title": "Hall server API", "version": "1"}


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def make_app(backend: Backend) -> Starlette:
    async def health(request: Request) -> JSONResponse:
        seq, _ = backend.snapshot()
        return _json({"ok": True, "seq": seq})

    async def state(request: Request) -> JSONResponse:
        prefix = request.query_params.get("prefix", "")
        if len(prefix) > 200:
            return _json({"error": "bad_request", "message": "prefix too long"}, 400)
        seq, values = backend.snapshot(prefix)
        return _json({"seq": seq, "state": values})

    async def nodes(request: Request) -> JSONResponse:
        return _json({"nodes": backend.presence()})

    routes = [
        Route("/api/health", health, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/nodes", nodes, methods=["GET"]),
    ]

    async def openapi(request: Request) -> JSONResponse:
        paths: dict[str, Any] = {}
        for r in routes:
            methods = sorted(m.lower() for m in (r.methods or []) if m != "HEAD")
            paths[r.path] = {m: {"summary": (r.endpoint.__doc__ or r.name or "").strip(),
                                 "responses": {"200": {"description": "OK"}}} for m in methods}
        return _json({"openapi": "3.1.0", "info": API_INFO, "paths": paths})

    routes.append(Route("/api/openapi.json", openapi, methods=["GET"]))

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return _json({"error": "not_found", "message": "no such route"}, 404)

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        return _json({"error": "internal", "message": "internal error"}, 500)

    return Starlette(routes=routes, exception_handlers={404: not_found, 500: server_error})
