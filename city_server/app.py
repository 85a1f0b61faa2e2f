"""The city server's web side: `POST /ingest` (a hall's batch, with its key), `GET /health`, and
the city's pages (city_server.pages).

`/ingest` answers `{"upto", "applied", "skipped"}` (the hall moves its cursor to `upto`), 401 for
a key the city does not know, 403 for a batch naming another hall, 400 for a batch it cannot read
(nothing of it is applied), 429 when a caller is over its rate, 503 when the database is down.
Guessing keys is limited per address; a hall's own batches per hall.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from city_server import pages
from city_server.halls import hall_for_key
from city_server.layout import message
from city_server.limits import limiter
from city_server.ingest import apply
from city_server.records import BadBatch, decode
from config.i18n import t

log = logging.getLogger("city_server")
MAX_BODY_BYTES = 16 * 1024 * 1024


class Pool:
    """A few long-lived connections (psycopg 3), handed out one request at a time."""

    def __init__(self, dsn: str, size: int = 4) -> None:
        self.dsn, self._free = dsn, queue.LifoQueue(size)
        for _ in range(size):
            self._free.put(None)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        conn = self._free.get(timeout=30)
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(self.dsn, connect_timeout=5, autocommit=True)
            yield conn
        except psycopg.OperationalError:
            if conn is not None:
                conn.close()
            conn = None
            raise
        finally:
            self._free.put(conn)


def make_app(dsn: str) -> Starlette:
    pool = Pool(dsn)
    guesses = limiter(20, 60.0)            # unknown keys per address
    per_hall = limiter(600, 60.0)         # batches per hall (a backlog of a week goes in well under an hour)

    def _error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"error": code, "message": message}, status_code=status)

    async def ingest_async(request: Request) -> JSONResponse:
        address = request.client.host if request.client else "?"
        auth = request.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        size = int(request.headers.get("content-length") or 0)
        if size > MAX_BODY_BYTES:
            return _error(413, "too_large", f"a batch is at most {MAX_BODY_BYTES} bytes")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "too_large", f"a batch is at most {MAX_BODY_BYTES} bytes")
        return await run_in_threadpool(_ingest, address, key, body)

    def _ingest(address: str, key: str, body: bytes) -> JSONResponse:
        try:
            with pool.connection() as conn:
                hall = hall_for_key(conn, key)
                if hall is None:
                    if not guesses.hit(address):
                        return _error(429, "rate_limited", "too many unknown keys from this address")
                    return _error(401, "unknown_key", "the city does not know this hall key")
                if not per_hall.hit(hall):
                    return _error(429, "rate_limited", "too many batches: retry shortly")
                try:
                    batch, entries = decode(body)
                except BadBatch as exc:
                    return _error(400, "bad_batch", str(exc))
                if batch.hall != hall:
                    log.warning("hall %s sent a batch for hall %s: refused", hall, batch.hall)
                    return _error(403, "wrong_hall", "a hall sends only its own records")
                done = apply(conn, hall, entries)
        except (psycopg.OperationalError, queue.Empty) as exc:
            return _error(503, "database_down", f"the city's database is not available: {exc}")
        return JSONResponse({"upto": done.upto, "applied": done.applied, "skipped": done.skipped})

    def health(request: Request) -> JSONResponse:
        try:
            with pool.connection() as conn:
                conn.execute("SELECT 1").fetchone()
        except (psycopg.OperationalError, queue.Empty):
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    async def not_found(request: Request, exc: Exception) -> Response:
        return message(t("city.not_found"), t("city.not_found_text"), status=404)

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("a page failed: %s", request.url.path)
        return message(t("city.error"), t("city.error_text"), status=500)

    return Starlette(routes=[Route("/ingest", ingest_async, methods=["POST"]), Route("/health", health),
                             *pages.routes(pool)],
                     exception_handlers={404: not_found, 500: failed})
