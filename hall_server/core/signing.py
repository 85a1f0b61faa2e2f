"""Every signed token and keyed hash of the hall, on one HMAC-SHA256 with the hall secret.

A `Signer` is made with a *purpose* (a short ASCII word). Everything it signs or hashes is
`"<purpose>:<body>"`, so a token or hash made for one purpose never verifies as another
(domain separation): a QR rating token is not a session cookie, a rater hash is not an address
hash. Purposes in use (each one caller):

| purpose | caller | what |
|---|---|---|
| `r1` | `hall_server.core.qr_token` | the QR slip's rating token (byte-compatible with the slips already printed) |
| `session` | `web.pages.auth` | the managers' session cookie |
| `csrf` | `web.pages.auth` | the CSRF token of a session (a keyed hash of its nonce) |
| `client` | `web.limits` | the public side's client cookie |
| `rater`, `address` | `web.pages.rater` | keyed hashes of the rater cookie id and the client address |

A token is `base64url("<purpose>:<body>") "." base64url(mac)`, unpadded; a keyed hash is the first
hex digits of the mac. Verification compares macs in constant time. `unsign_unlabelled` reads the
session cookies of the previous release (signed without a purpose) until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_PURPOSE = re.compile(r"^[a-z0-9_]{1,16}$")


class BadSignature(ValueError):
    """The token is malformed, signed with another key, or made for another purpose."""


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Unpadded base64url; raises BadSignature on anything else."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise BadSignature("not base64url") from None


class Signer:
    """Signs and verifies `<purpose>:<body>` with the hall secret."""

    def __init__(self, secret: bytes, purpose: str) -> None:
        if not _PURPOSE.match(purpose):
            raise ValueError(f"bad signing purpose {purpose!r}")
        if not secret:
            raise ValueError("empty signing secret")
        self._secret = secret
        self.purpose = purpose
        self._prefix = purpose.encode("ascii") + b":"

    def mac(self, body: str) -> bytes:
        return hmac.new(self._secret, self._prefix + body.encode("utf-8"), hashlib.sha256).digest()

    def keyed_hash(self, value: str, hex_chars: int = 32) -> str:
        """The first `hex_chars` hex digits of the mac of `value`: comparable, not reversible."""
        return self.mac(value).hex()[:hex_chars]

    def same(self, value: str, digest: str, hex_chars: int = 32) -> bool:
        """Whether `digest` is `keyed_hash(value, hex_chars)` (constant time)."""
        return len(digest) == hex_chars and hmac.compare_digest(digest, self.keyed_hash(value, hex_chars))

    def sign(self, body: str) -> str:
        """`base64url("<purpose>:<body>").base64url(mac)`."""
        return f"{b64encode(self._prefix + body.encode('utf-8'))}.{b64encode(self.mac(body))}"

    def unsign(self, token: str, max_len: int = 400) -> str:
        """The body of a token signed for this purpose; raises BadSignature."""
        if not isinstance(token, str) or len(token) > max_len or token.count(".") != 1:
            raise BadSignature("malformed token")
        p, m = token.split(".")
        payload, mac = b64decode(p), b64decode(m)
        if not payload.startswith(self._prefix):
            raise BadSignature("token of another purpose")
        try:
            body = payload[len(self._prefix):].decode("utf-8")
        except UnicodeDecodeError:
            raise BadSignature("token body is not UTF-8") from None
        if not hmac.compare_digest(mac, self.mac(body)):
            raise BadSignature("bad signature")
        return body


def unsign_unlabelled(secret: bytes, token: str, max_len: int = 400) -> str:
    """The payload of a token signed before purposes existed (mac over the bare payload).

    Only for the managers' session cookies made by the previous release, so that the upgrade logs
    nobody out; they expire within 12 hours of it (remove this then). The caller must parse the
    payload strictly: a new token of any purpose carries its purpose as an extra first field."""
    if not isinstance(token, str) or len(token) > max_len or token.count(".") != 1:
        raise BadSignature("malformed token")
    p, m = token.split(".")
    payload, mac = b64decode(p), b64decode(m)
    if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
        raise BadSignature("bad signature")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSignature("token body is not UTF-8") from None
