"""The public limiter on its own: token buckets, bounded memory, signed client cookies."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from hall_server.web.limits import CLIENT_COOKIE, Budget, PublicLimits, RateLimiter


def request(address: str = "10.0.0.5", cookie: str | None = None, ua: str = "phone") -> Request:
    headers = [(b"user-agent", ua.encode())]
    if cookie is not None:
        headers.append((b"cookie", f"{CLIENT_COOKIE}={cookie}".encode()))
    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/c", "headers": headers,
                             "client": (address, 40000), "scheme": "http", "server": ("hall", 80), "query_string": b""}
    return Request(scope)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_and_memory_stays_bounded() -> None:
    lim = RateLimiter(2, 10, max_keys=1000)
    assert lim.allow("a", 0) and lim.allow("a", 1) and not lim.allow("a", 2)
    assert lim.wait_s("a", 2) > 0 and lim.allow("a", 10.5)
    for i in range(100_000):
        lim.consume(f"k{i}", 20)
    assert len(lim) == 1000


def test_a_client_is_its_signed_cookie_and_a_made_up_cookie_counts_as_none() -> None:
    clock = Clock()
    limits = PublicLimits(b"secret", write=Budget(per_client=3, per_address=100), clock=clock)
    first = limits.check(request())
    assert first.allowed and first.new_cookie and first.client_key.startswith("f:")
    cookie = first.new_cookie
    assert limits.cookie_id(cookie) and limits.cookie_id(cookie[:-1] + ("1" if cookie[-1] == "0" else "0")) is None
    assert PublicLimits(b"other").cookie_id(cookie) is None                   # another hall's secret
    assert limits.check(request(cookie=cookie)).allowed                       # the cookie starts counted: 2 of 3
    assert limits.check(request(cookie=cookie)).allowed
    refused = limits.check(request(cookie=cookie))
    assert not refused.allowed and refused.retry_after_s >= 1
    made_up = "a" * 24 + "." + "b" * 24
    assert limits.check(request(cookie=made_up)).client_key.startswith("f:")


def test_a_refused_client_spares_its_address_and_a_new_cookie_inherits_the_count() -> None:
    clock = Clock()
    limits = PublicLimits(b"s", write=Budget(per_client=2, per_address=3), clock=clock)
    flood = [limits.check(request(ua="bot")) for _ in range(50)]
    assert [v.allowed for v in flood[:3]] == [True, True, False]
    assert not limits.check(request(cookie=flood[-1].new_cookie, ua="bot")).allowed   # no fresh budget
    assert limits.check(request(ua="someone else")).allowed                         # the address has 1 left
    assert not limits.check(request(ua="a third")).allowed                          # ceiling of 3 reached
    assert limits.check(request(address="10.0.0.6", ua="a third")).allowed
    clock.now += 60
    assert limits.check(request(ua="a third")).allowed
    assert all(n <= 20_000 for n in limits.sizes().values())


def test_the_address_is_believed_from_x_forwarded_for_only_behind_a_trusted_proxy() -> None:
    from ipaddress import ip_network

    def via_proxy(peer: str, forwarded: str, ua: str) -> Request:
        r = request(address=peer, ua=ua)
        r.scope["headers"].append((b"x-forwarded-for", forwarded.encode()))
        return r

    limits = PublicLimits(b"s", trusted_proxies=lambda: (ip_network("192.168.9.1/32"),),
                          write=Budget(per_client=100, per_address=2), clock=Clock())
    assert [limits.check(via_proxy("192.168.9.1", "203.0.113.7", f"p{i}")).allowed for i in range(3)] == [True, True,
                                                                                                        False]
    assert limits.check(via_proxy("192.168.9.1", "203.0.113.8", "p9")).address == "203.0.113.8"
    assert limits.check(via_proxy("192.168.9.1", "203.0.113.8", "p10")).allowed
    spoofed = limits.check(via_proxy("10.1.1.1", "203.0.113.99", "p11"))        # not a proxy: the header is ignored
    assert spoofed.address == "10.1.1.1"
