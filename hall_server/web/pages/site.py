"""What every page handler shares: the backend, the hall secret, clocks, limits, form parsing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request

from config.schema import HallConfig
from hall_server.core.backend import Backend
from hall_server.domain.floor_snapshot import FloorCoordinator, coordinator_for
from hall_server.core.backend import Backend
from hall_server.domain.hours import local
from hall_server.core.secret import load_secret
from hall_server.web.limits import PublicLimits, RateLimiter

__all__ = ["FormError", "LoginThrottle", "RateLimiter", "Site", "first", "read_form"]
from hall_server.web.users import AccountCache
from hall_server.web.client import client_address

MAX_FORM_BYTES = 16 * 1024


class FormError(ValueError):
    """The request body is not a small urlencoded form."""


class LoginThrottle:
    """Failed logins per key (IP, user name): after `free` failures within `window_s`, each
    further attempt waits `base_s` × 2^(extra failures), at most `max_s`."""

    def __init__(self, free: int = 5, window_s: float = 900.0, base_s: float = 30.0, max_s: float = 900.0) -> None:
        self.free, self.window_s, self.base_s, self.max_s = free, window_s, base_s, max_s
        self._fails: dict[str, list[float]] = {}

    def wait_s(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        fails = [t for t in self._fails.get(key, []) if t > now - self.window_s]
        self._fails[key] = fails
        if len(fails) < self.free:
            return 0.0
        delay = min(self.max_s, self.base_s * 2 ** (len(fails) - self.free))
        return max(0.0, fails[-1] + delay - now)

    def failed(self, key: str, now: float | None = None) -> None:
        self._fails.setdefault(key, []).append(time.monotonic() if now is None else now)
        if len(self._fails) > 20_000:
            self._fails = dict(list(self._fails.items())[-10_000:])

    def succeeded(self, key: str) -> None:
        self._fails.pop(key, None)


@dataclass
class Site:
    backend: Backend
    data_dir: Path
    secret: bytes
    limits: PublicLimits = field(init=False, repr=False)   # the public side's rate limits (API and pages)
    clock: Any = time.time              # wall seconds: sessions, throttles
    hall_clock: Any = None              # the hall's time in ms (the server's --clock-*); None = wall time
    revoked: set[str] = field(default_factory=set)   # session nonces logged out here (the store keeps them: auth)
    accounts: AccountCache | None = None             # users.json as sessions are checked against it (auth)

    floor: FloorCoordinator = field(init=False, repr=False)   # the live floor's one snapshot (floor_page, API)

    def __post_init__(self) -> None:
        self.limits = PublicLimits(self.secret, self.trusted_proxies)
        hub = getattr(self.backend, "hub", None)              # told of each commit, after it
        self.floor = coordinator_for(self.backend, self.now_ms, hub.delta_sinks if hub is not None else None,
                                     (lambda: hub.state.seq) if hub is not None else None)

    def trusted_proxies(self) -> tuple[Any, ...]:
        """hall.toml `[network] trusted_proxies` (read each time: the configuration may be reloaded)."""
        return self.config.hall.network.trusted_proxies if self.config is not None else ()

    @classmethod
    def for_backend(cls, backend: Backend) -> "Site":
        hub = getattr(backend, "hub")
        data_dir = Path(hub.db_path).parent
        secret = getattr(hub, "secret", None) or load_secret(data_dir)
        return cls(backend=backend, data_dir=data_dir, secret=secret,
                   hall_clock=getattr(hub, "clock", None))

    @property
    def config(self) -> HallConfig | None:
        return self.backend.config

    @property
    def hall_name(self) -> str:
        return self.config.hall.name if self.config is not None else ""

    def client_address(self, request: Request) -> str:
        """The client's address, believing X-Forwarded-For only from hall.toml's trusted proxies."""
        return client_address(request, self.config.hall.network.trusted_proxies if self.config is not None else ())

    def now_ms(self) -> int:
        """The hall's time (what the domain stamps on jobs, ratings and cases)."""
        return int(self.hall_clock()) if self.hall_clock is not None else int(self.clock() * 1000)

    def local_text(self, ms: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if not ms:
            return ""
        return local(ms, self.config).strftime(fmt)


MAX_FORM_FIELDS = 100


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES,
                    max_fields: int = MAX_FORM_FIELDS) -> dict[str, list[str]]:
    """A urlencoded form of at most `max_bytes` and `max_fields`; raises FormError."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormError("form too large")
    if ctype != "application/x-www-form-urlencoded" and (body or ctype):
        raise FormError("expected a form")
    try:
        text = body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, max_num_fields=max_fields, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise FormError("form is not UTF-8 urlencoded") from None


def first(form: dict[str, list[str]], key: str, default: str = "") -> str:
    values = form.get(key)
    return values[0] if values else default
