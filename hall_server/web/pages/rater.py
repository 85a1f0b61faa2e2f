"""Who is rating on the QR page, as far as the server can tell (issue 11, docs/trust.md).

- **Staff networks.** A rating (first or 追评) from an address inside hall.toml `[network]
  staff_networks` is refused with a clear page and nothing is recorded: a clerk's PC or the
  staff Wi-Fi must not rate. The address is `Site.client_address` (X-Forwarded-For only from
  trusted proxies), so a phone cannot talk its way out of, or into, the staff block.
- **Rater cookie.** The rater is the browser's signed client cookie (`hall_client`, which the public
  limits of `hall_server.web.limits` give every browser on its first page: one cookie, not two).
  A rating is sent as `rating.sourced`: the rating and keyed hashes (`hall_server.core.signing`) of
  that cookie's id and of the client address, applied in
  one transaction; `hall_server.domain.rating_flags` flags the pattern "one device rates many 办件".
  The raw cookie and address are never stored; an address in `[network] shared_networks` (many
  citizens behind one NAT address) is not recorded at all.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from config.i18n import t
from hall_server.core.signing import Signer
from hall_server.web.client import in_networks
from hall_server.web.limits import CLIENT_COOKIE
from hall_server.web.pages.layout import message
from hall_server.web.pages.site import Site
from hall_server.core.writer import Applied
from hallnet.vocabulary import Msg, NodeKind, node_id

QR_NODE = node_id(NodeKind.QR, "web")   # the QR page's node id (kind `qr`, channel 3)



def keyed_hash(secret: bytes, kind: str, value: str) -> str:
    """32 hex digits of HMAC-SHA256(hall secret, kind:value): comparable, not reversible
    (`hall_server.core.signing`, purpose `kind`: `rater` or `address`)."""
    return Signer(secret, kind).keyed_hash(value)


def rater_of(site: Site, request: Request) -> str | None:
    """The id in the browser's valid client cookie, or None (no cookie yet, or a forged one)."""
    return site.limits.cookie_id(request.cookies.get(CLIENT_COOKIE))


def staff_network_refusal(site: Site, request: Request) -> Response | None:
    """The refusal page when the client is inside the hall's staff networks, else None."""
    networks = site.config.hall.network.staff_networks if site.config is not None else ()
    if not networks or not in_networks(site.client_address(request), networks):
        return None
    return message(t("web.qr.staff_network"), t("web.qr.staff_network_text"), status=403, hall_name=site.hall_name,
                   kind="error")


def sourced(site: Site, request: Request, kind: str, rating: dict[str, Any], rater: str | None) -> dict[str, Any]:
    """The body of `rating.sourced`: the rating (`kind` submit / followup) with the keyed hashes of
    the rater cookie and of the client address (none for an address in `shared_networks`)."""
    address = site.client_address(request)
    shared = site.config.hall.network.shared_networks if site.config is not None else ()
    return {"kind": kind, "rating": rating,
            "rater_hash": keyed_hash(site.secret, "rater", rater) if rater else "",
            "address_hash": "" if in_networks(address, shared) else keyed_hash(site.secret, "address", address)}


async def submit_rating(site: Site, request: Request, kind: str, rating: dict[str, Any], rater: str | None) -> Applied:
    """Apply a QR rating and record where it came from, in one message (one transaction)."""
    return await site.backend.command(Msg.RATING_SOURCED, sourced(site, request, kind, rating, rater), QR_NODE)
