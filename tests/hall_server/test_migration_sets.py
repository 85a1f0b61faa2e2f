"""Migration sets handed to the store: nothing registers itself on import, and a database migrated
by the older code (numbers in `_migrations`) is recognised once and never migrated twice."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from hall_server.core import store
from hall_server.core.hub import Hub
from hall_server.core.migrations import HALL
from hall_server.core.store import StoreError, applied_numbers, migrate, open_store

from .conftest import make_config

FIXTURE = Path(__file__).parent / "fixtures" / "hall-numbered-migrations.db"
OLD_NUMBERS = [1, 10, 11, 20, 35, 40, 45, 50, 51]


def test_every_set_is_numbered_in_order_and_numbers_are_unique() -> None:
    numbers = [store.migration_number(m.name) for sets in HALL for m in sets._migrations]
    assert len(numbers) == len(set(numbers))
    for sets in HALL:
        mine = [store.migration_number(m.name) for m in sets._migrations]
        assert mine == sorted(mine)


def test_opening_with_no_sets_applies_nothing(tmp_path: Path) -> None:
    db = open_store(tmp_path / "hall.db", ())
    assert applied_numbers(db) == [] and not db["tickets"].exists()
    assert migrate(db, HALL)[0] == 1 and db["tickets"].exists()
    db.close()


def test_a_database_migrated_by_the_older_code_is_adopted_not_migrated_again(tmp_path: Path, pin_hash: str) -> None:
    path = tmp_path / "hall.db"
    shutil.copy(FIXTURE, path)
    old = sqlite_utils.Database(path)
    assert [r[0] for r in old.execute("SELECT number FROM _migrations ORDER BY number")] == OLD_NUMBERS
    old.close()
    hub = Hub(path, make_config(pin_hash))
    try:
        # the old numbers are adopted as they are; migrations added since (70: admin) run once on top
        assert [n for n in applied_numbers(hub.db) if n <= max(OLD_NUMBERS)] == OLD_NUMBERS
        assert not hub.db["_migrations"].exists()
        assert migrate(hub.db, HALL) == []
        assert hub.db.execute("SELECT no FROM tickets").fetchall() == [("A001",)]   # the data is kept
        taken = hub.submit("queue.take", {"category": "A"}, "dispenser-1")
        assert taken.ok and taken.result["ticket"].startswith("A")
    finally:
        hub.close()


def test_a_database_from_a_newer_server_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "hall.db"
    shutil.copy(FIXTURE, path)
    db = sqlite_utils.Database(path)
    db.execute("INSERT INTO _migrations (number, name, applied_ms) VALUES (99, 'from the future', 0)")
    db.conn.commit()
    with pytest.raises(StoreError, match=r"\[99\]"):
        migrate(db, HALL)
    assert db["_migrations"].exists() and not db["_sqlite_migrations"].exists()
    db.close()


def test_the_store_knows_no_migration_and_imports_none() -> None:
    code = ("import sys, hall_server.core.store; "
            "assert not any(m.endswith('migrations') and m.startswith('hall_server') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
