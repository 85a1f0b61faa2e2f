"""Issue #16: halls forward store-and-forward to the city on PostgreSQL — nothing lost while the
city is down, nothing applied twice, a hall writes only its own records, and the city's figures
are the halls' own."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import psycopg
import pytest

from city_server.figures import month_ranking
from city_server.halls import add_hall
from hall_server.core.hub import Hub
from hall_server.domain import figures
from hall_server.domain.city_records import pending
from tests.city_server.conftest import CityProcess
from tests.city_server.hall_data import runner, work_days
from tests.hall_server.conftest import Driver, at, make_config

WEEK = date(2026, 11, 2)      # a Monday: a week of work while the city is away


def _counts_pg(dsn: str, hall: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t} WHERE hall = %s", [hall]).fetchone()[0]
                for t in ("jobs", "ratings", "cases", "case_events", "attendance")}


def _counts_hall(hub: Hub) -> dict[str, int]:
    q = hub.db.execute
    return {"jobs": q("SELECT count(*) FROM jobs WHERE status = 'finished'").fetchone()[0],
            "ratings": q("SELECT count(*) FROM ratings").fetchone()[0],
            "cases": q("SELECT count(*) FROM cases").fetchone()[0],
            "case_events": q("SELECT count(*) FROM case_events").fetchone()[0],
            "attendance": q("SELECT count(*) FROM attendance").fetchone()[0]}


@pytest.fixture
def hall_a(tmp_path: Path, pin_hash: str) -> Driver:
    hub = Hub(tmp_path / "a" / "hall.db", make_config(pin_hash))
    yield Driver(hub, at(9, 0, day=WEEK))
    hub.close()


def test_a_week_offline_arrives_once_and_in_order(city: CityProcess, hall_a: Driver) -> None:
    with psycopg.connect(city.dsn, autocommit=True) as conn:
        key = add_hall(conn, "HALL-A", "甲区政务服务中心")
    work_days(hall_a, WEEK, 7, per_day=14)
    run = runner(hall_a.hub, city.url, "HALL-A", key, hall_a.now)
    assert run.run_once() == 0 and run.exporter.cursor() == 0        # the city is away: nothing moves
    city.start()
    sent = run.run_once()
    expected = _counts_hall(hall_a.hub)
    assert expected["jobs"] >= 60 and expected["case_events"] > 0 and expected["attendance"] > 0
    assert _counts_pg(city.dsn, "HALL-A") == expected
    outbox_last = hall_a.hub.db.execute("SELECT max(id) FROM city_outbox").fetchone()[0]
    assert sent == outbox_last and run.exporter.cursor() == outbox_last
    with psycopg.connect(city.dsn) as conn:
        assert conn.execute("SELECT upto FROM hall_cursor WHERE hall = 'HALL-A'").fetchone()[0] == outbox_last
        cases = conn.execute("SELECT id, status, callback_ms FROM cases WHERE hall = 'HALL-A' ORDER BY id").fetchall()
    assert cases == [tuple(r) for r in hall_a.hub.db.execute("SELECT id, status, callback_ms FROM cases ORDER BY id")]
    assert run.run_once() == 0                                       # nothing twice


def _post(url: str, key: str, body: object) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/ingest", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_a_hall_cannot_write_another_halls_records(city: CityProcess, hall_a: Driver) -> None:
    with psycopg.connect(city.dsn, autocommit=True) as conn:
        key_a = add_hall(conn, "HALL-A", "甲")
        add_hall(conn, "HALL-B", "乙")
    city.start()
    work_days(hall_a, WEEK, 1, per_day=3)
    entries = pending(hall_a.hub.reader(), hall_a.hub.config, 0, 100)
    status, answer = _post(city.url, key_a, {"hall": "HALL-B", "entries": entries})
    assert status == 403 and answer["error"] == "wrong_hall"
    smuggled = [{**e, "record": {**e["record"], "hall": "HALL-B"}} for e in entries]
    status, answer = _post(city.url, key_a, {"hall": "HALL-A", "entries": smuggled})
    assert status == 400 and answer["error"] == "bad_batch"
    status, _ = _post(city.url, "not-a-key", {"hall": "HALL-B", "entries": entries})
    assert status == 401
    assert _counts_pg(city.dsn, "HALL-B") == dict.fromkeys(("jobs", "ratings", "cases", "case_events", "attendance"), 0)
    assert _counts_pg(city.dsn, "HALL-A")["jobs"] == 0
    status, answer = _post(city.url, key_a, {"hall": "HALL-A", "entries": entries})
    assert status == 200 and answer["applied"] == len(entries)


def test_the_city_killed_mid_ingest_loses_nothing_and_applies_nothing_twice(city: CityProcess, hall_a: Driver) -> None:
    with psycopg.connect(city.dsn, autocommit=True) as conn:
        key = add_hall(conn, "HALL-A", "甲")
    work_days(hall_a, WEEK, 14, per_day=30, seed=3)
    city.start()
    run = runner(hall_a.hub, city.url, "HALL-A", key, hall_a.now)
    run.exporter.batch = 40
    killed = threading.Event()

    def killer() -> None:
        while run.exporter.cursor() < 200 and not killed.is_set():
            time.sleep(0.005)
        city.kill()                                                   # SIGKILL, mid-stream
        killed.set()
    t = threading.Thread(target=killer)
    t.start()
    first = 0
    while not killed.is_set():
        first += run.run_once()
    t.join()
    assert 0 < run.exporter.cursor() < hall_a.hub.db.execute("SELECT max(id) FROM city_outbox").fetchone()[0]
    city.start()
    while run.run_once():
        pass
    assert _counts_pg(city.dsn, "HALL-A") == _counts_hall(hall_a.hub)
    with psycopg.connect(city.dsn) as conn:
        upto = conn.execute("SELECT upto FROM hall_cursor WHERE hall = 'HALL-A'").fetchone()[0]
    assert upto == run.exporter.cursor() == hall_a.hub.db.execute("SELECT max(id) FROM city_outbox").fetchone()[0]


def test_the_city_figures_are_the_halls_own(city: CityProcess, tmp_path: Path, pin_hash: str) -> None:
    halls = {}
    with psycopg.connect(city.dsn, autocommit=True) as conn:
        for code, seed in (("HALL-A", 1), ("HALL-B", 2), ("HALL-C", 5)):
            hub = Hub(tmp_path / code / "hall.db", make_config(pin_hash))
            d = Driver(hub, at(9, 0, day=WEEK))
            work_days(d, WEEK, 20, per_day=8 + seed, seed=seed)
            halls[code] = (hub, add_hall(conn, code, code), d.now)
    city.start()
    try:
        for code, (hub, key, now) in halls.items():
            while runner(hub, city.url, code, key, now).run_once():
                pass
        with psycopg.connect(city.dsn) as conn:
            ranking = {r["hall"]: r for r in month_ranking(conn, date(2026, 11, 1))}
        total_city = total_halls = 0
        for code, (hub, _key, _now) in halls.items():
            own = figures.report(hub.reader(), hub.config, "2026-11-01", "2026-11-30", by="hall")[0]
            cases = figures.case_rates(hub.reader(), hub.config, "2026-11-01", "2026-11-30", by="hall")[0]
            city_row = ranking[code]
            assert (city_row["finished"], city_row["rated"], city_row["good_rate"], city_row["participation_rate"]) == \
                (own["finished"], own["rated"], own["good_rate"], own["participation_rate"]), code
            assert (city_row["cases"], city_row["callback_rate"], city_row["rectify_rate"]) == \
                (cases["cases"], cases["callback_rate"], cases["rectify_rate"]), code
            total_city += city_row["finished"]
            total_halls += own["finished"]
        assert total_city == total_halls > 0
    finally:
        for hub, _key, _now in halls.values():
            hub.close()
