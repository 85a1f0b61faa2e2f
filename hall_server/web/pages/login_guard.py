"""Failed logins slow the attacker without locking the real user out.

Three sliding logs of failures (`site.LoginThrottle`: after `free` failures within `window_s`,
each further attempt waits `base_s` × 2^(extra failures), at most `max_s`), keyed on

1. **(account, address)** — the attacker's own pair. Five free tries, then 30 s, 60 s, … up to
   15 min. Guessing one account's password from one address is slowed to a crawl; the right
   password from that same address waits too (else the delay would tell the attacker nothing).
2. **address** (any account) — password spraying: 20 free failures across accounts from one
   address, then the same backoff, so trying many names does not multiply the guesses.
3. **account** (any address) — a botnet on one account: 50 free failures, then a *gentle*
   1 s × 2^n capped at 60 s, so the account is never locked, only slowed.

The account's **usual addresses** — those it logged in from successfully in the last
`USUAL_S` (30 days, kept in memory, newest `USUAL_PER_ACCOUNT`) — skip the address (2) and
account (3) ceilings: the real user at their usual desk gets in at once with the right password
while an attack runs from elsewhere. Only their own (account, address) log (1) applies to them,
which only their own typos fill. After a restart nobody is "usual" until they log in once;
the gentle ceiling (3) still lets them through within a minute.

A refused attempt (told to wait) is not counted as a failure and does not check the password,
so hammering during the wait neither costs the server scrypt work nor lengthens anyone's wait.
Memory is bounded: `LoginThrottle` keeps at most 20,000 keys per log.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from hall_server.web.pages.site import LoginThrottle

USUAL_S = 30 * 86_400
USUAL_PER_ACCOUNT = 8
MAX_ACCOUNTS = 10_000


class LoginGuard:
    def __init__(self, pair: LoginThrottle | None = None, address: LoginThrottle | None = None,
                 account: LoginThrottle | None = None) -> None:
        self.pair = pair or LoginThrottle(free=5, window_s=900.0, base_s=30.0, max_s=900.0)
        self.address = address or LoginThrottle(free=20, window_s=900.0, base_s=30.0, max_s=900.0)
        self.account = account or LoginThrottle(free=50, window_s=900.0, base_s=1.0, max_s=60.0)
        self._usual: OrderedDict[str, dict[str, float]] = OrderedDict()

    @staticmethod
    def _keys(account: str, address: str) -> tuple[str, str, str]:
        name = account.strip().lower()
        return f"{name}\0{address}", address, name

    def usual(self, account: str, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        seen = self._usual.get(account.strip().lower(), {}).get(address)
        return seen is not None and seen > now - USUAL_S

    def wait_s(self, account: str, address: str, now: float | None = None) -> float:
        """How long this (account, address) must wait before the next try (0: try now)."""
        now = time.monotonic() if now is None else now
        pair, addr, name = self._keys(account, address)
        wait = self.pair.wait_s(pair, now)
        if not self.usual(account, address, now):
            wait = max(wait, self.address.wait_s(addr, now), self.account.wait_s(name, now))
        return wait

    def failed(self, account: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        pair, addr, name = self._keys(account, address)
        self.pair.failed(pair, now)
        if not self.usual(account, address, now):
            self.address.failed(addr, now)
            self.account.failed(name, now)

    def succeeded(self, account: str, address: str, now: float | None = None) -> None:
        """The right password: that pair's log is cleared and the address becomes usual for the
        account. The account's and the address's logs are not cleared (the attack goes on)."""
        now = time.monotonic() if now is None else now
        pair, _, name = self._keys(account, address)
        self.pair.succeeded(pair)
        seen = self._usual.pop(name, {})
        seen[address] = now
        if len(seen) > USUAL_PER_ACCOUNT:
            for old in sorted(seen, key=seen.__getitem__)[: len(seen) - USUAL_PER_ACCOUNT]:
                del seen[old]
        self._usual[name] = seen
        while len(self._usual) > MAX_ACCOUNTS:
            self._usual.popitem(last=False)
