"""The writer's edges: dedupe on (node, message id), bodies the store cannot keep refused for good,
the disk refusing writes (full, read-only) as a named retryable fault, and the export CSV's cells."""

from __future__ import annotations

import csv
import io
import math
import sqlite3
from pathlib import Path
from typing import Any

import msgpack
import pytest
from sqlite_utils.migrations import Migrations
from starlette.testclient import TestClient

from hall_server.core import store
from hall_server.core.backend import LocalBackend
from hall_server.domain import csv_cells
from hall_server.domain.export import Exporter, FolderSink
from hall_server.core.hub import Hub
from hall_server.core.migrations import HALL
from hall_server.core.store import StorageFull, StorageReadOnly, storage_fault
from hall_server.web.app import make_app
from hall_server.web.pages import exports
from hallnet.messages import Envelope

from .conftest import Driver, demo_config


@pytest.fixture
def plain_hub(tmp_path: Path):
    h = Hub(tmp_path / "hall.db", demo_config())
    yield h
    h.close()


def _before(number: int) -> tuple[Migrations, ...]:
    """The hall's migration sets as they were before migration `number`."""
    sets = []
    for full in HALL:
        earlier = Migrations(full.name)
        for m in full._migrations:
            if store.migration_number(m.name) < number:
                earlier(name=m.name)(m.fn)
        sets.append(earlier)
    return tuple(sets)


def _note(node: str, subject: str, msg_id: str | None = None, seq: int = 1, **body: Any) -> Envelope:
    env = Envelope(type="audit.note", node=node, seq=seq, body={"kind": "t", "subject": subject, **body})
    return env if msg_id is None else Envelope(type=env.type, node=node, seq=seq, body=env.body, id=msg_id)


def _subjects(hub: Hub) -> list[tuple[str, str]]:
    return hub.db.execute("SELECT node, subject FROM audit WHERE kind = 'note.t' ORDER BY id").fetchall()


# --- dedupe on (node, id) ----------------------------------------------------------------------

def test_two_nodes_with_the_same_message_id_are_both_applied(plain_hub: Hub) -> None:
    same = "00112233445566778899aabbccddeeff"
    first, = plain_hub.apply([_note("kiosk-1", "from 1", same)])
    other, = plain_hub.apply([_note("kiosk-2", "from 2", same)])
    assert first.ok and not first.duplicate
    assert other.ok and not other.duplicate, "another node's message is not a resend of kiosk-1's"
    resend, = plain_hub.apply([_note("kiosk-1", "from 1", same)])
    assert resend.duplicate and resend.result == first.result
    within, again = plain_hub.apply([_note("kiosk-3", "from 3", same), _note("kiosk-3", "from 3", same)])
    assert within.ok and not within.duplicate and again.duplicate
    assert _subjects(plain_hub) == [("kiosk-1", "from 1"), ("kiosk-2", "from 2"), ("kiosk-3", "from 3")]


def test_migration_35_keeps_the_dedupe_of_messages_applied_before(tmp_path: Path) -> None:
    old = Hub(tmp_path / "hall.db", demo_config(), migrations=_before(35))   # the schema before 35: `applied` keyed by id
    note = _note("kiosk-1", "before", seq=7)
    stored, = old.apply([note])
    old.close()
    hub = Hub(tmp_path / "hall.db", demo_config())
    try:
        assert 35 in store.applied_numbers(hub.db)
        resend, = hub.apply([note])
        assert resend.duplicate and resend.result == stored.result
        other, = hub.apply([_note("kiosk-2", "after", note.id)])
        assert other.ok and not other.duplicate
        assert _subjects(hub) == [("kiosk-1", "before"), ("kiosk-2", "after")]
        assert hub.db.execute("SELECT node, seq FROM applied ORDER BY node").fetchall() == [("kiosk-1", 7), ("kiosk-2", 1)]
    finally:
        hub.close()


# --- bodies the store cannot keep ----------------------------------------------------------------

def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"d": value}
    return value


UNSTORABLE = {
    "bytes in detail": {"detail": {"raw": b"\x00\xff"}},
    "extension type in detail": {"detail": {"x": msgpack.ExtType(5, b"ext")}},
    "msgpack timestamp": {"detail": {"at": msgpack.Timestamp(1, 0)}},
    "NaN": {"detail": {"n": math.nan}},
    "infinity in a list": {"detail": {"l": [1, math.inf]}},
    "integer past 64 bits": {"detail": {"big": 2 ** 64 - 1}},
    "nested 40 deep": {"detail": _nested(40)},
    "nested 5000 deep": {"detail": _nested(5000)},
    "bytes as a field": {"subject": b"abc"},
}


@pytest.mark.parametrize("extra", list(UNSTORABLE.values()), ids=list(UNSTORABLE))
def test_an_unstorable_body_is_a_permanent_bad_request_not_a_retry(plain_hub: Hub, extra: dict[str, Any]) -> None:
    env = Envelope(type="audit.note", node="kiosk-1", seq=1, body={"kind": "t", "subject": "s", **extra})
    first, = plain_hub.apply([env])
    assert (first.ok, first.error, first.retry) == (False, "bad_request", False), first.message
    again, = plain_hub.apply([env])                       # a resend gets the same stored refusal
    assert again.duplicate and (again.error, again.message) == (first.error, first.message)
    assert _subjects(plain_hub) == []
    assert plain_hub.storage.report()["status"] == "ok"


def test_plain_data_passes(plain_hub: Hub) -> None:
    body = {"kind": "t", "subject": "s", "detail": {"n": 1.5, "i": -(2 ** 63), "l": [None, True, "文字"],
                                                    "deep": _nested(10)}}
    ok, = plain_hub.apply([Envelope(type="audit.note", node="kiosk-1", seq=1, body=body)])
    assert ok.ok, ok.message


# --- the disk refusing writes ----------------------------------------------------------------------

def test_a_full_database_refuses_the_whole_batch_by_name_and_recovers_without_a_restart(plain_hub: Hub) -> None:
    """Disk full simulated honestly by SQLite itself: `PRAGMA max_page_count` caps the database at
    its current size, so the writer's next write fails with SQLITE_FULL exactly as on a full disk
    (tests/e2e/test_store_faults_e2e.py fills a real tmpfs)."""
    db = plain_hub.db
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    big = "x" * 20_000
    batch = [_note("kiosk-1", f"n{i}", detail={"pad": big}, seq=i) for i in range(1, 4)]
    with pytest.raises(StorageFull):
        plain_hub.apply(batch)
    assert _subjects(plain_hub) == [] and plain_hub.state.get("notes/kiosk-1") is None
    assert db.execute("SELECT COUNT(*) FROM applied").fetchone()[0] == 0       # nothing acknowledged
    assert plain_hub.storage.report()["status"] == "full"
    db.execute("PRAGMA max_page_count = 1073741823")                           # space is back
    outcomes = plain_hub.apply(batch)
    assert all(o.ok and not o.duplicate for o in outcomes)
    assert len(_subjects(plain_hub)) == 3 and plain_hub.storage.report()["status"] == "ok"


def test_a_read_only_store_is_named_in_health_and_in_http_errors(plain_hub: Hub) -> None:
    """Read-only at run time: the kernel refuses to remount a filesystem read-only while the server
    holds its files open for writing ("mount point is busy"), so `PRAGMA query_only` on the writer's
    real connection produces the same SQLITE_READONLY the writer meets on a read-only database.
    (Read-only at start, on a real read-only mount: tests/e2e/test_store_faults_e2e.py.)"""
    app = TestClient(make_app(LocalBackend(plain_hub), api_keys={}))
    assert app.get("/api/health").status_code == 200
    plain_hub.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StorageReadOnly):
        plain_hub.apply([_note("kiosk-1", "ro")])
    r = app.post("/api/comments", json={"text": "窗口很好"})
    assert r.status_code == 503 and r.json()["error"] == "storage_read_only"
    page = app.post("/c", data={"text": "窗口很好"})
    assert page.status_code == 503 and "存储只读" in page.text
    health = app.get("/api/health")
    assert health.status_code == 503
    assert health.json()["storage"]["status"] == "read_only" and health.json()["ok"] is False
    plain_hub.db.execute("PRAGMA query_only = OFF")
    assert plain_hub.apply([_note("kiosk-1", "rw")])[0].ok
    assert app.get("/api/health").json()["storage"]["status"] == "ok"


def test_storage_faults_are_classified_from_real_errors(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    ro = sqlite3.connect(f"file:{tmp_path / 'x.db'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        ro.execute("INSERT INTO t VALUES (1)")
    ro.close()
    assert isinstance(storage_fault(caught.value), StorageReadOnly)
    assert storage_fault(ValueError("a bug")) is None
    assert storage_fault(sqlite3.IntegrityError("UNIQUE constraint failed")) is None


# --- the export sink's CSV ------------------------------------------------------------------------------

def test_the_export_sinks_csv_neutralises_formula_text(hall: Driver, tmp_path: Path) -> None:
    hall.sign_in(1, "1001")
    texts = ['=HYPERLINK("http://evil.example/","点我")', "+1", "-2", "@SUM(A1)", "\t=1", "慢"]
    for text in texts:
        hall.serve(1)
        hall.ok("rating.submit", {"level": 1, "tags": ["N01"], "text": text}, "kiosk-1")
    out = tmp_path / "out"
    Exporter(hall.hub.reader, hall.hub.config, FolderSink(out),
             lambda s, n: hall.ok("export.delivered", {"sink": s, "upto": n}, "system-export")).pump()
    csv_file, = out.glob("*.csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text("utf-8"))))
    assert [r["text"] for r in rows] == ["'" + t for t in texts[:-1]] + ["慢"]
    assert rows[0]["level"] == "1" and rows[0]["rating_id"] == "1"
    jsonl, = out.glob("*.jsonl")                           # the JSON lines keep the citizen's words as written
    assert texts[0] in jsonl.read_text("utf-8").replace('\\"', '"')


def test_one_neutraliser_serves_both_csv_exports() -> None:
    assert exports.csv_safe is csv_cells.csv_safe
    assert exports.to_csv(["a"], [["=1"]]).decode("utf-8-sig").splitlines()[1] == "'=1"
