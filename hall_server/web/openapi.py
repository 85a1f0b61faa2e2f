"""The JSON API's route table entries (`Op`) and the OpenAPI document built from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request


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

    @property
    def public_write(self) -> bool:
        """A write anyone may send: rate-limited per client and address unless a key or session is given."""
        return self.method == "POST" and not self.auth and not self.path.startswith("/api/integration/")


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
            entry["responses"]["415"] = {**err, "description": "the body was not sent as application/json"}
        if op.public_write or op.path.startswith("/api/integration/"):
            entry["responses"]["429"] = {
                **err, "description": "too many requests from this client or address (per-client and per-address "
                                      "limits of public writes); see Retry-After",
                "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}}
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
