"""Benchmark: figures on one year of a 150-window hall.

Generates ≥ 3 million finished 办件 (jobs) with ~70 % ratings straight into the real schema
(migrations of hall_server), with the `rollup` table the writer maintains, using executemany in
big transactions (the fast path: it does not go through the handlers — the per-办件 cost of the
writer path, rollup included, is measured separately on a small sample). Then it times, in the
same run:
  - the month report by window from the rollup, and the naive GROUP BY over jobs ⋈ ratings;
  - the hour-of-day heatmap (a month and the year) from the rollup, and naively;
  - the live floor snapshot (150 windows, queues, today's summary) on the last generated day;
  - issue 15: the monthly bulletin (data, PDF by WeasyPrint, XLSX), the weekly one (PDF) and the
    数据大屏's data (`bigscreen.build` over a floor snapshot; today has a full day's tickets), beside
    the month report above. Goals: bulletin ≤ 3 s, big-screen data ≤ 100 ms.
Prints figures; never asserts on time.

    .venv/bin/python bench/figures.py [--per-day 12100] [--db /tmp/bench-figures.db] [--keep]
"""

from __future__ import annotations

import os
import sys

# bench/http.py is named like the standard library's `http` package: drop this folder from the path
# before anything imports `http.client`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import random
import statistics
import time
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.schema import (  # noqa: E402
    Assessment, Category, Hall, HallConfig, RatingPolicy, Service, Session, Staff, Tag, TagList, Thresholds, Window,
)
from hall_server.domain import assessment, bigscreen, bulletins, figures  # noqa: E402
from hall_server.web.pages.bulletin_files import to_pdf, to_xlsx  # noqa: E402
from hall_server.domain.floor_snapshot import build_snapshot  # noqa: E402
from hall_server.core.state import StateMap  # noqa: E402
from hall_server.domain.workdays import is_workday  # noqa: E402
from hall_server.core.migrations import HALL  # noqa: E402
from hall_server.core.store import open_store  # noqa: E402
from hallnet.vocabulary import Msg, NodeKind, node_id  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
WINDOWS = 150
CATS = "ABCDEFGHJK"


def make_config() -> HallConfig:
    cats = tuple(Category(c, f"类别{c}") for c in CATS)
    services = tuple(Service(f"{c}{i:03d}", f"事项{c}{i}", c, random.choice((10, 15, 20, 30)), f"部门{c}")
                     for c in CATS for i in range(8))
    windows = tuple(Window(n, f"{n}号窗口", (CATS[n % len(CATS)], CATS[(n + 3) % len(CATS)])) for n in range(1, WINDOWS + 1))
    staff = tuple(Staff(f"S{n:04d}", "李𠀀" if n == 1 else f"员工{n}", f"部门{CATS[n % len(CATS)]}", None, "scrypt$2$1$1$00$" + "00" * 16)
                  for n in range(1, WINDOWS + 1))
    return HallConfig(
        folder=Path("/nonexistent"),
        hall=Hall("基准大厅", "110105", "11010500001", "Asia/Shanghai",
                  (Session(dtime(9), dtime(12)), Session(dtime(13, 30), dtime(17, 30))), Thresholds(), RatingPolicy(),
                  Assessment()),
        windows=windows, categories=cats, services=services, staff=staff,
        tags=TagList(1, (Tag("N01", "服务态度差", (1, 2)), Tag("N02", "办事效率低", (1, 2)))),
    )


def last_workday() -> date:
    """The bench's "today": the last generated day, so that no rating lies in the future of the
    floor's and the big screen's clock (the alerts count the last hour's ratings by time)."""
    return max(d for d in (date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)) if is_workday(d))


def ms(d: date, h: int, m: int, s: int = 0) -> int:
    return int(datetime.combine(d, dtime(h, m, s), tzinfo=TZ).timestamp() * 1000)


def generate(db, config: HallConfig, per_day: int) -> tuple[int, int]:
    rnd = random.Random(42)
    db.execute("PRAGMA synchronous = OFF")
    svc_by_cat: dict[str, list] = {}
    for s in config.services:
        svc_by_cat.setdefault(s.category, []).append(s)
    days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
    days = [d for d in days if is_workday(d)]
    job_id = rating_id = 0
    minutes = list(range(0, 180)) + list(range(270, 510))     # 09:00–12:00, 13:30–17:30
    levels = [5] * 70 + [4] * 18 + [3] * 7 + [2] * 3 + [1] * 2
    conn = db.conn
    for d in days:
        jobs, ratings_, roll, roll_h = [], [], {}, {}
        day = d.isoformat()
        base = ms(d, 9, 0)
        for _ in range(per_day):
            job_id += 1
            w = rnd.randint(1, WINDOWS)
            win = config.windows[w - 1]
            svc = rnd.choice(svc_by_cat[rnd.choice(win.categories)])
            fin_min = rnd.choice(minutes)
            finished = base + fin_min * 60_000 + rnd.randint(0, 59_999)
            handle = rnd.randint(60_000, 40 * 60_000)
            wait = rnd.randint(0, 45 * 60_000)
            overdue = int(handle > svc.promised_min * 60_000)
            staff_no = f"S{w:04d}"
            started = finished - handle
            rated = rnd.random() < 0.7
            hour = 9 + fin_min // 60
            jobs.append((job_id, f"{job_id:020x}", w, staff_no, svc.department, started, finished, day, svc.code,
                         f"110105{d:%Y%m%d}{job_id:08d}", svc.promised_min, handle, wait, overdue,
                         "rated" if rated else "unrated", finished + 60_000, finished + 7 * 86_400_000))
            rs = []
            for table, key, first in ((roll, (day, w, staff_no, svc.code), [svc.department]), (roll_h, (day, hour, w), [])):
                r = table.get(key)
                if r is None:
                    r = table[key] = first + [0] * 13
                rs.append((r, len(first)))
            level = rnd.choice(levels) if rated else 0
            for r, o in rs:
                r[o] += 1; r[o + 1] += overdue; r[o + 2] += handle; r[o + 3] += 1; r[o + 4] += wait
                r[o + 5] += wait > 30 * 60_000
                if rated:
                    r[o + 6] += 1; r[o + 6 + level] += 1; r[o + 12] += level
            if rated:
                rating_id += 1
                ratings_.append((rating_id, job_id, level, rnd.choice((4, 4, 4, 5, 3)),
                                 '["N01"]' if level < 3 else "[]", finished + rnd.randint(1000, 50_000), w, staff_no,
                                 svc.code))
        with db.atomic():
            conn.executemany(
                "INSERT INTO jobs (id, pub, window, staff_no, department, status, started_ms, finished_ms, day, "
                "service_code, job_no, job_no_source, promised_min, handle_ms, wait_ms, overdue, rating, "
                "rating_expires_ms, qr_expires_ms) VALUES (?, ?, ?, ?, ?, 'finished', ?, ?, ?, ?, ?, 'generated', ?, ?, ?, "
                "?, ?, ?, ?)", jobs)
            conn.executemany(
                "INSERT INTO ratings (id, job_id, round, level, channel, tags, tag_version, at_ms, node, window, "
                "staff_no, service_code) VALUES (?, ?, 1, ?, ?, ?, 1, ?, 'bench', ?, ?, ?)", ratings_)
            metrics = "finished, overdue, handle_ms, wait_n, wait_ms, wait_over, rated, l1, l2, l3, l4, l5, level_sum"
            conn.executemany(
                f"INSERT INTO rollup (day, window, staff_no, service_code, department, {metrics}) "
                f"VALUES ({', '.join('?' * 18)})", [(*k, *v) for k, v in roll.items()])
            conn.executemany(
                f"INSERT INTO rollup_hour (day, hour, window, {metrics}) "
                f"VALUES ({', '.join('?' * 16)})", [(*k, *v) for k, v in roll_h.items()])
    return job_id, rating_id


def live_floor(db, config: HallConfig, now: int) -> None:
    """150 windows in various states, a queue of waiting tickets today."""
    rnd = random.Random(7)
    today = datetime.fromtimestamp(now / 1000, TZ).date().isoformat()
    with db.atomic():
        tid = 0
        for n in range(1, WINDOWS + 1):
            state = rnd.choice(("idle", "calling", "serving", "paused", "closed"))
            ticket = None
            if state in ("calling", "serving"):
                tid += 1
                ticket = tid
                db.execute("INSERT INTO tickets (id, day, category, seq, no, status, window, taken_ms, queued_ms) "
                           "VALUES (?, ?, 'A', ?, ?, ?, ?, ?, ?)",
                           [tid, today, tid, f"A{tid:03d}", "called" if state == "calling" else "serving", n, now, now])
            db.execute("INSERT OR REPLACE INTO windows (number, staff_no, state, since_ms, pause_reason, ticket_id) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [n, None if state == "closed" else f"S{n:04d}", state, now,
                        "午休" if state == "paused" else None, ticket])
        served = []                   # today's tickets already served (the big screen counts them per hour)
        for i in range(12_000):
            tid += 1
            taken = ms(datetime.fromtimestamp(now / 1000, TZ).date(), 9, 0) + i * 2000
            served.append((tid, today, CATS[i % len(CATS)], 5000 + i, f"{CATS[i % len(CATS)]}{5000 + i}", taken, taken))
        db.conn.executemany("INSERT INTO tickets (id, day, category, seq, no, status, taken_ms, queued_ms) "
                            "VALUES (?, ?, ?, ?, ?, 'done', ?, ?)", served)
        for i in range(400):
            tid += 1
            c = CATS[i % len(CATS)]
            db.execute("INSERT INTO tickets (id, day, category, seq, no, status, priority, taken_ms, queued_ms) "
                       "VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?, ?)",
                       [tid, today, c, 1000 + i, f"{c}{1000 + i}", int(i % 17 == 0), now - i * 1000, now - i * 1000])


def writer_sample(config: HallConfig, n: int, path: Path) -> float:
    """ms per 办件 through the real handlers (take, call, start, finish, rate; rollup maintained)."""
    import dataclasses

    from config.pins import hash_pin
    from hall_server.core.hub import Hub

    pin = hash_pin("1234")
    cfg = dataclasses.replace(config, staff=tuple(dataclasses.replace(s, pin_hash=pin) for s in config.staff[:4]))
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    hub = Hub(path, cfg)
    t = ms(date(YEAR, 6, 18), 9, 0)
    for w in range(1, 5):
        hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": f"S{w:04d}", "pin": "1234"}, node_id(NodeKind.TERMINAL, w),
                   now_ms=t)
    t0 = time.perf_counter()
    for i in range(n):
        w = i % 4 + 1
        cat = cfg.windows[w - 1].categories[0]
        svc = next(s.code for s in cfg.services if s.category == cat)
        t += 1000
        terminal = node_id(NodeKind.TERMINAL, w)
        for type_, body, node in ((Msg.QUEUE_TAKE, {"category": cat}, node_id(NodeKind.DISPENSER, 1)),
                                  (Msg.QUEUE_CALL_NEXT, {}, terminal), (Msg.JOB_START, {}, terminal),
                                  (Msg.JOB_FINISH, {"service_code": svc}, terminal),
                                  (Msg.RATING_SUBMIT, {"level": 5}, node_id(NodeKind.KIOSK, w))):
            a = hub.submit(type_, body, node, now_ms=t)
            assert a.ok, (type_, a.error, a.message)
    per = (time.perf_counter() - t0) * 1000 / n
    hub.close()
    return per


def cpu_timed(fn, repeat: int = 3) -> float:
    """Median CPU ms of this process (the machine is shared: wall time swings with the others' load)."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    out = None
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-day", type=int, default=12_100, help="办件 per working day (default: 3 M a year)")
    ap.add_argument("--db", type=Path, default=Path("/tmp/bench-figures.db"))
    ap.add_argument("--keep", action="store_true", help="reuse an existing generated database")
    args = ap.parse_args()
    random.seed(1)
    config = make_config()
    if not (args.keep and args.db.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        db = open_store(args.db, HALL)
        t0 = time.perf_counter()
        n_jobs, n_ratings = generate(db, config, args.per_day)
        gen_s = time.perf_counter() - t0
        now = ms(last_workday(), 10, 30)
        live_floor(db, config, now)
        db.execute("ANALYZE")
        print(f"generated {n_jobs:,} 办件 and {n_ratings:,} ratings in {gen_s:.1f} s "
              f"({n_jobs / gen_s:,.0f} 办件/s, executemany, one transaction per day)")
    else:
        db = open_store(args.db, HALL)
        now = ms(last_workday(), 10, 30)
    counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("jobs", "ratings", "rollup", "rollup_hour")}
    size_mb = args.db.stat().st_size / 1e6
    print(f"rows: {counts}  file: {size_mb:,.0f} MB")

    month = ("2025-06-01", "2025-06-30")
    t_rep, rep = timed(lambda: figures.report(db, config, *month, "window"))
    t_naive, naive = timed(lambda: figures.naive_report_by_window(db, *month), repeat=3)
    same = all(a["finished"] == b["finished"] and a["rated"] == b["rated"] and a["level_sum"] == b["level_sum"]
               for a, b in zip(rep, naive)) and len(rep) == len(naive)
    t_hm, _ = timed(lambda: figures.heatmap(db, *month))
    t_hm_year, _ = timed(lambda: figures.heatmap(db, f"{YEAR}-01-01", f"{YEAR}-12-31"), repeat=3)
    naive_hm = ("SELECT (CAST(strftime('%w', j.day) AS INTEGER) + 6) % 7, "
                "CAST(strftime('%H', j.finished_ms / 1000, 'unixepoch', '+8 hours') AS INTEGER), COUNT(*), "
                "COUNT(r.id), SUM(r.level <= 2) FROM jobs j LEFT JOIN ratings r ON r.job_id = j.id AND r.round = 1 "
                "WHERE j.status = 'finished' AND j.day BETWEEN ? AND ? GROUP BY 1, 2")
    t_hm_naive, _ = timed(lambda: db.execute(naive_hm, list(month)).fetchall(), repeat=3)
    t_assess, _ = timed(lambda: assessment.monthly(db, config, "2025-06"), repeat=3)
    seq, state = StateMap.load(db).snapshot()
    t_snap, snap = timed(lambda: build_snapshot(seq, state, db, config, now, {}), repeat=20)
    t_year, _ = timed(lambda: figures.report(db, config, f"{YEAR}-01-01", f"{YEAR}-12-31", "month"), repeat=3)

    print()
    print(f"{'what':<52}{'median ms':>12}   goal")
    print(f"{'month report by window (rollup)':<52}{t_rep:>12.1f}   ≤ 300")
    print(f"{'month report by window (naive GROUP BY jobs⋈ratings)':<52}{t_naive:>12.1f}")
    print(f"{'  same figures from both':<52}{str(same):>12}")
    print(f"{'hour-of-day heatmap, one month (rollup)':<52}{t_hm:>12.1f}")
    print(f"{'hour-of-day heatmap, one month (naive)':<52}{t_hm_naive:>12.1f}")
    print(f"{'hour-of-day heatmap, whole year (rollup)':<52}{t_hm_year:>12.1f}")
    print(f"{'year report by month (rollup)':<52}{t_year:>12.1f}")
    print(f"{'monthly assessment (windows + staff + lists)':<52}{t_assess:>12.1f}")
    print(f"{'live floor snapshot (150 windows, 400 waiting)':<52}{t_snap:>12.2f}   ≤ 20")
    month_p, week_p = bulletins.period("2025-06"), bulletins.period("2025-W25")
    t_bdata, bdata = timed(lambda: bulletins.build(db, config, month_p, now), repeat=3)
    t_pdf, pdf = timed(lambda: to_pdf(config, bulletins.build(db, config, month_p, now)), repeat=3)
    t_xlsx, _ = timed(lambda: to_xlsx(config, bulletins.build(db, config, month_p, now)), repeat=3)
    t_week, _ = timed(lambda: to_pdf(config, bulletins.build(db, config, week_p, now)), repeat=3)
    c_pdf = cpu_timed(lambda: to_pdf(config, bulletins.build(db, config, month_p, now)))
    bigscreen._month_cache.clear()
    t_big_cold, _ = timed(lambda: (bigscreen._month_cache.clear(), bigscreen.build(db, config, snap)), repeat=5)
    t_big, big = timed(lambda: bigscreen.build(db, config, snap), repeat=20)
    t_big_all, _ = timed(lambda: bigscreen.build(db, config, build_snapshot(seq, state, db, config, now, {})), repeat=20)
    print(f"{'monthly bulletin: data (figures, assessment, reasons)':<52}{t_bdata:>12.1f}")
    print(f"{'monthly bulletin: PDF (data + WeasyPrint, A4)':<52}{t_pdf:>12.1f}   ≤ 3000")
    print(f"{'  the same, CPU ms of this process':<52}{c_pdf:>12.1f}")
    print(f"{'monthly bulletin: XLSX (data + openpyxl)':<52}{t_xlsx:>12.1f}")
    print(f"{'weekly bulletin: PDF':<52}{t_week:>12.1f}   ≤ 3000")
    print(f"{'big screen data (month ranking recomputed)':<52}{t_big_cold:>12.2f}   ≤ 100")
    print(f"{'big screen data (month ranking from its 60 s cache)':<52}{t_big:>12.2f}   ≤ 100")
    print(f"{'big screen data incl. a fresh floor snapshot':<52}{t_big_all:>12.2f}")
    print(f"  PDF {len(pdf) / 1024:,.0f} KiB, {len(bdata['windows'])} windows, {len(bdata['staff'])} staff; "
          f"big screen today: {big['today']['taken']:,} tickets, {big['today']['finished']:,} 办件")
    per = writer_sample(config, 300, args.db.with_name("bench-writer.db"))
    print(f"{'writer path per 办件 (5 commands, each its own commit)':<52}{per:>12.2f}")
    print(f"\nwindows in snapshot: {len(snap.windows)}, waiting: {snap.summary.waiting}")


if __name__ == "__main__":
    main()
