"""The supervision tables (migrations 90–99, their own set after the domain's): the problem ledger
(问题台账) with its append-only history, the call-backs' recorded outcomes, patrols (日巡查 /
明察暗访 / 模拟办事) with findings and photos, the notification outbox, and the managers' manual
assessment entries (组织考评 / 自我考评). Never edit a released migration: add a new one.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from hall_server.core.store import append_only, numbered

LEDGER = Migrations("hall.ledger")


@LEDGER(name=numbered(90, "ledger: hand-entered and patrol problems, their history, call-back outcomes"))
def _m90(db: sqlite_utils.Database) -> None:
    x = db.execute
    # One problem that is not a 差评 case or a hall comment (those stay in `cases`, the ledger shows
    # both): source patrol | hotline (12345) | inspection (督查) | other.
    # status: open → rectified → closed (销号, with evidence).
    x("""CREATE TABLE ledger_items (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        ref TEXT NOT NULL DEFAULT '',
        window INTEGER,
        staff_no TEXT,
        unit TEXT NOT NULL DEFAULT '',
        owner TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        opened_ms INTEGER NOT NULL,
        due_workdays INTEGER NOT NULL,
        due_ms INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        rectified_ms INTEGER,
        closed_ms INTEGER,
        evidence TEXT NOT NULL DEFAULT '',
        overdue INTEGER NOT NULL DEFAULT 0,
        patrol_id INTEGER,
        node TEXT NOT NULL
    )""")
    x("CREATE INDEX ledger_items_status ON ledger_items (status, due_ms)")
    x("""CREATE TABLE ledger_events (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES ledger_items (id),
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        node TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    )""")
    x("CREATE INDEX ledger_events_item ON ledger_events (item_id)")
    append_only(db, "ledger_events")
    # A call-back's outcome (回访): reached or not, the citizen's reason in their words, satisfied or
    # not (NULL: not asked / not reached). Private like the case's text (R6).
    x("""CREATE TABLE case_callbacks (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id),
        at_ms INTEGER NOT NULL,
        reached INTEGER NOT NULL,
        satisfied INTEGER,
        words TEXT NOT NULL DEFAULT '',
        node TEXT NOT NULL
    )""")
    x("CREATE INDEX case_callbacks_case ON case_callbacks (case_id)")
    append_only(db, "case_callbacks")
