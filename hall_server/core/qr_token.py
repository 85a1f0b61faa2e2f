"""Signed rating tokens for the QR slip: `<payload>.<mac>`, both base64url.

payload = "r1:<job public id>:<expiry, epoch seconds>"; mac = HMAC-SHA256(hall secret, payload): the
`hall_server.core.signing` token of purpose `r1`, byte for byte what the slips already printed carry.
The job's public id is an unguessable hash (domain `public_id`), never a row number. The token
lives for the configured QR days plus `FOLLOWUP_DAYS`, so that the same link can carry the one
追评 after rectification; whether a first rating is still accepted is the domain's decision
(`qr_expires_ms` of the 办件).

The hub signs the link with the hall secret (`hall_server.core.secret`) when the devices gateway fetches
a slip to print (`slip.fetch`); no state key and no staff terminal ever gets it. The QR page verifies it.
"""

from __future__ import annotations

import re

from hall_server.core.signing import BadSignature, Signer

FOLLOWUP_DAYS = 30
_PUB = re.compile(r"^[0-9a-zA-Z_-]{6,64}$")
MAX_TOKEN_LEN = 200
PURPOSE = "r1"                     # the signing purpose, and the payload's first field


class TokenError(ValueError):
    code = "forged"


class TokenExpired(TokenError):
    code = "expired"


def sign(secret: bytes, job_pub: str, expires_s: int) -> str:
    if not _PUB.match(job_pub):
        raise ValueError("not a job public id")
    return Signer(secret, PURPOSE).sign(f"{job_pub}:{int(expires_s)}")


def token_expiry_s(finished_ms: int, qr_valid_days: int) -> int:
    return finished_ms // 1000 + (qr_valid_days + FOLLOWUP_DAYS) * 86_400


def qr_path(secret: bytes, job_pub: str, finished_ms: int, qr_valid_days: int) -> str:
    """The slip's link path for a finished 办件: "/r/<token>" (the same token every time)."""
    return "/r/" + sign(secret, job_pub, token_expiry_s(finished_ms, qr_valid_days))


def verify(secret: bytes, token: str, now_s: float) -> str:
    """The job's public id; raises TokenError (forged or malformed) or TokenExpired."""
    try:
        body = Signer(secret, PURPOSE).unsign(token, MAX_TOKEN_LEN)
    except BadSignature as exc:
        raise TokenError(str(exc)) from None
    try:
        pub, exp = body.split(":")
        expires_s = int(exp)
    except ValueError:
        raise TokenError("malformed payload") from None
    if not _PUB.match(pub):
        raise TokenError("malformed payload")
    if now_s > expires_s:
        raise TokenExpired("token expired")
    return pub
