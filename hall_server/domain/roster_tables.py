"""The roster's and leave's tables (migrations 80–84, the set `hall.roster`, applied after the domain's).

- `roster_days`: a day whose roster a manager entered (even with every window closed). A day absent
  here has no roster: attendance falls back to "every configured window open, nobody named".
- `roster`: for an entered day, each open (day, half, window) and who is scheduled there
  ('' = open, nobody named). A window without a row on an entered day is closed for that half.
- `leave`: 请假 (`leave`) and 出差 (`trip`) of a clerk from (start_day, start_half) to (end_day,
  end_half), halves 0 上午 / 1 下午, inclusive; status requested (by the clerk at the terminal) |
  approved (entered or approved by a manager) | rejected | cancelled (销假); no row is ever deleted.
- `roster_audit`: append-only, every change to the above: who (the manager's node), when, what,
  the subject (a day or a leave id), before and after as JSON.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from hall_server.core.store import append_only, numbered

ROSTER = Migrations("hall.roster")


@ROSTER(name=numbered(80, "roster: 排班 by day, half and window; 请销假; their append-only audit"))
def _m80(db: sqlite_utils.Database) -> None:
    x = db.execute
    x("""CREATE TABLE roster_days (
        day TEXT PRIMARY KEY,
        set_ms INTEGER NOT NULL,
        set_by TEXT NOT NULL
    )""")
    x("""CREATE TABLE roster (
        day TEXT NOT NULL REFERENCES roster_days (day),
        half INTEGER NOT NULL CHECK (half IN (0, 1)),
        window INTEGER NOT NULL,
        staff_no TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (day, half, window)
    )""")
    x("CREATE INDEX roster_staff ON roster (staff_no, day)")
    x("""CREATE TABLE leave (
        id INTEGER PRIMARY KEY,
        staff_no TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('leave', 'trip')),
        start_day TEXT NOT NULL,
        start_half INTEGER NOT NULL CHECK (start_half IN (0, 1)),
        end_day TEXT NOT NULL,
        end_half INTEGER NOT NULL CHECK (end_half IN (0, 1)),
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'approved' CHECK (status IN ('requested', 'approved', 'rejected', 'cancelled')),
        created_ms INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        decided_ms INTEGER,
        decided_by TEXT,
        cancelled_ms INTEGER,
        cancelled_by TEXT
    )""")
    x("CREATE INDEX leave_staff ON leave (staff_no, start_day, end_day)")
    x("""CREATE TABLE roster_audit (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        who TEXT NOT NULL,
        what TEXT NOT NULL,
        subject TEXT NOT NULL,
        before TEXT NOT NULL DEFAULT 'null',
        after TEXT NOT NULL DEFAULT 'null'
    )""")
    x("CREATE INDEX roster_audit_at ON roster_audit (at_ms)")
    append_only(db, "roster_audit")
