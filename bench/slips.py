"""Slips benchmark (issue #11's slip and token work), each figure beside its baseline in the same run.

  writer   applying `slip.fetch` and `rating.link` through the one writer, first and resent (same
           node and id): time and SQL statements per message, with the token-free `applied` reply
           (`hall_server.domain.token_replies`) against the same hub build keeping the reply whole
           (the redaction switched off) — what the redaction and the rebuild on a resend cost
  floor    the managers' floor alerts (`alerts.floor_alerts`) over a store holding a year of slips
           (DAYS × PER_DAY, 1 % failed), with the slip alerts against without them; and the tick's
           stuck-print query (`slips.expire_stuck`)
  printer  printing one slip to a network printer (`socket://`, the printer simulator's TCP port on
           loopback) with the status check before and after (DLE EOT 1, 2, 4) against without it,
           and to a printer that does not answer status (the time until 未确认)

Prints figures; never fails on time.

    .venv/bin/python bench/slips.py [--jobs 200] [--days 365] [--per-day 500] [--prints 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.loader import load_hall  # noqa: E402
from devices.printer.port import print_to  # noqa: E402
from devices.printer.receipts import Slip, slip_bytes  # noqa: E402
from devices.printer.simulator import PrinterSimulator  # noqa: E402
from hall_server.core.hub import Hub  # noqa: E402
from hall_server.domain import alerts, slips, token_replies  # noqa: E402
from hall_server.domain.context import Context  # noqa: E402
from hall_server.domain.hours import day_of  # noqa: E402
from hallnet.messages import Envelope  # noqa: E402
from hallnet.vocabulary import Msg  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "config" / "examples" / "demo-hall"


@contextmanager
def redaction(on: bool) -> Iterator[None]:
    saved = token_replies.redact, token_replies.restore
    if not on:
        token_replies.redact = lambda result: result                          # type: ignore[assignment]
        token_replies.restore = lambda db, config, secret, stored: stored     # type: ignore[assignment]
    try:
        yield
    finally:
        token_replies.redact, token_replies.restore = saved


class Statements:
    def __init__(self, hub: Hub) -> None:
        self.n = 0
        hub.db.conn.set_trace_callback(self._count)

    def _count(self, _sql: str) -> None:
        self.n += 1


def finished_jobs(hub: Hub, count: int, now_ms: int) -> list[str]:
    hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2101", "pin": "1234"}, "terminal-1", now_ms=now_ms)
    service = next(s.code for s in hub.config.services if s.category == "H")
    pubs = []
    for _ in range(count):
        hub.submit(Msg.QUEUE_TAKE, {"category": "H"}, "dispenser-1", now_ms=now_ms)
        hub.submit(Msg.QUEUE_CALL_NEXT, {}, "terminal-1", now_ms=now_ms)
        hub.submit(Msg.JOB_START, {}, "terminal-1", now_ms=now_ms)
        pubs.append(hub.submit(Msg.JOB_FINISH, {"service_code": service}, "terminal-1", now_ms=now_ms).result["job"])
    return pubs


def writer_figures(folder: Path, jobs: int, on: bool) -> dict[str, float]:
    config = load_hall(DEMO)
    hub = Hub(folder / f"{'on' if on else 'off'}-{time.monotonic_ns()}" / "hall.db", config)
    now_ms = hub.clock()
    now_ms = now_ms - now_ms % 86_400_000 + 2 * 3_600_000        # 10:00 in the hall (UTC+8)
    try:
        pubs = finished_jobs(hub, jobs, now_ms)
        print_ids = [r[0] for r in hub.db.execute("SELECT id FROM slips ORDER BY id")]
        envs = [Envelope(type=Msg.SLIP_FETCH, node="gateway-1", seq=i, body={"print_id": p})
                for i, p in enumerate(print_ids)]
        envs += [Envelope(type=Msg.RATING_LINK, node="kiosk-1", seq=i, body={"job": pub}) for i, pub in enumerate(pubs)]
        counter = Statements(hub)
        out: dict[str, float] = {}
        with redaction(on):
            for label in ("first", "resend"):
                counter.n = 0
                times = []
                for env in envs:
                    t0 = time.perf_counter()
                    (a,) = hub.apply([env], now_ms)
                    times.append(time.perf_counter() - t0)
                    assert a.ok and a.result.get("qr_path"), (a.error, a.message)
                out[f"{label}_us"] = statistics.median(times) * 1e6
                out[f"{label}_sql"] = counter.n / len(envs)
        stored = b"".join(r[0] for r in hub.db.execute("SELECT result FROM applied WHERE type IN "
                                                        "(Msg.SLIP_FETCH, Msg.RATING_LINK)"))
        out["links_at_rest"] = stored.count(b"/r/")
        return out
    finally:
        hub.close()


def year_of_slips(hub: Hub, days: int, per_day: int, today_ms: int) -> None:
    """DAYS × PER_DAY finished jobs with one slip each (1 % failed, the rest printed), the last day today."""
    db = hub.db.conn
    db.execute("BEGIN")                       # one transaction (the store's connection autocommits)
    for d in range(days):
        at_ms = today_ms - (days - 1 - d) * 86_400_000
        day = day_of(at_ms, hub.config)
        db.executemany("INSERT INTO jobs (pub, window, staff_no, status, started_ms, finished_ms, day, job_no, "
                       "rating) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(f"bench{d:04d}{i:05d}0000000", 1, "HC2101", "finished", at_ms, at_ms, day,
                         f"B{d:04d}-{i:05d}", "rated") for i in range(per_day)])
        first = db.execute("SELECT MAX(id) FROM jobs").fetchone()[0] - per_day + 1
        db.executemany("INSERT INTO slips (window, job_id, reason, state, error, created_ms, fetched_ms, done_ms) "
                       "VALUES (1, ?, 'first', ?, ?, ?, ?, ?)",
                       [(first + i, "failed" if i % 100 == 0 else "printed", "no_paper" if i % 100 == 0 else None,
                         at_ms, at_ms, at_ms) for i in range(per_day)])
    db.execute("COMMIT")
    db.execute("ANALYZE")


def floor_figures(folder: Path, days: int, per_day: int) -> dict[str, float]:
    config = load_hall(DEMO)
    hub = Hub(folder / "floor" / "hall.db", config)
    try:
        today_ms = hub.clock()
        year_of_slips(hub, days, per_day, today_ms)
        reader = hub.reader()
        with_slips = lambda: alerts.floor_alerts(reader, config, today_ms, (), (), {})   # noqa: E731
        saved = alerts.slip_alerts
        found = len([a for a in with_slips() if a.kind.startswith("slip_")])
        t_with = timed(with_slips)
        alerts.slip_alerts = lambda db, day: []                                          # type: ignore[assignment]
        try:
            t_without = timed(with_slips)
        finally:
            alerts.slip_alerts = saved
        ctx = Context(db=hub.db, config=config, node="system", now_ms=today_ms, msg_id="bench")
        t_tick = timed(lambda: slips.expire_stuck(ctx))
        rows = hub.db.execute("SELECT COUNT(*) FROM slips").fetchone()[0]
        return {"with_ms": t_with * 1e3, "without_ms": t_without * 1e3, "tick_ms": t_tick * 1e3,
                "slips": rows, "alerts": found}
    finally:
        hub.close()


def timed(fn: Any, rounds: int = 30) -> float:
    fn()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def printer_figures(prints: int) -> dict[str, float]:
    from datetime import datetime
    data = slip_bytes(Slip("威海市环翠区政务服务中心", "1号窗口", "社保卡申领", "SB20261123-0457", datetime(2026, 11, 23, 10),
                           "http://192.168.1.10:8080/r/" + "x" * 80))
    out: dict[str, float] = {}
    with PrinterSimulator(idle_flush_s=0.2, tcp=True) as sim:
        for label, check in (("checked", True), ("unchecked", False)):
            times = []
            for _ in range(prints):
                t0 = time.perf_counter()
                print_to(sim.path, 9600, data, check=check, status_timeout_s=0.5)
                times.append(time.perf_counter() - t0)
            out[f"{label}_ms"] = statistics.median(times) * 1e3
        sim.set_status_replies(False)
        t0 = time.perf_counter()
        print_to(sim.path, 9600, data, status_timeout_s=0.5)
        out["silent_ms"] = (time.perf_counter() - t0) * 1e3
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--per-day", type=int, default=500)
    p.add_argument("--prints", type=int, default=40)
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-slips-") as tmp:
        folder = Path(tmp)
        runs = [writer_figures(folder, args.jobs, on) for on in (False, True, False, True)]   # interleaved
        off, on = ({k: min(r[k] for r in runs[i::2]) for k in runs[i]} for i in (0, 1))
        print(f"writer ({args.jobs} slip.fetch + {args.jobs} rating.link, one message per batch, synchronous=FULL; "
              f"median per message, the better of 2 interleaved runs each):")
        for label in ("first", "resend"):
            print(f"  {label:6}  token-free applied: {on[f'{label}_us']:7.0f} µs, {on[f'{label}_sql']:4.1f} SQL/msg"
                  f"   |  baseline (reply kept whole): {off[f'{label}_us']:7.0f} µs, {off[f'{label}_sql']:4.1f} SQL/msg")
        print(f"  links at rest in applied: {on['links_at_rest']} (baseline: {off['links_at_rest']})")
        fl = floor_figures(folder, args.days, args.per_day)
        print(f"floor alerts over {fl['slips']:,.0f} slips ({args.days} days × {args.per_day}, 1 % failed; "
              f"{fl['alerts']:.0f} slip alerts today): with slip alerts {fl['with_ms']:.2f} ms"
              f"  |  baseline without {fl['without_ms']:.2f} ms;  tick's stuck-print query {fl['tick_ms']:.3f} ms")
        pr = printer_figures(args.prints)
        print(f"network printer (TCP on loopback, median of {args.prints}): with status before and after "
              f"{pr['checked_ms']:.1f} ms/slip  |  baseline without {pr['unchecked_ms']:.1f} ms/slip;  "
              f"a printer that does not answer: {pr['silent_ms']:.0f} ms until 未确认 (2 × the 0.5 s status timeout)")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
