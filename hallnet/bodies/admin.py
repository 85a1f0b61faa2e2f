"""Administration (`hall_server.domain.admin`): a manager's change to the hall's configuration,
a PIN reset, an unlocked clerk and a web account's change."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from hallnet.bodies.base import Body, _s

class AdminItem(Body, kw_only=True):
    """One item of the hall's configuration as its TOML table: kind file/window/category/service/
    staff/tag, its key (the file name, window number, code or 工号), and the new table (never None:
    nothing is ever deleted, a staff member or window is disabled or closed instead)."""

    kind: Literal["file", "window", "category", "service", "staff", "tag"]
    key: _s(64)
    doc: dict[str, Any]


class AdminChange(Body, kw_only=True):
    """A manager's change to the hall's configuration, applied and audited as one."""

    who: _s(64)                       # the web account
    what: _s(64)                      # e.g. staff.add, window.edit, tags.version
    subject: _s(200) = ""
    items: Annotated[list[AdminItem], msgspec.Meta(min_length=1, max_length=500)]


class AdminPinReset(Body, kw_only=True):
    """A manager reset a clerk's PIN to a one-time PIN (its hash); the clerk sets their own next."""

    who: _s(64)
    staff_no: _s(8)
    pin_hash: _s(200)


class AdminAccount(Body, kw_only=True):
    """A web account changed (users.json, by the 账号 page): recorded in the admin audit."""

    who: _s(64)
    what: Literal["account.add", "account.role", "account.password", "account.revoke"]
    account: _s(32)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class AdminUnlock(Body, kw_only=True):
    """A manager ends a staff member's lock-out (too many wrong PINs)."""

    who: _s(64)
    staff_no: _s(8)
