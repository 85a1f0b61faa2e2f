"""The hall database's migration sets: the bus's own (`BUS`: the bus, state, audit and web-session
tables) and the domain's (`hall_server.domain.migrations.DOMAIN`, 10-99). `HALL` is what a hub
opens its store with (`store.open_store(path, HALL)`); nothing registers itself on import.

Never edit a released migration: add a new one, numbered (`store.numbered`), at the end of its set.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from hall_server.domain.admin_migrations import ADMIN
from hall_server.domain.ledger_migrations import LEDGER
from hall_server.domain.migrations import DOMAIN
from hall_server.domain.figures_migrations import FIGURES
from hall_server.domain.roster_tables import ROSTER
from hall_server.core.store import append_only, numbered

BUS = Migrations("hall.bus")


@BUS(name=numbered(1, "bus: applied messages, state keys, node presence, audit"))
def _m1(db: sqlite_utils.Database) -> None:
    # Every message the bus applied, by id: a duplicate id gets the stored result back.
    db.execute(
        """CREATE TABLE applied (
            id TEXT PRIMARY KEY,
            node TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            sent_ms INTEGER NOT NULL,
            applied_ms INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            result BLOB NOT NULL
        )"""
    )
    db.execute("CREATE INDEX applied_node_seq ON applied (node, seq)")
    # The published state (Clone pattern key-value map) and the sequence of its last change.
    db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL, seq INTEGER NOT NULL)")
    db.execute("CREATE TABLE state_seq (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)")
    db.execute("INSERT INTO state_seq (id, seq) VALUES (1, 0)")
    # Append-only audit log: who did what, when.
    db.execute(
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            node TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}',
            msg_id TEXT
        )"""
    )
    db.execute("CREATE INDEX audit_node ON audit (node)")
    append_only(db, "audit")
    # Devices reported by nodes (keypads, printers): online/offline as last reported.
    db.execute(
        """CREATE TABLE devices (
            node TEXT NOT NULL,
            device TEXT NOT NULL,
            online INTEGER NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}',
            changed_ms INTEGER NOT NULL,
            PRIMARY KEY (node, device)
        )"""
    )


@BUS(name=numbered(35, "bus: dedupe applied messages on (node, id), not id alone"))
def _m35(db: sqlite_utils.Database) -> None:
    # A message id is the sender's: two nodes may send the same one (by accident or on purpose) and
    # each must be applied, while a node's own resend still gets its stored answer. The rows move
    # as they are, so every message applied before keeps its dedupe. The id comes first in the key
    # because the writer looks a batch up by ids.
    db.execute(
        """CREATE TABLE applied_by_node (
            id TEXT NOT NULL,
            node TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            sent_ms INTEGER NOT NULL,
            applied_ms INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            result BLOB NOT NULL,
            PRIMARY KEY (id, node)
        )"""
    )
    db.execute("INSERT INTO applied_by_node (id, node, seq, type, sent_ms, applied_ms, ok, result) "
               "SELECT id, node, seq, type, sent_ms, applied_ms, ok, result FROM applied")
    db.execute("DROP TABLE applied")
    db.execute("ALTER TABLE applied_by_node RENAME TO applied")
    db.execute("CREATE INDEX applied_node_seq ON applied (node, seq)")


@BUS(name=numbered(50, "web: sessions ended by logout, kept until their cookies would have expired"))
def _m50(db: sqlite_utils.Database) -> None:
    # A logged-out session's nonce: its cookie is refused even after a restart (hall_server.web.sessions).
    db.execute(
        """CREATE TABLE web_sessions_ended (
            nonce TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            ended_ms INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX web_sessions_ended_expiry ON web_sessions_ended (expires_ms)")


# Applied set by set, in this order: the bus's tables first, then the domain's, the hall's
# configuration in the store (70–74, issue 14), the ledger's (90–99, issue 15), the roster's
# (80–84, issue 14), then the figures' indexes (105–109, issue 15).
HALL: tuple[Migrations, ...] = (BUS, DOMAIN, ADMIN, LEDGER, ROSTER, FIGURES)
