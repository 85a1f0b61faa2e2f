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


@LEDGER(name=numbered(91, "patrols: 日巡查 / 明察暗访 / 模拟办事 with their findings and photos"))
def _m91(db: sqlite_utils.Database) -> None:
    x = db.execute
    # kind: daily | undercover | mock; window NULL = the whole hall; day = the hall's local date.
    x("""CREATE TABLE patrols (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        announced INTEGER NOT NULL,
        window INTEGER,
        staff_no TEXT,
        note TEXT NOT NULL DEFAULT '',
        at_ms INTEGER NOT NULL,
        day TEXT NOT NULL,
        node TEXT NOT NULL
    )""")
    x("CREATE INDEX patrols_day ON patrols (day)")
    append_only(db, "patrols")
    # One finding: its category code, name and points as configured at the time, and its ledger item.
    x("""CREATE TABLE patrol_findings (
        id INTEGER PRIMARY KEY,
        patrol_id INTEGER NOT NULL REFERENCES patrols (id),
        code TEXT NOT NULL,
        name TEXT NOT NULL,
        points REAL NOT NULL,
        item_id INTEGER REFERENCES ledger_items (id)
    )""")
    x("CREATE INDEX patrol_findings_patrol ON patrol_findings (patrol_id)")
    append_only(db, "patrol_findings")
    # A photo the web side stored under DATA/patrol-photos/<name> (resized JPEG, no EXIF).
    x("""CREATE TABLE patrol_photos (
        id INTEGER PRIMARY KEY,
        patrol_id INTEGER NOT NULL REFERENCES patrols (id),
        name TEXT NOT NULL UNIQUE
    )""")
    x("CREATE INDEX patrol_photos_patrol ON patrol_photos (patrol_id)")
    append_only(db, "patrol_photos")


@LEDGER(name=numbered(92, "notify: the outbox of notifications to the duty officers (store-and-forward)"))
def _m92(db: sqlite_utils.Database) -> None:
    # One message per channel (wecom | dingtalk | email), written in the transaction of its event.
    # uid: the message's own id (sent along, so a receiver can drop a repeat). sent_ms set after a 2xx
    # (or the SMTP server's acceptance); next_ms: when the sender may try it (again).
    db.execute("""CREATE TABLE notify_outbox (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        event TEXT NOT NULL,
        subject TEXT NOT NULL,
        text TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        next_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        sent_ms INTEGER,
        last_error TEXT NOT NULL DEFAULT ''
    )""")
    db.execute("CREATE INDEX notify_outbox_due ON notify_outbox (next_ms) WHERE sent_ms IS NULL")


@LEDGER(name=numbered(93, "assessment: managers' manual entries (组织考评 / 自我考评) per month"))
def _m93(db: sqlite_utils.Database) -> None:
    # kind: org (组织考评) | self (自我考评); target: window | staff; points < 0 a deduction, > 0 a bonus.
    db.execute("""CREATE TABLE assessment_entries (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        window INTEGER,
        staff_no TEXT,
        points REAL NOT NULL,
        reason TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        node TEXT NOT NULL
    )""")
    db.execute("CREATE INDEX assessment_entries_month ON assessment_entries (month)")
    append_only(db, "assessment_entries")
