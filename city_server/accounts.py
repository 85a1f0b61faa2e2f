"""The city's accounts and sessions: scrypt password hashes (config.pins' format) in the city
database, roles `city_manager` (may push a case back: 督办) and `city_viewer` (reads); a session is
a random id whose SHA-256 the `sessions` table keeps, carried in a cookie signed with the city's
web secret (HMAC-SHA256), with a CSRF token derived from it for every form."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import psycopg

from config.pins import BadPinHash, hash_pin, verify_pin

ROLES = ("city_manager", "city_viewer")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
SESSION_HOURS = 12
MIN_PASSWORD = 8


class AccountError(ValueError):
    """An account name, role or password the city does not accept."""


@dataclass(frozen=True)
class Session:
    account: str
    role: str
    sid: str

    @property
    def manager(self) -> bool:
        return self.role == "city_manager"


def add_user(conn: psycopg.Connection, name: str, role: str, password: str) -> None:
    """Create or replace an account (a second `add` sets a new password and role)."""
    if not NAME.match(name):
        raise AccountError(f"account name {name!r}: letters, digits, '.', '-' and '_' only, at most 32")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    conn.execute("INSERT INTO accounts (name, role, password_hash) VALUES (%s, %s, %s) ON CONFLICT (name) "
                 "DO UPDATE SET role = EXCLUDED.role, password_hash = EXCLUDED.password_hash",
                 [name, role, hash_pin(password)])
    conn.execute("DELETE FROM sessions WHERE account = %s", [name])


_DUMMY = hash_pin("not-a-password")


def check_password(conn: psycopg.Connection, name: str, password: str) -> str | None:
    """The account's role when the password is right, else None (as slow for an unknown name)."""
    row = conn.execute("SELECT role, password_hash FROM accounts WHERE name = %s", [name[:64]]).fetchone()
    try:
        ok = verify_pin(password, row[1] if row else _DUMMY)
    except BadPinHash:
        return None
    return str(row[0]) if row and ok else None


def _secret(conn: psycopg.Connection) -> bytes:
    return bytes(conn.execute("SELECT secret FROM web_secret").fetchone()[0])


def _sign(secret: bytes, text: str) -> str:
    return hmac.new(secret, text.encode("ascii"), hashlib.sha256).hexdigest()


def _sha(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


def open_session(conn: psycopg.Connection, name: str) -> str:
    """A new session for `name`; returns the cookie's value."""
    sid = secrets.token_urlsafe(24)
    conn.execute("DELETE FROM sessions WHERE expires_at < now()")
    conn.execute("INSERT INTO sessions (id_sha256, account, expires_at) VALUES (%s, %s, now() + %s * interval '1 hour')",
                 [_sha(sid), name, SESSION_HOURS])
    return f"{sid}.{_sign(_secret(conn), sid)}"


def read_session(conn: psycopg.Connection, cookie: str | None) -> Session | None:
    if not cookie or len(cookie) > 200 or "." not in cookie:
        return None
    sid, _, mac = cookie.partition(".")
    if not sid.isascii() or not hmac.compare_digest(mac, _sign(_secret(conn), sid)):
        return None
    row = conn.execute("SELECT a.name, a.role FROM sessions s JOIN accounts a ON a.name = s.account "
                       "WHERE s.id_sha256 = %s AND s.expires_at > now()", [_sha(sid)]).fetchone()
    return Session(str(row[0]), str(row[1]), sid) if row else None


def close_session(conn: psycopg.Connection, session: Session) -> None:
    conn.execute("DELETE FROM sessions WHERE id_sha256 = %s", [_sha(session.sid)])


def csrf_token(conn: psycopg.Connection, session: Session) -> str:
    return _sign(_secret(conn), "csrf:" + session.sid)


def csrf_ok(conn: psycopg.Connection, session: Session, token: str) -> bool:
    return hmac.compare_digest(token.encode("utf-8", "replace"), csrf_token(conn, session).encode("ascii"))
