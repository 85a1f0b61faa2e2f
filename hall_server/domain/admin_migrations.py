"""The administration's tables (migrations 70–74): the hall's editable configuration and its
append-only audit. `ADMIN` is a migration set of its own, applied after the domain's.

After the first start the store is the hall's configuration (the source of truth): the TOML
folder is imported once into `config_items` (`hall_server.domain.hall_config_store`) and every
later change is made in the browser (`hall_server.domain.admin`) or by `config import --apply`.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from hall_server.core.store import append_only, numbered

ADMIN = Migrations("hall.admin")


@ADMIN(name=numbered(70, "admin: the hall's configuration as items, and the append-only admin audit"))
def _m70(db: sqlite_utils.Database) -> None:
    # One row per item of a hall folder, as its TOML table in JSON: kind `file` (the rest of a file:
    # hall.toml whole, tags.toml's version), `window` (key: the number), `category`, `service`,
    # `staff` (key: 工号), `tag` (key: code). `position` keeps the folder's order. Nothing is ever
    # deleted: staff are disabled (`active = false`), windows closed (`open = false`), tags removed
    # in a version (`removed_in`).
    db.execute(
        """CREATE TABLE config_items (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            position INTEGER NOT NULL,
            doc TEXT NOT NULL,
            changed_ms INTEGER NOT NULL,
            PRIMARY KEY (kind, key)
        )"""
    )
    # Every change to the configuration: who (web account, or `import` / `first-start`), when,
    # what, and each changed item before and after (JSON; before is null for a new item).
    db.execute(
        """CREATE TABLE admin_audit (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            who TEXT NOT NULL,
            what TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            before TEXT,
            after TEXT,
            msg_id TEXT
        )"""
    )
    db.execute("CREATE INDEX admin_audit_at ON admin_audit (at_ms)")
    append_only(db, "admin_audit")


@ADMIN(name=numbered(71, "admin: PINs reset by a manager, to be replaced by the clerk at the next sign-in"))
def _m71(db: sqlite_utils.Database) -> None:
    # A row while the clerk's PIN is the one-time PIN a manager was shown: the next sign-in with it
    # must carry the clerk's own new PIN (`window.sign_in` `new_pin`), which ends the row.
    db.execute(
        """CREATE TABLE staff_pin_resets (
            staff_no TEXT PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            by TEXT NOT NULL
        )"""
    )
