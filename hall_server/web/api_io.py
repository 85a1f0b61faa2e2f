"""Errors and input of the JSON API: `ApiError` and the error body, the status of a domain refusal,
and the request's JSON body (application/json only, at most MAX_BODY_BYTES) and parameters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from hall_server.web.limits import Verdict

MAX_BODY_BYTES = 16 * 1024
STATUS = {"bad_request": 400, "forbidden": 403, "not_configured": 503, "internal": 503, "unknown_type": 400,
          "priority_not_allowed": 403}
JSON_TYPE = "application/json"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def rate_limited(verdict: Verdict) -> JSONResponse:
    """429 past the public limits (`hall_server.web.limits`); the caller adds Retry-After."""
    return error_response(429, "rate_limited",
                          f"too many requests from this client: retry after {verdict.retry_after_s} s",
                          {"retry_after_s": verdict.retry_after_s})


def status_for(code: str) -> int:
    if code in STATUS:
        return STATUS[code]
    if code.startswith("unknown_"):
        return 404
    return 409


def error_response(status: int, code: str, message: str, details: Mapping[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = dict(details)
    return JSONResponse(body, status_code=status)


_err = error_response


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object. Only `application/json`: a cross-site page cannot send that
    without the browser asking first (a `text/plain` "simple request" can)."""
    if media_type(request) != JSON_TYPE:
        raise ApiError(415, "unsupported_media_type", "the body must be JSON sent as Content-Type: application/json")
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
