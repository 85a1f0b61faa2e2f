"""Benchmark: the city tier — 30 halls × one year forwarded to PostgreSQL.

Generates each hall's year of records (finished 办件, first-round ratings for ~70 % of them, a
差评 case for each rating of 1–2 stars) month by month, and loads the same rows two ways into two
databases of one throwaway PostgreSQL server (city_server.throwaway_pg, or --dsn):
  - the forwarding path: the city server process (`python -m city_server serve`) and its
    `POST /ingest`, in batches of 1000 outbox entries (what a hall's forwarder sends), 4 halls at a
    time with each hall's key — per-hall cursor, validation, upserts, partitions on the way;
  - PostgreSQL's own COPY of the same rows into the same tables (binary-free text COPY through
    psycopg 3), one hall-month per transaction.
Only the loading is timed on both sides (making the rows and encoding the JSON batches is not).
Then it times the city's monthly ranking (city_server.figures.month_ranking, as the ranking page
and the bulletin read it) beside a naive GROUP BY over the raw tables (the month chosen by
`to_char(day)`, so every partition is scanned, and ratings joined to 办件 without the month).
Prints figures; never asserts on time.

The issue's figure is ≥ 20 M 办件 (30 halls × 365 days × ~1830 a day: `--per-day 1830`, hours and
tens of GB on this 2-core machine); the default `--per-day 40` makes ~440 k 办件 in a few minutes.

    .venv/bin/python bench/city.py [--halls 30] [--days 365] [--per-day 40] [--dsn DSN]
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))     # bench/http.py shadows the standard `http`
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import http.client
import json
import random
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from city_server.figures import month_ranking  # noqa: E402
from city_server.halls import add_hall  # noqa: E402
from city_server.ingest import _COLUMNS  # noqa: E402
from city_server.records import Case, Job, Rating  # noqa: E402
from city_server.store import ensure_partitions, migrate  # noqa: E402
from city_server.throwaway_pg import ThrowawayPg  # noqa: E402
from hallnet.vocabulary import Channel  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
BATCH = 1000
HOUR_MS = 3_600_000


def month_of(first: date, days: int) -> list[tuple[date, int]]:
    """(first day of month, number of days of the run in it), in order."""
    out: dict[date, int] = {}
    for d in range(days):
        day = first + timedelta(days=d)
        out[day.replace(day=1)] = out.get(day.replace(day=1), 0) + 1
    return list(out.items())


class HallGen:
    """One hall's records, in the order its outbox lists them (ids grow like the hall's own)."""

    def __init__(self, code: str, seed: int, per_day: int) -> None:
        self.code, self.per_day = code, per_day
        self.rng = random.Random(seed)
        self.job_id = self.rating_id = self.case_id = self.seq = 0

    def month(self, first: date, ndays: int, start_day: date) -> list[dict[str, Any]]:
        rng, entries = self.rng, []
        for d in range(ndays):
            day = max(first, start_day) + timedelta(days=d)
            base = int(datetime(day.year, day.month, day.day, 9, tzinfo=TZ).timestamp() * 1000)
            for i in range(self.per_day):
                self.job_id += 1
                window = 1 + i % 20
                started = base + int(i * 8 * HOUR_MS / self.per_day)
                handle = rng.randint(120_000, 1_500_000)
                job = {"id": self.job_id, "pub": f"{self.code[-2:]}{self.job_id:010d}", "window": window,
                       "staff_no": f"{1000 + window}", "department": "D01", "service_code": f"S{rng.randint(1, 40):03d}",
                       "job_no": None, "day": day.isoformat(), "started_ms": started, "finished_ms": started + handle,
                       "handle_ms": handle, "wait_ms": rng.randint(0, 1_800_000), "overdue": handle > 1_400_000,
                       "promised_min": 20}
                self._add(entries, "job", job)
                if rng.random() < 0.7:
                    self.rating_id += 1
                    level = rng.choice((5, 5, 5, 5, 4, 4, 3, 2, 1))
                    at = started + handle + 30_000
                    rating = {"id": self.rating_id, "job_id": self.job_id, "round": 1, "level": level,
                              "channel": Channel.KIOSK, "tags": ["N01"] if level <= 2 else [], "text": "", "is_default": False,
                              "at_ms": at, "day": day.isoformat(), "window": window, "staff_no": job["staff_no"],
                              "service_code": job["service_code"]}
                    self._add(entries, "rating", rating)
                    if level <= 2:
                        self.case_id += 1
                        done = rng.random() < 0.8
                        case = {"id": self.case_id, "kind": "bad_rating", "rating_id": self.rating_id,
                                "job_id": self.job_id, "window": window, "staff_no": job["staff_no"], "opened_ms": at,
                                "day": day.isoformat(), "callback_due_ms": at + 24 * HOUR_MS,
                                "rectify_due_ms": at + 120 * HOUR_MS, "callback_ms": at + HOUR_MS if done else None,
                                "rectified_ms": at + 48 * HOUR_MS if done else None,
                                "status": "closed" if done else "open", "appeal": "none", "excluded": False,
                                "callback_overdue": 0, "rectify_overdue": 0 if done else 1}
                        self._add(entries, "case", case)
        return entries

    def _add(self, entries: list[dict[str, Any]], stream: str, record: dict[str, Any]) -> None:
        self.seq += 1
        entries.append({"seq": self.seq, "stream": stream, "record": record})


def batches(code: str, entries: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps({"hall": code, "entries": entries[i:i + BATCH]}, ensure_ascii=False).encode("utf-8")
            for i in range(0, len(entries), BATCH)]


class Poster:
    """One keep-alive HTTP connection per thread to the city's /ingest."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.retries = 0

    def post_all(self, key: str, bodies: list[bytes]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        sent = 0
        try:
            for body in bodies:
                while True:
                    conn.request("POST", "/ingest", body=body, headers={
                        "Content-Type": "application/json", "Authorization": f"Bearer {key}"})
                    resp = conn.getresponse()
                    answer = resp.read()
                    if resp.status == 429:
                        self.retries += 1
                        time.sleep(0.2)
                        continue
                    if resp.status != 200:
                        raise RuntimeError(f"/ingest answered {resp.status}: {answer[:300]!r}")
                    sent += json.loads(answer)["applied"]
                    break
        finally:
            conn.close()
        return sent


_TYPES = {"job": Job, "rating": Rating, "case": Case}


def copy_rows(conn: psycopg.Connection, code: str, entries: list[dict[str, Any]]) -> float:
    """COPY the entries' rows (tuples made before the clock starts); returns the seconds COPY took."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for e in entries:
        table, cols, _key = _COLUMNS[_TYPES[e["stream"]]]
        rec = e["record"]
        tables.setdefault(table, []).append((code, *(json.dumps(rec[c]) if c == "tags" else rec[c] for c in cols)))
    t0 = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        for table, rows in tables.items():
            cols = _COLUMNS[{"jobs": Job, "ratings": Rating, "cases": Case}[table]][1]
            names = ", ".join(f'"{c}"' for c in ("hall", *cols))
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
    return time.perf_counter() - t0


NAIVE = """
SELECT j.hall, count(DISTINCT j.id) AS finished,
       count(r.id) FILTER (WHERE r.round = 1 AND NOT r.is_default) AS rated,
       count(r.id) FILTER (WHERE r.round = 1 AND NOT r.is_default AND r.level >= 3) AS good,
       (SELECT count(*) FROM cases c WHERE c.hall = j.hall AND c.kind = 'bad_rating'
            AND to_char(c.day, 'YYYY-MM') = %(m)s) AS cases,
       (SELECT count(callback_ms) FROM cases c WHERE c.hall = j.hall AND c.kind = 'bad_rating'
            AND to_char(c.day, 'YYYY-MM') = %(m)s) AS called_back
FROM jobs j LEFT JOIN ratings r ON r.hall = j.hall AND r.job_id = j.id
WHERE to_char(j.day, 'YYYY-MM') = %(m)s GROUP BY j.hall"""


def timed(fn: Any, n: int = 3) -> float:
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> int:
    p = argparse.ArgumentParser(prog="bench/city.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--halls", type=int, default=30)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--per-day", type=int, default=40, help="办件 per hall per day (the issue's scale: 1830)")
    p.add_argument("--first", default="2026-01-01", help="first day (YYYY-MM-DD)")
    p.add_argument("--threads", type=int, default=4, help="halls posting at once")
    p.add_argument("--dsn", help="a PostgreSQL server to create the two databases on (default: a throwaway one)")
    args = p.parse_args()
    first = date.fromisoformat(args.first)
    pg = None if args.dsn else ThrowawayPg(port=random.randint(20000, 60000)).start()
    server_dsn = args.dsn or pg.dsn          # type: ignore[union-attr]
    dbs = {"ingest": "bench_city_ingest", "copy": "bench_city_copy"}
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        for name in dbs.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    dsn = {k: " ".join([*(x for x in server_dsn.split() if not x.startswith("dbname=")), f"dbname={v}"])
           for k, v in dbs.items()}
    codes = [f"HALL-{i + 1:02d}" for i in range(args.halls)]
    keys: dict[str, str] = {}
    for which in ("ingest", "copy"):
        with psycopg.connect(dsn[which], autocommit=True) as conn:
            migrate(conn)
            for code in codes:
                keys[code] = add_hall(conn, code, f"第{code[-2:]}政务服务中心") if which == "ingest" else keys[code]
            if which == "copy":
                ensure_partitions(conn, {m for m, _n in month_of(first, args.days)})
    port = 20000 + random.randint(0, 9999)
    log = tempfile.TemporaryFile()          # the city server's log (read it by running it yourself)
    city = subprocess.Popen([sys.executable, "-m", "city_server", "serve", "--dsn", dsn["ingest"], "--http",
                             f"127.0.0.1:{port}"], cwd=ROOT, stdout=log, stderr=log,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        gens = {code: HallGen(code, i, args.per_day) for i, code in enumerate(codes)}
        ingest_s = copy_s = gen_s = 0.0
        records = jobs = 0
        poster = Poster(port)
        copy_conn = psycopg.connect(dsn["copy"])
        print(f"city bench: {args.halls} halls × {args.days} days × {args.per_day} 办件/day, batches of {BATCH}",
              flush=True)
        for month, ndays in month_of(first, args.days):
            t0 = time.perf_counter()
            work = {code: gens[code].month(month, ndays, first) for code in codes}
            bodies = {code: batches(code, entries) for code, entries in work.items()}
            gen_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                applied = sum(pool.map(lambda c: poster.post_all(keys[c], bodies[c]), codes))
            ingest_s += time.perf_counter() - t0
            n = sum(len(e) for e in work.values())
            assert applied == n, (applied, n)
            for code, entries in work.items():
                copy_s += copy_rows(copy_conn, code, entries)
            records += n
            jobs += sum(1 for e in work.values() for x in e if x["stream"] == "job")
            print(f"  {month:%Y-%m}: {records:,} records so far; /ingest {records / ingest_s:,.0f}/s, "
                  f"COPY {records / copy_s:,.0f}/s", flush=True)
        copy_conn.close()
        mid = month_of(first, args.days)[len(month_of(first, args.days)) // 2][0]
        with psycopg.connect(dsn["ingest"], autocommit=True) as conn:
            conn.execute("ANALYZE")
            counts = conn.execute("SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM ratings), "
                                  "(SELECT count(*) FROM cases)").fetchone()
            size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
            ranking_s = timed(lambda: month_ranking(conn, mid))
            naive_s = timed(lambda: conn.execute(NAIVE, {"m": f"{mid:%Y-%m}"}).fetchall())
            fast = {r["hall"]: (r["finished"], r["rated"], r["good"], r["cases"]) for r in month_ranking(conn, mid)}
            slow = {r[0]: (r[1], r[2], r[3], r[4]) for r in conn.execute(NAIVE, {"m": f"{mid:%Y-%m}"})}
        print()
        print(f"rows: {counts[0]:,} 办件, {counts[1]:,} ratings, {counts[2]:,} cases ({records:,} outbox entries), "
              f"database {size}; making the rows and JSON (not timed): {gen_s:.1f} s")
        print(f"ingest through POST /ingest: {records / ingest_s:,.0f} records/s ({ingest_s:.1f} s, "
              f"{poster.retries} rate-limit retries)")
        print(f"PostgreSQL COPY, same rows:  {records / copy_s:,.0f} records/s ({copy_s:.1f} s)")
        print(f"  /ingest is {100 * copy_s / ingest_s:.0f} % of COPY (goal ≥ 30 %)")
        print(f"monthly ranking {mid:%Y-%m} (month_ranking): {ranking_s * 1000:.0f} ms median of 3 (goal ≤ 1 s)")
        print(f"naive GROUP BY over the raw tables:        {naive_s * 1000:.0f} ms median of 3")
        print(f"  the two agree on 办件/rated/good/cases per hall: {fast == slow}")
    finally:
        city.terminate()
        city.wait(10)
        log.close()
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
