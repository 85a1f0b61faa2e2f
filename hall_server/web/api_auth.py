"""Who is calling the JSON API: an `X-Api-Key` (manager or viewer role) or the web session cookie.

A session's POST must be same-origin JSON (CSRF); a key is compared in constant time.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from hall_server.web.api_io import JSON_TYPE, ApiError, media_type
from hall_server.web.pages.auth import same_origin, session_of
from hallnet.vocabulary import NodeKind, node_id

KEY_NODE = node_id(NodeKind.MANAGER, "api")   # commands sent with a manager API key
VIEWER, MANAGER = "viewer", "manager"


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

        s = session_of(self.site, request)
        if s is None:
            return None
        return Caller(s.user.role, node_id(NodeKind.MANAGER, s.user.name), "session")

    def require(self, request: Request, role: str) -> Caller:
        c = self.caller(request)
        if c is None:
            raise ApiError(401, "unauthorized", "log in (web session) or send a valid X-Api-Key header")
        if role == MANAGER and c.role != MANAGER:
            raise ApiError(403, "forbidden", "the viewer role is read-only: this needs a manager")
        if c.via == "session" and request.method == "POST":
            if media_type(request) != JSON_TYPE or not same_origin(request):
                raise ApiError(403, "forbidden", "a session's POST must be same-origin JSON")
        return c
