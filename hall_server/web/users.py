"""Managers' accounts for the web pages: `DATA/users.json`, scrypt-hashed passwords, two roles,
and a per-account session generation that ends every session of the account when it changes.

    python -m hall_server users add NAME --role manager|viewer|inspector --data DIR [--password-stdin]
    python -m hall_server users list --data DIR
    python -m hall_server users set-role NAME --role manager|viewer|inspector --data DIR
    python -m hall_server users set-password NAME --data DIR [--password-stdin]
    python -m hall_server users revoke NAME --data DIR        (log the account out everywhere)
    python -m hall_server users remove NAME --data DIR

`manager` handles cases (sees the rater's phone and text of the case it handles); `inspector` records
patrols (巡查, issue 15) and otherwise reads like a viewer; `viewer`
watches the floor and the figures only. Without --password-stdin a random password is printed once.

Sessions: a session cookie carries the account's `generation` at login (`hall_server.web.pages.auth`).
Changing the role or the password, replacing the account, `revoke` and `remove` bump (or drop)
the generation in users.json, so every cookie issued before is refused on its next request, in
the running server too (it re-reads users.json when the file changes: `AccountCache`) and after
a restart (the file is the record).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.pins import BadPinHash, hash_pin, verify_pin

ROLES = ("manager", "viewer", "inspector", "admin")   # inspector: records patrols (issue 15), reads like a viewer;
                                                      # admin: the 管理 pages and the accounts (issue 14)
USERS_FILE = "users.json"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_DUMMY_HASH = hash_pin("not-a-password", salt=b"\0" * 16)   # equal time for unknown names


class UserError(ValueError):
    """A bad user name, role or password."""


class UnknownUser(UserError):
    """No account of that name."""


@dataclass(frozen=True)
class User:
    name: str
    role: str


@dataclass(frozen=True)
class Account:
    """What a session is checked against: the account's role and session generation now."""

    role: str
    generation: int


def users_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / USERS_FILE


def _load(data_dir: Path | str) -> dict[str, dict[str, Any]]:
    try:
        raw = json.loads(users_path(data_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(f"{users_path(data_dir)}: {exc}") from None
    return raw if isinstance(raw, dict) else {}


def _save(data_dir: Path | str, users: dict[str, dict[str, Any]]) -> None:
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".users.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(users, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, users_path(data_dir))


def _generation(record: dict[str, Any] | None) -> int:
    value = record.get("generation", 0) if record else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")


def _existing(users: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    record = users.get(name)
    if not isinstance(record, dict):
        raise UnknownUser(f"no account named {name!r}")
    return record


def add_user(data_dir: Path | str, name: str, role: str, password: str | None = None) -> str:
    """Create or replace an account; returns the password (generated when not given). Replacing
    an account ends its sessions."""
    if not _NAME.match(name):
        raise UserError("a user name is 1–32 letters, digits, '_', '.' or '-'")
    _check_role(role)
    if password is None:
        password = secrets.token_urlsafe(12)
    _check_password(password)
    users = _load(data_dir)
    old = users.get(name)
    generation = _generation(old) + 1 if isinstance(old, dict) else 0
    users[name] = {"role": role, "hash": hash_pin(password), "generation": generation}
    _save(data_dir, users)
    return password


def set_role(data_dir: Path | str, name: str, role: str) -> None:
    """Change an account's role; its sessions end (a new login carries the new role)."""
    _check_role(role)
    users = _load(data_dir)
    record = _existing(users, name)
    record.update(role=role, generation=_generation(record) + 1)
    _save(data_dir, users)


def set_password(data_dir: Path | str, name: str, password: str | None = None) -> str:
    """Set a new password (generated when not given); the account's sessions end."""
    if password is None:
        password = secrets.token_urlsafe(12)
    _check_password(password)
    users = _load(data_dir)
    record = _existing(users, name)
    record.update(hash=hash_pin(password), generation=_generation(record) + 1)
    _save(data_dir, users)
    return password


def revoke_sessions(data_dir: Path | str, name: str) -> None:
    """Log the account out everywhere (every cookie issued so far is refused)."""
    users = _load(data_dir)
    record = _existing(users, name)
    record["generation"] = _generation(record) + 1
    _save(data_dir, users)


def remove_user(data_dir: Path | str, name: str) -> None:
    users = _load(data_dir)
    _existing(users, name)
    del users[name]
    _save(data_dir, users)


def list_users(data_dir: Path | str) -> list[User]:
    return [User(n, u.get("role", "viewer")) for n, u in sorted(_load(data_dir).items())]


def account(data_dir: Path | str, name: str) -> Account | None:
    record = _load(data_dir).get(name)
    if not isinstance(record, dict) or record.get("role") not in ROLES:
        return None
    return Account(record["role"], _generation(record))


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


class AccountCache:
    """users.json as the running server sees it: re-read only when the file changed (its size,
    inode or modification time), so checking a session on every request costs one `stat`.
    File times tick coarsely (a few ms) and a replaced file may get the old inode back, so a file
    changed within the last `FRESH_NS` is always re-read."""

    FRESH_NS = 2_000_000_000

    def __init__(self, data_dir: Path | str) -> None:
        self.path = users_path(data_dir)
        self._stamp: tuple[int, int, int] | None = None
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Account | None:
        try:
            st = os.stat(self.path)
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp or (stamp is not None and time.time_ns() - stamp[0] < self.FRESH_NS):
                self._accounts = {} if stamp is None else self._read()
                self._stamp = stamp
            return self._accounts.get(name)

    def _read(self) -> dict[str, Account]:
        try:
            raw = _load(self.path.parent)
        except UserError:
            return {}                       # unreadable: nobody is signed in until it is fixed
        return {n: Account(r["role"], _generation(r)) for n, r in raw.items()
                if isinstance(r, dict) and r.get("role") in ROLES}


def _read_password(args: Any) -> str | None:
    return sys.stdin.readline().rstrip("\n") if getattr(args, "password_stdin", False) else None


def main_users(args: Any) -> int:
    """The `users` subcommand (see hall_server.cli)."""
    data = Path(getattr(args, "data"))
    command = args.users_command
    try:
        if command == "add":
            given = _read_password(args)
            password = add_user(data, args.name, args.role, given)
            print(f"user {args.name} ({args.role}) saved in {users_path(data)}")
            if given is None:
                print(f"password: {password}")
        elif command == "set-role":
            set_role(data, args.name, args.role)
            print(f"user {args.name} is now {args.role}; their sessions have ended")
        elif command == "set-password":
            given = _read_password(args)
            password = set_password(data, args.name, given)
            print(f"password of {args.name} changed; their sessions have ended")
            if given is None:
                print(f"password: {password}")
        elif command == "revoke":
            revoke_sessions(data, args.name)
            print(f"every session of {args.name} has ended")
        elif command == "remove":
            remove_user(data, args.name)
            print(f"user {args.name} removed; their sessions have ended")
        else:
            for u in list_users(data):
                print(f"{u.name}\t{u.role}")
        return 0
    except UserError as exc:
        print(f"hall_server: {exc}", file=sys.stderr)
        return 2
