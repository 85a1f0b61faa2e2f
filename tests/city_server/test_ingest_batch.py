"""The ingest's bulk path (COPY into a temporary table, one upsert per kind): a record listed
several times in one batch ends as its last listing and counts once in the day's figures; a batch resent is applied once; a batch the
city cannot read names what was wrong and applies nothing."""

from __future__ import annotations

import json

import psycopg
import pytest

from city_server.halls import add_hall
from city_server.ingest import apply
from city_server.records import BadBatch, decode


def _case(status: str, callback_ms: int | None) -> dict:
    return {"id": 7, "kind": "bad_rating", "rating_id": 3, "job_id": 2, "window": 1, "staff_no": "1001",
            "opened_ms": 1_790_000_000_000, "day": "2026-09-22", "callback_due_ms": 1, "rectify_due_ms": 2,
            "callback_ms": callback_ms, "rectified_ms": None, "status": status, "appeal": "none", "excluded": False,
            "callback_overdue": 0, "rectify_overdue": 0}


def _body(entries: list[dict]) -> bytes:
    return json.dumps({"hall": "HALL-A", "entries": entries}).encode()


def test_the_last_listing_wins_and_a_resent_batch_is_applied_once(city_dsn: str) -> None:
    job = {"id": 2, "pub": "p2", "window": 1, "staff_no": "1001", "department": "D", "service_code": None,
           "job_no": None, "day": "2026-09-22", "started_ms": 1, "finished_ms": 2, "handle_ms": 1, "wait_ms": 0,
           "overdue": False, "promised_min": None}
    entries = [{"seq": 1, "stream": "job", "record": job},
               {"seq": 2, "stream": "case", "record": _case("open", None)},
               {"seq": 3, "stream": "case", "record": _case("called_back", 5)},
               {"seq": 4, "stream": "case_event", "record": {"id": 1, "case_id": 7, "at_ms": 5, "kind": "callback",
                                                             "note": "已回访"}}]
    with psycopg.connect(city_dsn, autocommit=True) as conn:
        add_hall(conn, "HALL-A", "甲")
        _batch, typed = decode(_body(entries))
        done = apply(conn, "HALL-A", typed)
        assert (done.applied, done.skipped, done.upto) == (4, 0, 4)
        again = apply(conn, "HALL-A", typed)
        assert (again.applied, again.skipped, again.upto) == (0, 4, 4)
        assert conn.execute("SELECT status, callback_ms FROM cases WHERE hall = 'HALL-A'").fetchall() == [("called_back", 5)]
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 1
        assert conn.execute("SELECT note FROM case_events").fetchall() == [("已回访",)]
        relisted = [{"seq": 5, "stream": "job", "record": {**job, "handle_ms": 9}},
                    {"seq": 6, "stream": "job", "record": {**job, "id": 3, "pub": "p3"}},
                    {"seq": 7, "stream": "job", "record": {**job, "id": 3, "pub": "p3"}}]
        apply(conn, "HALL-A", decode(_body(relisted))[1])
        assert conn.execute("SELECT finished, handled FROM day_figures").fetchall() == [(2, 2)]   # once each


@pytest.mark.parametrize("entries, says", [
    ([{"seq": 1, "stream": "nope", "record": {}}], "stream"),
    ([{"seq": 1, "stream": "case", "record": {**_case("open", None), "hall": "HALL-B"}}], "hall"),
    ([{"seq": 2, "stream": "case", "record": _case("open", None)},
      {"seq": 1, "stream": "case", "record": _case("open", None)}], "out of order"),
    ([{"seq": 1, "stream": "case", "record": {**_case("open", None), "day": "22/09/2026"}}], "day"),
])
def test_a_batch_the_city_cannot_read_says_why(entries: list[dict], says: str) -> None:
    with pytest.raises(BadBatch, match=says):
        decode(_body(entries))
