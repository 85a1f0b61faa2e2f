"""Issue #16, 督办 reaching the hall: a city manager's note on an overdue case is fetched by the
hall's forwarder (`GET /api/notes` with the hall's key), recorded through the writer as a
`city_pushback` event on the case (once per city note id, migration 111), confirmed to the city,
and comes back up to the city as a case event like any other."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from city_server.drill import push_back
from city_server.halls import add_hall
from hall_server.core.hub import Hub
from tests.city_server.conftest import CityProcess
from tests.city_server.hall_data import runner, work_days
from tests.hall_server.conftest import Driver, at, make_config

NOV = date(2026, 11, 2)


def test_a_pushed_back_note_lands_on_the_halls_case_once(city: CityProcess, tmp_path: Path, pin_hash: str) -> None:
    hub = Hub(tmp_path / "a" / "hall.db", make_config(pin_hash))
    try:
        d = Driver(hub, at(9, 0, day=NOV))
        work_days(d, NOV, 5, per_day=12, seed=4)
        with psycopg.connect(city.dsn, autocommit=True) as conn:
            key = add_hall(conn, "HALL-A", "甲区政务服务中心")
        city.start()
        run = runner(hub, city.url, "HALL-A", key, d.now)
        while run.run_once():
            pass
        with psycopg.connect(city.dsn, autocommit=True) as conn:
            case_id = conn.execute("SELECT id FROM cases WHERE hall = 'HALL-A' AND status = 'open' ORDER BY id "
                                   "LIMIT 1").fetchone()[0]
            note_id = push_back(conn, "HALL-A", case_id, "请尽快回访并报送整改情况", "mgr")
        run.run_once()
        events = hub.db.execute("SELECT kind, node, note FROM case_events WHERE case_id = ? AND kind = 'city_pushback'",
                                [case_id]).fetchall()
        assert events == [("city_pushback", "city", "请尽快回访并报送整改情况")]
        assert hub.db.execute("SELECT id, case_id FROM city_notes").fetchall() == [(note_id, case_id)]
        again = hub.submit("case.city_note", {"note_id": note_id, "case_id": case_id, "note": "请尽快回访并报送整改情况",
                                              "pushed_ms": 0}, "system-export", now_ms=d.now)
        assert again.ok and again.result["applied"] is False                 # a note fetched twice: once
        assert hub.db.execute("SELECT count(*) FROM case_events WHERE kind = 'city_pushback'").fetchone()[0] == 1
        while run.run_once():
            pass
        with psycopg.connect(city.dsn) as conn:
            assert conn.execute("SELECT delivered_at IS NOT NULL FROM pushbacks WHERE id = %s",
                                [note_id]).fetchone()[0]
            assert conn.execute("SELECT note FROM case_events WHERE hall = 'HALL-A' AND case_id = %s AND "
                                "kind = 'city_pushback'", [case_id]).fetchall() == [("请尽快回访并报送整改情况",)]
        assert run.exporter.notes_applied == 1
    finally:
        hub.close()
