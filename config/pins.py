"""PIN hashing for staff sign-in: scrypt, salted, constant-time comparison.

Format: ``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` — self-describing so parameters can grow.
"""

from __future__ import annotations

import hashlib
import hmac
import os

_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
_MAXMEM = 2**27       # bytes scrypt may use when verifying; OpenSSL needs 128·r·(n + 2 + p)


class BadPinHash(ValueError):
    """The stored PIN hash is not in the scrypt$... format."""


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def parse_pin_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise BadPinHash("expected scrypt$n$r$p$salt$hash")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError as exc:
        raise BadPinHash(f"not numbers/hex: {exc}") from None
    if n < 2 or n & (n - 1) or not (1 <= r <= 64) or not (1 <= p <= 16) or not salt or len(digest) < 16:
        raise BadPinHash("parameters out of range")
    if 128 * r * (n + 2 + p) > _MAXMEM:       # verify_pin would fail with "memory limit exceeded"
        raise BadPinHash(f"parameters need more than {_MAXMEM >> 20} MiB to verify")
    return n, r, p, salt, digest


def verify_pin(pin: str, stored: str) -> bool:
    n, r, p, salt, digest = parse_pin_hash(stored)
    got = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(digest), maxmem=_MAXMEM)
    return hmac.compare_digest(got, digest)
