"""Who is on the other end of an HTTP request: the client's address, believing `X-Forwarded-For`
only from the hall's configured reverse proxies (hall.toml `[network] trusted_proxies`).

The rightmost address in `X-Forwarded-For` that is not itself a trusted proxy is the client; a
header from anyone else is ignored, so a citizen's phone cannot pretend to be another address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

from config.schema import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"


def _parse(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _within(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(request: Request, trusted_proxies: Sequence[IPNetwork] = ()) -> str:
    """The client's IP address as text ("unknown" when the transport does not say)."""
    peer = _parse(request.client.host) if request.client else None
    if peer is None:
        return UNKNOWN
    if not _within(peer, trusted_proxies):
        return str(peer)
    for hop in reversed(request.headers.get("x-forwarded-for", "").split(",")):
        address = _parse(hop)
        if address is None:
            break                      # a garbled chain: trust nothing beyond the last proxy
        if not _within(address, trusted_proxies):
            return str(address)
        peer = address
    return str(peer)


def in_networks(address: str, networks: Sequence[IPNetwork]) -> bool:
    """Whether the address text lies in any of the blocks (False for "unknown")."""
    parsed = _parse(address)
    return parsed is not None and _within(parsed, networks)
