"""Managers' accounts for the web pages: `DATA/users.json`, scrypt-hashed passwords, two roles.

    python -m hall_server users add NAME --role manager|viewer --data DIR [--password-stdin]
    python -m hall_server users list --data DIR

`manager` handles cases (sees the rater's phone and text of the case it handles); `viewer`
watches the floor and the figures only. Without --password-stdin a random password is printed once.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from config.pins import BadPinHash, hash_pin, verify_pin

ROLES = ("manager", "viewer")
USERS_FILE = "users.json"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_DUMMY_HASH = hash_pin("not-a-password", salt=b"\0" * 16)   # equal time for unknown names


class UserError(ValueError):
    """A bad user name, role or password."""


@dataclass(frozen=True)
class User:
    name: str
    role: str


def users_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / USERS_FILE


def _load(data_dir: Path | str) -> dict[str, dict[str, str]]:
    try:
        raw = json.loads(users_path(data_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(f"{users_path(data_dir)}: {exc}") from None
    return raw if isinstance(raw, dict) else {}


def add_user(data_dir: Path | str, name: str, role: str, password: str | None = None) -> str:
    """Create or replace an account; returns the password (generated when not given)."""
    if not _NAME.match(name):
        raise UserError("a user name is 1–32 letters, digits, '_', '.' or '-'")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if password is None:
        password = secrets.token_urlsafe(12)
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    users = _load(data_dir)
    users[name] = {"role": role, "hash": hash_pin(password)}
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".users.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(users, f, ensure_ascii=False, indent=1)
    os.chmod(tmp, 0o600)
    os.replace(tmp, users_path(data_dir))
    return password


def list_users(data_dir: Path | str) -> list[User]:
    return [User(n, u.get("role", "viewer")) for n, u in sorted(_load(data_dir).items())]


def check_password(data_dir: Path | str, name: str, password: str) -> User | None:
    """The user when the password is right; None otherwise (same work either way)."""
    u = _load(data_dir).get(name) if _NAME.match(name or "") else None
    stored = u["hash"] if u else _DUMMY_HASH
    try:
        ok = verify_pin(password[:256], stored)
    except BadPinHash:
        ok = False
    if not ok or u is None or u.get("role") not in ROLES:
        return None
    return User(name, u["role"])


def main_users(args: "object") -> int:
    """The `users` subcommand (see hall_server.cli)."""
    import sys

    data = Path(getattr(args, "data"))
    try:
        if args.users_command == "add":
            given = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
            password = add_user(data, args.name, args.role, given)
            print(f"user {args.name} ({args.role}) saved in {users_path(data)}")
            if given is None:
                print(f"password: {password}")
            return 0
        for u in list_users(data):
            print(f"{u.name}\t{u.role}")
        return 0
    except UserError as exc:
        print(f"hall_server: {exc}", file=sys.stderr)
        return 2
