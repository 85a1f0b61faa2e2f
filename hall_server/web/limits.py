"""Rate limits of the hall's public web side: one scheme for the JSON API and the citizen's pages.

Citizens in a hall often share one address (the hall's Wi-Fi behind one NAT), so a limit per
address alone either lets a flood through or refuses the whole hall. Every public request is
counted twice:

- per **client**: a long-lived random client cookie the server sets (`hall_client`, HttpOnly,
  SameSite=Lax, signed with the hall secret so it cannot be made up); a write without a valid
  one is counted by a fingerprint of its address, User-Agent and Accept-Language, and the cookie
  it is given starts with that count (dropping the cookie gains nothing); a first page view
  without one is counted by the new cookie only (many phones of one model look alike);
- per **address** (`client_address`, which believes X-Forwarded-For only from the hall's trusted
  proxies), with a ceiling well above one person's needs, so 40 citizens behind one address can
  each take a ticket, rate and comment while a script cycling through cookies still hits a wall.

A refused client does not use up its address's budget (a flood from one phone does not lock the
hall out). Buckets refill continuously (token buckets); memory is bounded by an LRU of keys.
What it cannot do: a script that collects a fresh cookie per request (or many addresses) is held
only by the per-address ceiling; the limits live in memory and start afresh at a restart.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from config.schema import IPNetwork
from hall_server.core.signing import Signer
from hall_server.web.client import client_address
from hallnet.rate_limit import MAX_KEYS, RateLimiter

CLIENT_COOKIE = "hall_client"
CLIENT_COOKIE_MAX_AGE_S = 400 * 24 * 3600      # browsers cap cookie lifetimes at about 400 days
Kind = Literal["read", "write", "key"]


@dataclass(frozen=True)
class Budget:
    """How much one client and one address may do: hits at once, refilled fully over the period."""

    per_client: int
    per_address: int
    client_period_s: float = 60.0
    address_period_s: float = 60.0


# A citizen takes a ticket, rates (perhaps re-sending a form that missed a reason) and comments:
# a handful of writes. A hall's citizens behind one address: up to 150 writes at once, then one a
# second (60 a minute, several times a large hall's peak of ratings and comments).
WRITE_BUDGET = Budget(per_client=10, per_address=150, address_period_s=150.0)
READ_BUDGET = Budget(per_client=60, per_address=1200)
# Wrong API keys (manager, viewer, integration): a mistyped key is retried a few times; guessing is not.
KEY_BUDGET = Budget(per_client=30, per_address=300)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int          # whole seconds (Retry-After), 0 when allowed
    client_key: str             # "c:<cookie id>" or "f:<fingerprint>"
    address: str
    new_cookie: str | None      # a client cookie to set on the response, when the request had none


class PublicLimits:
    """The public side's limiter: `check(request, "write")` before doing anything, then
    `remember(response, verdict)` so the client keeps its cookie."""

    def __init__(self, secret: bytes, trusted_proxies: Callable[[], Sequence[IPNetwork]] = tuple,
                 write: Budget = WRITE_BUDGET, read: Budget = READ_BUDGET, key: Budget = KEY_BUDGET,
                 max_keys: int = MAX_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._signer = Signer(secret or secrets.token_bytes(32), "client")
        self._trusted = trusted_proxies
        self._clock = clock
        self.budgets = {"write": write, "read": read, "key": key}
        self._clients = {k: RateLimiter(b.per_client, b.client_period_s, max_keys) for k, b in self.budgets.items()}
        self._addresses = {k: RateLimiter(b.per_address, b.address_period_s, max_keys)
                           for k, b in self.budgets.items()}

    # --- the client cookie ---------------------------------------------------------------------
    def new_cookie(self) -> str:
        """`<24 hex id>.<24 hex keyed hash of it>` (`hall_server.core.signing`, purpose `client`)."""
        ident = secrets.token_hex(12)
        return f"{ident}.{self._signer.keyed_hash(ident, 24)}"

    def cookie_id(self, value: str | None) -> str | None:
        """The client id in a valid cookie value, else None (a made-up or damaged cookie)."""
        if not value or len(value) > 80 or value.count(".") != 1:
            return None
        ident, mac = value.split(".")
        if len(ident) != 24 or not self._signer.same(ident, mac, 24):
            return None
        return ident

    @staticmethod
    def fingerprint(address: str, request: Request) -> str:
        parts = (address, request.headers.get("user-agent", "")[:300], request.headers.get("accept-language", "")[:100])
        return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()[:32]

    # --- the check -----------------------------------------------------------------------------
    def check(self, request: Request, kind: Kind = "write") -> Verdict:
        address = client_address(request, self._trusted())
        ident = self.cookie_id(request.cookies.get(CLIENT_COOKIE))
        new_cookie = None
        if ident is None:
            new_cookie = self.new_cookie()
            # A first page view has no cookie yet: many phones of one model behind the hall's address
            # look alike, so a read is counted by its new cookie (and the address) only; a write
            # without a cookie (a script that drops it) is counted by its fingerprint.
            client_key = ("f:" + self.fingerprint(address, request)) if kind != "read" else (
                "c:" + new_cookie.split(".")[0])
        else:
            client_key = "c:" + ident
        now = self._clock()
        clients, addresses = self._clients[kind], self._addresses[kind]
        client_wait, address_wait = clients.wait_s(client_key, now), addresses.wait_s(address, now)
        allowed = client_wait <= 0 and address_wait <= 0
        if allowed:
            clients.consume(client_key, now)
            addresses.consume(address, now)
        elif client_wait > 0:                       # keep a flooding client at zero; its address is spared
            clients.consume(client_key, now)
            client_wait = clients.wait_s(client_key, now)
        if new_cookie is not None and client_key.startswith("f:"):
            clients.copy(client_key, "c:" + new_cookie.split(".")[0])    # the new cookie starts as counted
        if allowed:
            return Verdict(True, 0, client_key, address, new_cookie)
        return Verdict(False, max(1, math.ceil(max(client_wait, address_wait))), client_key, address, new_cookie)

    def remember(self, response: Response, verdict: Verdict, request: Request | None = None) -> Response:
        """Set the client cookie when the request had none; add Retry-After to a refusal."""
        if verdict.new_cookie is not None:
            secure = request is not None and request.url.scheme == "https"
            response.set_cookie(CLIENT_COOKIE, verdict.new_cookie, max_age=CLIENT_COOKIE_MAX_AGE_S, path="/",
                                httponly=True, samesite="lax", secure=secure)
        if not verdict.allowed:
            response.headers["Retry-After"] = str(verdict.retry_after_s)
        return response

    def sizes(self) -> dict[str, int]:
        """How many keys each table holds (bounded by max_keys)."""
        return {f"{table}.{kind}": len(lim) for table, group in (("client", self._clients), ("address", self._addresses))
                for kind, lim in group.items()}
