"""The domain's tables (migrations 10–99). Never edit a released migration: add a new one.

Names: a 办件 is a **job** (`jobs`), a 差评 follow-up (and a hall comment, R12) is a **case**
(`cases`). Times are UTC epoch ms (`*_ms`); `day` columns are the hall's local date YYYY-MM-DD.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from hall_server.core.store import append_only, numbered

DOMAIN = Migrations("hall.domain")


@DOMAIN(name=numbered(10, "domain: tickets, jobs, ratings, staff, attendance, cases, rollup, export cursor"))
def _m10(db: sqlite_utils.Database) -> None:
    x = db.execute
    # R9 queue. status: waiting | called | serving | parked | done | no_show | transferred_out | expired
    x("""CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        category TEXT NOT NULL,
        seq INTEGER NOT NULL,
        no TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        priority_kind TEXT,
        status TEXT NOT NULL,
        window INTEGER,
        target_window INTEGER,
        taken_ms INTEGER NOT NULL,
        queued_ms INTEGER NOT NULL,
        first_called_ms INTEGER,
        called_ms INTEGER,
        recalls INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, category, seq)
    )""")
    x("CREATE INDEX tickets_waiting ON tickets (status, category, priority DESC, queued_ms)")
    x("CREATE INDEX tickets_window ON tickets (window, status)")
    # The timeline of each ticket: append-only.
    x("""CREATE TABLE ticket_events (
        id INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        window INTEGER,
        node TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    )""")
    x("CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id)")
    append_only(db, "ticket_events")
    # 办件. status: serving | parked | finished | transferred
    # rating: none (not finished) | open (window evaluator) | qr (window closed, QR slip still valid)
    #         | rated | unrated (未评价) | default (policy default, flagged)
    x("""CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        pub TEXT NOT NULL UNIQUE,
        ticket_id INTEGER REFERENCES tickets (id),
        window INTEGER NOT NULL,
        staff_no TEXT NOT NULL,
        department TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER,
        day TEXT,
        service_code TEXT,
        job_no TEXT UNIQUE,
        job_no_source TEXT,
        promised_min INTEGER,
        handle_ms INTEGER,
        wait_ms INTEGER,
        overdue INTEGER NOT NULL DEFAULT 0,
        rating TEXT NOT NULL DEFAULT 'none',
        rating_expires_ms INTEGER,
        qr_expires_ms INTEGER
    )""")
    x("CREATE INDEX jobs_window ON jobs (window, status)")
    x("CREATE INDEX jobs_rating ON jobs (rating, qr_expires_ms)")
    x("CREATE INDEX jobs_day ON jobs (day)")
    # R2/R6: one first rating (round 1) and one 追评 (round 2) per job, enforced by the database.
    x("""CREATE TABLE ratings (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs (id),
        round INTEGER NOT NULL CHECK (round IN (1, 2)),
        level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
        channel INTEGER NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        tag_version INTEGER,
        efficiency INTEGER,
        skill INTEGER,
        attitude INTEGER,
        text TEXT NOT NULL DEFAULT '',
        phone TEXT NOT NULL DEFAULT '',
        is_default INTEGER NOT NULL DEFAULT 0,
        at_ms INTEGER NOT NULL,
        node TEXT NOT NULL,
        window INTEGER NOT NULL,
        staff_no TEXT NOT NULL,
        service_code TEXT,
        UNIQUE (job_id, round)
    )""")
    x("CREATE INDEX ratings_at ON ratings (at_ms)")
    append_only(db, "ratings")
    # Staff sign-in sessions (one open per person and per window), PIN failures, pauses.
    x("""CREATE TABLE staff_sessions (
        id INTEGER PRIMARY KEY,
        staff_no TEXT NOT NULL,
        window INTEGER NOT NULL,
        in_ms INTEGER NOT NULL,
        out_ms INTEGER,
        day TEXT NOT NULL
    )""")
    x("CREATE UNIQUE INDEX staff_sessions_open_staff ON staff_sessions (staff_no) WHERE out_ms IS NULL")
    x("CREATE UNIQUE INDEX staff_sessions_open_window ON staff_sessions (window) WHERE out_ms IS NULL")
    x("""CREATE TABLE staff_locks (
        staff_no TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until_ms INTEGER NOT NULL DEFAULT 0
    )""")
    x("""CREATE TABLE pauses (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES staff_sessions (id),
        staff_no TEXT NOT NULL,
        window INTEGER NOT NULL,
        reason TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER,
        away INTEGER NOT NULL DEFAULT 0
    )""")
    x("CREATE INDEX pauses_open ON pauses (end_ms)")
    # R10 attendance events: late | early | away (离岗) | vacant (空岗). Append-only.
    x("""CREATE TABLE attendance (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        session INTEGER NOT NULL,
        kind TEXT NOT NULL,
        window INTEGER NOT NULL,
        staff_no TEXT NOT NULL DEFAULT '',
        at_ms INTEGER NOT NULL,
        minutes INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, session, kind, window, staff_no, at_ms)
    )""")
    x("CREATE INDEX attendance_day ON attendance (day)")
    append_only(db, "attendance")
    # Per window: when it became unstaffed (for 空岗), once flagged per session.
    x("""CREATE TABLE windows (
        number INTEGER PRIMARY KEY,
        staff_no TEXT,
        session_id INTEGER,
        state TEXT NOT NULL DEFAULT 'closed',
        since_ms INTEGER NOT NULL DEFAULT 0,
        pause_reason TEXT,
        ticket_id INTEGER,
        job_id INTEGER,
        rating_job_id INTEGER,
        vacant_since_ms INTEGER,
        vacant_flagged TEXT
    )""")
    # R7 cases (差评 follow-ups) and R12 hall comments. status: open | called_back | rectified | closed
    x("""CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        rating_id INTEGER REFERENCES ratings (id),
        job_id INTEGER REFERENCES jobs (id),
        window INTEGER,
        staff_no TEXT,
        opened_ms INTEGER NOT NULL,
        callback_due_ms INTEGER NOT NULL,
        rectify_due_ms INTEGER NOT NULL,
        callback_ms INTEGER,
        rectified_ms INTEGER,
        status TEXT NOT NULL DEFAULT 'open',
        appeal TEXT NOT NULL DEFAULT 'none',
        excluded INTEGER NOT NULL DEFAULT 0,
        callback_overdue INTEGER NOT NULL DEFAULT 0,
        rectify_overdue INTEGER NOT NULL DEFAULT 0,
        text TEXT NOT NULL DEFAULT '',
        phone TEXT NOT NULL DEFAULT ''
    )""")
    x("CREATE INDEX cases_status ON cases (status)")
    x("""CREATE TABLE case_events (
        id INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id),
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        node TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT ''
    )""")
    x("CREATE INDEX case_events_case ON case_events (case_id)")
    append_only(db, "case_events")
    # R8 rollups kept by the writer, by the local day (and hour) of each job's finish:
    # `rollup` per (day, window, staff, 事项) for every cut but the hour; `rollup_hour` per (day, hour, window).
    x("""CREATE TABLE rollup (
        day TEXT NOT NULL,
        window INTEGER NOT NULL,
        staff_no TEXT NOT NULL,
        service_code TEXT NOT NULL,
        department TEXT NOT NULL DEFAULT '',
        finished INTEGER NOT NULL DEFAULT 0,
        overdue INTEGER NOT NULL DEFAULT 0,
        handle_ms INTEGER NOT NULL DEFAULT 0,
        wait_n INTEGER NOT NULL DEFAULT 0,
        wait_ms INTEGER NOT NULL DEFAULT 0,
        wait_over INTEGER NOT NULL DEFAULT 0,
        rated INTEGER NOT NULL DEFAULT 0,
        l1 INTEGER NOT NULL DEFAULT 0,
        l2 INTEGER NOT NULL DEFAULT 0,
        l3 INTEGER NOT NULL DEFAULT 0,
        l4 INTEGER NOT NULL DEFAULT 0,
        l5 INTEGER NOT NULL DEFAULT 0,
        level_sum INTEGER NOT NULL DEFAULT 0,
        defaults INTEGER NOT NULL DEFAULT 0,
        bad_excluded INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, window, staff_no, service_code)
    )""")
    x("""CREATE TABLE rollup_hour (
        day TEXT NOT NULL,
        hour INTEGER NOT NULL,
        window INTEGER NOT NULL,
        finished INTEGER NOT NULL DEFAULT 0,
        overdue INTEGER NOT NULL DEFAULT 0,
        handle_ms INTEGER NOT NULL DEFAULT 0,
        wait_n INTEGER NOT NULL DEFAULT 0,
        wait_ms INTEGER NOT NULL DEFAULT 0,
        wait_over INTEGER NOT NULL DEFAULT 0,
        rated INTEGER NOT NULL DEFAULT 0,
        l1 INTEGER NOT NULL DEFAULT 0,
        l2 INTEGER NOT NULL DEFAULT 0,
        l3 INTEGER NOT NULL DEFAULT 0,
        l4 INTEGER NOT NULL DEFAULT 0,
        l5 INTEGER NOT NULL DEFAULT 0,
        level_sum INTEGER NOT NULL DEFAULT 0,
        defaults INTEGER NOT NULL DEFAULT 0,
        bad_excluded INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, hour, window)
    )""")
    # Upward export: how far each sink has been delivered (rating ids are the outbox).
    x("""CREATE TABLE export_cursor (
        sink TEXT PRIMARY KEY,
        last_rating_id INTEGER NOT NULL,
        delivered_ms INTEGER NOT NULL
    )""")


@DOMAIN(name=numbered(11, "domain: each window's most recent finished 办件 (for `last_rating` in window/<n>)"))
def _m11(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE windows ADD COLUMN last_job_id INTEGER")
    db.execute("UPDATE windows SET last_job_id = (SELECT j.id FROM jobs j WHERE j.window = windows.number "
               "AND j.status = 'finished' ORDER BY j.finished_ms DESC, j.id DESC LIMIT 1)")


@DOMAIN(name=numbered(20, "domain: slips, the print jobs of the windows' rating slips (printed by the devices gateway)"))
def _m20(db: sqlite_utils.Database) -> None:
    # One row per print of a 办件's slip: its first print after 办结, and each 补打 (reprint).
    # reason: first | reprint;  state: pending | printed | failed;  error (failed): no_paper | offline |
    # not_connected | error.  The QR link is never stored: `slip.fetch` signs it when the gateway asks.
    db.execute("""CREATE TABLE slips (
        id INTEGER PRIMARY KEY,
        window INTEGER NOT NULL,
        job_id INTEGER NOT NULL REFERENCES jobs (id),
        reason TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        error TEXT,
        node TEXT,
        created_ms INTEGER NOT NULL,
        fetched_ms INTEGER,
        done_ms INTEGER
    )""")
    db.execute("CREATE INDEX slips_window ON slips (window, state)")
    db.execute("CREATE INDEX slips_job ON slips (job_id)")


@DOMAIN(name=numbered(40, "domain: cases' due dates may be provisional (no official calendar yet) and are recomputable"))
def _m40(db: sqlite_utils.Database) -> None:
    # See hall_server/domain/workdays.py. Existing rows get the fingerprint "" so the tick
    # recomputes the open ones once on the current calendar (and the 下班 deadline).
    db.execute("ALTER TABLE cases ADD COLUMN callback_due_provisional INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE cases ADD COLUMN rectify_due_provisional INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE cases ADD COLUMN due_calendar TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX cases_due_recompute ON cases (due_calendar) "
               "WHERE callback_due_provisional = 1 OR rectify_due_provisional = 1 OR due_calendar = ''")


@DOMAIN(name=numbered(45, "domain: each ticket's unguessable public id (a citizen looks up their own ticket with it)"))
def _m45(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE tickets ADD COLUMN pub TEXT")
    db.execute("UPDATE tickets SET pub = lower(hex(randomblob(10))) WHERE pub IS NULL")
    db.execute("CREATE UNIQUE INDEX tickets_pub ON tickets (pub)")


@DOMAIN(name=numbered(51, "trust: where each QR rating came from (hashed) and the append-only pattern flags"))
def _m51(db: sqlite_utils.Database) -> None:
    x = db.execute
    # One row per QR rating: the rater cookie's and the client address's keyed hashes (never the
    # raw values), with the 办件's window, for the one-device-many-办件 pattern (`rating_flags`).
    x("""CREATE TABLE rating_sources (
        rating_id INTEGER PRIMARY KEY REFERENCES ratings (id),
        job_id INTEGER NOT NULL REFERENCES jobs (id),
        window INTEGER NOT NULL,
        rater_hash TEXT NOT NULL,
        address_hash TEXT NOT NULL,
        at_ms INTEGER NOT NULL
    )""")
    x("CREATE INDEX rating_sources_rater ON rating_sources (rater_hash, at_ms)")
    x("CREATE INDEX rating_sources_address ON rating_sources (address_hash, at_ms)")
    append_only(db, "rating_sources")
    # A rating the managers should look at: reason same_rater | same_address, and what was counted.
    x("""CREATE TABLE rating_flags (
        id INTEGER PRIMARY KEY,
        rating_id INTEGER NOT NULL REFERENCES ratings (id),
        reason TEXT NOT NULL,
        rater_hash TEXT NOT NULL,
        address_hash TEXT NOT NULL,
        jobs INTEGER NOT NULL,
        windows INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
    )""")
    x("CREATE INDEX rating_flags_rating ON rating_flags (rating_id)")
    x("CREATE INDEX rating_flags_at ON rating_flags (at_ms)")
    append_only(db, "rating_flags")


@DOMAIN(name=numbered(110, "city: the forwarding outbox (every finished 办件, rating, case change, case event and attendance flag)"))
def _m110(db: sqlite_utils.Database) -> None:
    """`city_outbox` lists, in order, what the city tier must hear of (hall_server.domain.city_records);
    triggers fill it in the transaction that made the change, so nothing can be missed; the rows
    already in the store are listed first (a hall that joins a city forwards its history)."""
    x = db.execute
    x("""CREATE TABLE city_outbox (
        id INTEGER PRIMARY KEY,
        stream TEXT NOT NULL,
        ref INTEGER NOT NULL
    )""")
    x("INSERT INTO city_outbox (stream, ref) SELECT 'job', id FROM jobs WHERE status = 'finished' ORDER BY finished_ms, id")
    x("INSERT INTO city_outbox (stream, ref) SELECT 'rating', id FROM ratings ORDER BY id")
    x("INSERT INTO city_outbox (stream, ref) SELECT 'case', id FROM cases ORDER BY id")
    x("INSERT INTO city_outbox (stream, ref) SELECT 'case_event', id FROM case_events ORDER BY id")
    x("INSERT INTO city_outbox (stream, ref) SELECT 'attendance', id FROM attendance ORDER BY id")
    x("""CREATE TRIGGER city_job_finished AFTER UPDATE OF status ON jobs WHEN NEW.status = 'finished'
         AND OLD.status IS NOT 'finished' BEGIN INSERT INTO city_outbox (stream, ref) VALUES ('job', NEW.id); END""")
    x("""CREATE TRIGGER city_rating AFTER INSERT ON ratings
         BEGIN INSERT INTO city_outbox (stream, ref) VALUES ('rating', NEW.id); END""")
    x("""CREATE TRIGGER city_case_new AFTER INSERT ON cases
         BEGIN INSERT INTO city_outbox (stream, ref) VALUES ('case', NEW.id); END""")
    x("""CREATE TRIGGER city_case_changed AFTER UPDATE ON cases
         BEGIN INSERT INTO city_outbox (stream, ref) VALUES ('case', NEW.id); END""")
    x("""CREATE TRIGGER city_case_event AFTER INSERT ON case_events
         BEGIN INSERT INTO city_outbox (stream, ref) VALUES ('case_event', NEW.id); END""")
    x("""CREATE TRIGGER city_attendance AFTER INSERT ON attendance
         BEGIN INSERT INTO city_outbox (stream, ref) VALUES ('attendance', NEW.id); END""")


@DOMAIN(name=numbered(111, "city: 督办 notes received from the city (each applied once, by the city's note id)"))
def _m111(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE city_notes (
        id INTEGER PRIMARY KEY,          -- the city's note id
        case_id INTEGER NOT NULL,
        note TEXT NOT NULL,
        pushed_ms INTEGER NOT NULL,      -- when the city manager wrote it
        applied_ms INTEGER NOT NULL      -- when the hall recorded it on the case
    )""")
    append_only(db, "city_notes")


@DOMAIN(name=numbered(112, "domain: slips, the prints the tick times out and the ones the floor shows as alerts"))
def _m112(db: sqlite_utils.Database) -> None:
    # state may now also be `unconfirmed` (error no_status | interrupted) and error `timeout`
    # (hall_server/domain/slips.py). Two small partial indexes: the tick looks for fetched prints
    # still pending; the floor's alerts for failed and unconfirmed ones (a few a day at most).
    db.execute("CREATE INDEX slips_fetched ON slips (fetched_ms) WHERE state = 'pending'")
    db.execute("CREATE INDEX slips_unsettled ON slips (job_id) WHERE state IN ('failed', 'unconfirmed')")
