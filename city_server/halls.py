"""The halls the city knows and their keys: a hall key is 32 random bytes (URL-safe text) that the
city prints once; the city keeps only its SHA-256, and a batch authenticates with it."""

from __future__ import annotations

import hashlib
import re
import secrets

import psycopg

HALL_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class HallError(ValueError):
    """A hall code that is not valid, or already registered."""


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add_hall(conn: psycopg.Connection, code: str, name: str) -> str:
    """Register a hall; returns its key (shown once). A second `add` of a code issues a new key."""
    if not HALL_CODE.match(code):
        raise HallError(f"hall code {code!r}: letters, digits, '-' and '_' only, at most 32")
    key = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("INSERT INTO halls (code, name, key_sha256) VALUES (%s, %s, %s) ON CONFLICT (code) DO UPDATE "
                     "SET name = EXCLUDED.name, key_sha256 = EXCLUDED.key_sha256", [code, name, _digest(key)])
        conn.execute("INSERT INTO hall_cursor (hall) VALUES (%s) ON CONFLICT DO NOTHING", [code])
    return key


def hall_for_key(conn: psycopg.Connection, key: str) -> str | None:
    """The hall a key belongs to, or None (compared by digest: the key itself is never stored)."""
    if not key or len(key) > 200:
        return None
    row = conn.execute("SELECT code FROM halls WHERE key_sha256 = %s", [_digest(key)]).fetchone()
    return str(row[0]) if row else None
