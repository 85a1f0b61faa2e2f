"""`python -m hall_server.traffic`: simulated people for the demo hall, acting through real nodes.

Citizens arrive along a daily curve (morning and afternoon peaks) and take tickets at the
dispenser; staff sign in at their window terminals (some late), call, serve for a realistic share
of each 事项's promised time, finish, pause for lunch and now and then for a few minutes, and sign
out (some early); citizens rate on the window's evaluator with a realistic mix, some 差评 with
reasons, some not at all. Every command goes through the hall server's bus as a real node with
its durable outbox. Runs on the same demo clock as the server (same --clock-* flags).

Every rating it gives is written to --log as a JSON line, so a test can check that the hall server
recorded exactly those.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from config.schema import HallConfig, Window
from hall_server.clock import BadClock, Clock
from hallnet.client import HallClient, NotDelivered
from hallnet.keys import load_node_keys

log = logging.getLogger("traffic")

LEVEL_MIX = ((5, 0.60), (4, 0.21), (3, 0.09), (2, 0.06), (1, 0.04))
RATED_SHARE = 0.72
PAUSE_REASONS_SHORT = ("临时离开", "业务咨询")
MIN_MS = 60_000


@dataclass(order=True)
class _Event:
    at_ms: int
    n: int
    action: Callable[[], None] = field(compare=False)


@dataclass
class _Desk:
    window: Window
    staff_no: str
    signed_in: bool = False
    paused: bool = False
    busy: bool = False           # calling or serving
    pending_pause: str | None = None


def node_ids(config: HallConfig) -> list[str]:
    """Every node the traffic simulator speaks as (the demo registers their keys)."""
    ids = ["dispenser-1"]
    for w in config.windows:
        ids += [f"terminal-{w.number}", f"kiosk-{w.number}"]
    return ids


class Traffic:
    def __init__(self, config: HallConfig, bus: str, keys_dir: Path, data_dir: Path, clock: Clock,
                 seed: int = 1, log_path: Path | None = None, arrivals_per_window_day: float = 45.0,
                 staffed_share: float = 0.85, rated_share: float = RATED_SHARE,
                 channel_for: Callable[[int], str] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(config.hall.timezone)
        self.arrivals_per_window_day = arrivals_per_window_day
        self.rated_share = rated_share
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.clients: dict[str, HallClient] = {}
        for node in node_ids(config):
            self.clients[node] = HallClient(node, bus, load_node_keys(keys_dir, node), data_dir / f"{node}.db",
                                            subscribe=False)
        windows = list(config.windows)
        staff = list(config.staff)
        self.rng.shuffle(staff)
        staffed = windows[: max(1, round(len(windows) * staffed_share))]
        self.desks = {w.number: _Desk(w, s.staff_no) for w, s in zip(staffed, staff)}
        self.channel_for = channel_for or (lambda window: f"kiosk-{window}")
        self._events: list[_Event] = []
        self._n = 0
        self._stop = threading.Event()
        self.counts = {"tickets": 0, "jobs": 0, "ratings": 0, "bad": 0, "refused": 0, "undelivered": 0}

    # --- scheduling ---------------------------------------------------------------------------------

    def at(self, when_ms: int, action: Callable[[], None]) -> None:
        self._n += 1
        heapq.heappush(self._events, _Event(when_ms, self._n, action))

    def after(self, delay_ms: float, action: Callable[[], None]) -> None:
        self.at(self.clock() + int(delay_ms), action)

    def run(self, until_ms: int | None = None) -> None:
        for c in self.clients.values():
            c.start()
        self._plan_day(self.clock())
        while not self._stop.is_set() and self._events:
            ev = self._events[0]
            if until_ms is not None and ev.at_ms > until_ms:
                break
            wait_ms = (ev.at_ms - self.clock()) / self.clock.speed
            if wait_ms > 0:
                self._stop.wait(min(wait_ms / 1000, 0.5))
                continue
            heapq.heappop(self._events)
            try:
                ev.action()
            except NotDelivered as exc:
                self.counts["undelivered"] += 1
                log.warning("not delivered in time (still queued): %s", exc)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for c in self.clients.values():
            c.stop()
        if self.log_file:
            self.log_file.close()

    # --- the day ------------------------------------------------------------------------------------

    def _local(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, self.tz)

    def _ms(self, dt: datetime) -> int:
        return int(dt.timestamp() * 1000)

    def _plan_day(self, now_ms: int) -> None:
        """Schedule one hall day: today's if it has not ended, else tomorrow's; then the next."""
        sessions = self.config.hall.sessions
        day = self._local(now_ms).date()
        end = datetime.combine(day, sessions[-1].end, self.tz)
        if self._ms(end) < now_ms:
            day = day + timedelta(days=1)
        opens = [datetime.combine(day, s.start, self.tz) for s in sessions]
        closes = [datetime.combine(day, s.end, self.tz) for s in sessions]
        rng = self.rng
        for desk in self.desks.values():
            sign_in = opens[0] - timedelta(minutes=rng.uniform(2, 15))
            if rng.random() < 0.15:
                sign_in = opens[0] + timedelta(minutes=rng.uniform(1, 20))      # 迟到
            self.at(max(now_ms, self._ms(sign_in)), lambda d=desk: self._sign_in(d))
            for start, end_ in zip(closes[:-1], opens[1:]):                       # lunch
                self.at(self._ms(start), lambda d=desk: self._pause(d, "午休"))
                self.at(self._ms(end_ + timedelta(minutes=rng.uniform(-5, 8))), lambda d=desk: self._resume(d))
            for _ in range(rng.choice((0, 1, 1, 2))):                           # a short absence
                s = rng.randrange(len(sessions))
                t = opens[s] + (closes[s] - opens[s]) * rng.uniform(0.1, 0.8)
                minutes = 40 if rng.random() < 0.08 else rng.uniform(3, 12)       # sometimes 离岗
                self.at(self._ms(t), lambda d=desk: self._pause(d, rng.choice(PAUSE_REASONS_SHORT)))
                self.at(self._ms(t + timedelta(minutes=minutes)), lambda d=desk: self._resume(d))
            sign_out = closes[-1] + timedelta(minutes=rng.uniform(0, 8))
            if rng.random() < 0.1:
                sign_out = closes[-1] - timedelta(minutes=rng.uniform(5, 20))     # 早退
            self.at(self._ms(sign_out), lambda d=desk: self._sign_out(d))
        for open_, close in zip(opens, closes):
            self._plan_arrivals(max(now_ms, self._ms(open_) - 10 * MIN_MS), self._ms(close) - 15 * MIN_MS)
        self.at(self._ms(closes[-1]) + 30 * MIN_MS, lambda: self._plan_day(self.clock()))
        log.info("planned %s: %d staffed windows", day, len(self.desks))

    def _plan_arrivals(self, start_ms: int, end_ms: int) -> None:
        """Poisson arrivals whose rate peaks an hour into each session."""
        if end_ms <= start_ms:
            return
        day_min = sum((datetime.combine(datetime.min, s.end) - datetime.combine(datetime.min, s.start)).seconds / 60
                      for s in self.config.hall.sessions)
        base_per_min = self.arrivals_per_window_day * len(self.config.windows) / day_min
        t = start_ms
        span = end_ms - start_ms
        while True:
            t += int(self.rng.expovariate(base_per_min * 1.6) * MIN_MS)
            if t >= end_ms:
                break
            x = (t - start_ms) / span                          # thinning: a hump early in the session
            if self.rng.random() < 0.35 + 0.65 * max(0.0, 1 - abs(x - 0.3) / 0.7):
                self.at(t, self._arrive)

    # --- people -----------------------------------------------------------------------------------

    def _call(self, node: str, type_: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.clients[node].call(type_, body, timeout_s=60)
        if not answer.get("ok"):
            self.counts["refused"] += 1
            log.debug("%s %s refused: %s %s", node, type_, answer.get("error"), answer.get("message"))
        return answer

    def _arrive(self) -> None:
        weights: dict[str, int] = {}
        for desk in self.desks.values():
            for c in desk.window.categories:
                weights[c] = weights.get(c, 0) + 1
        if not weights:
            return
        cats, w = zip(*sorted(weights.items()))
        category = self.rng.choices(cats, weights=w)[0]
        body: dict[str, Any] = {"category": category}
        r = self.rng.random()
        if r < 0.06:
            body["priority"] = "elderly"
        elif r < 0.10:
            body["priority"] = "appointment"
        if self._call("dispenser-1", "queue.take", body).get("ok"):
            self.counts["tickets"] += 1
            self._wake_idle_desks()

    def _wake_idle_desks(self) -> None:
        for desk in self.desks.values():
            if desk.signed_in and not desk.paused and not desk.busy:
                desk.busy = True
                self.after(self.rng.uniform(5, 40) * 1000, lambda d=desk: self._call_next(d))

    def _sign_in(self, desk: _Desk) -> None:
        if self._call(f"terminal-{desk.window.number}", "window.sign_in",
                      {"staff_no": desk.staff_no, "pin": "1234"}).get("ok"):
            desk.signed_in = True
            desk.busy = False
            self._wake_idle_desks()

    def _sign_out(self, desk: _Desk) -> None:
        if desk.busy:
            self.after(2 * MIN_MS, lambda: self._sign_out(desk))
            return
        if self._call(f"terminal-{desk.window.number}", "window.sign_out", {}).get("ok"):
            desk.signed_in = False

    def _pause(self, desk: _Desk, reason: str) -> None:
        if not desk.signed_in or desk.paused:
            return
        if desk.busy:
            desk.pending_pause = reason
            return
        if self._call(f"terminal-{desk.window.number}", "window.pause", {"reason": reason}).get("ok"):
            desk.paused = True

    def _resume(self, desk: _Desk) -> None:
        desk.pending_pause = None
        if desk.paused and self._call(f"terminal-{desk.window.number}", "window.resume", {}).get("ok"):
            desk.paused = False
            self._wake_idle_desks()

    def _call_next(self, desk: _Desk) -> None:
        if not desk.signed_in or desk.paused:
            desk.busy = False
            return
        terminal = f"terminal-{desk.window.number}"
        answer = self._call(terminal, "queue.call_next", {})
        if not answer.get("ok"):
            desk.busy = False
            return
        if self.rng.random() < 0.04:                        # nobody comes: recall twice, then no-show
            self.after(60_000, lambda: self._call(terminal, "queue.recall", {}))
            self.after(120_000, lambda: self._no_show(desk))
            return
        self.after(self.rng.uniform(20, 90) * 1000, lambda: self._start(desk))

    def _no_show(self, desk: _Desk) -> None:
        self._call(f"terminal-{desk.window.number}", "queue.no_show", {})
        self._next_or_rest(desk)

    def _start(self, desk: _Desk) -> None:
        terminal = f"terminal-{desk.window.number}"
        if not self._call(terminal, "job.start", {}).get("ok"):
            self._next_or_rest(desk)
            return
        services = [s for s in self.config.services if s.category in desk.window.categories]
        service = self.rng.choice(services)
        handle_ms = service.promised_min * MIN_MS * min(1.4, self.rng.lognormvariate(-0.7, 0.45))
        self.after(max(60_000, handle_ms), lambda: self._finish(desk, service.code))

    def _finish(self, desk: _Desk, service_code: str) -> None:
        n = desk.window.number
        answer = self._call(f"terminal-{n}", "job.finish", {"service_code": service_code})
        if answer.get("ok"):
            self.counts["jobs"] += 1
            job = answer["result"]["job"]
            if self.rng.random() < self.rated_share:
                self.after(self.rng.uniform(4, 25) * 1000, lambda: self._rate(n, job))
        self._next_or_rest(desk)

    def _next_or_rest(self, desk: _Desk) -> None:
        desk.busy = False
        if desk.pending_pause:
            reason, desk.pending_pause = desk.pending_pause, None
            self._pause(desk, reason)
        if desk.signed_in and not desk.paused:
            desk.busy = True
            self.after(self.rng.uniform(10, 40) * 1000, lambda: self._call_next(desk))

    def _rate(self, window: int, job: Any) -> None:
        levels, weights = zip(*LEVEL_MIX)
        level = self.rng.choices(levels, weights=weights)[0]
        tags = [t.code for t in self.config.tags.for_level(level)]
        chosen = self.rng.sample(tags, k=min(len(tags), self.rng.choice((1, 1, 2)))) if (
            level <= 2 or (tags and self.rng.random() < 0.3)) else []
        node = self.channel_for(window)
        body: dict[str, Any] = {"job": job, "level": level, "tags": chosen}
        if level <= 2 and self.rng.random() < 0.5:
            body["phone"] = f"139{self.rng.randrange(10**8):08d}"
        answer = self._call(node, "rating.submit", body)
        if answer.get("ok"):
            self.counts["ratings"] += 1
            self.counts["bad"] += level <= 2
        if self.log_file:
            self.log_file.write(json.dumps({"job": job, "window": window, "level": level, "tags": chosen,
                                            "node": node, "ok": bool(answer.get("ok")),
                                            "error": answer.get("error", "")}, ensure_ascii=False) + "\n")
            self.log_file.flush()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hall_server.traffic", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", required=True, help="hall configuration folder")
    p.add_argument("--bus", metavar="HOST:PORT", required=True, help="the hall server's bus")
    p.add_argument("--keys", metavar="DIR", required=True, help="folder with the nodes' key files and server.key")
    p.add_argument("--data", metavar="DIR", required=True, help="folder for the nodes' outboxes")
    p.add_argument("--log", metavar="FILE", help="write every rating given as a JSON line here")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--clock-start", metavar="ISO", help="the demo clock's start (as given to the server)")
    p.add_argument("--clock-speed", metavar="N", type=float, default=1.0, help="the demo clock's speed-up")
    p.add_argument("--clock-anchor", metavar="EPOCH_S", type=float, help="the demo clock's anchor")
    p.add_argument("--arrivals", metavar="N", type=float, default=45.0,
                   help="citizens per window per day (default 45)")
    p.add_argument("--until", metavar="ISO", help="stop at this (simulated) time")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s traffic: %(message)s")
    from config.errors import ConfigError
    from config.loader import load_hall

    try:
        config = load_hall(args.config)
        clock = Clock.parse(args.clock_start, args.clock_speed, args.clock_anchor)
        until = int(datetime.fromisoformat(args.until).timestamp() * 1000) if args.until else None
    except (ConfigError, BadClock, ValueError) as exc:
        print(f"traffic: {exc}")
        return 2
    Path(args.data).mkdir(parents=True, exist_ok=True)
    traffic = Traffic(config, args.bus, Path(args.keys), Path(args.data), clock, args.seed,
                      Path(args.log) if args.log else None, args.arrivals)
    signal.signal(signal.SIGTERM, lambda *_: traffic.stop())
    signal.signal(signal.SIGINT, lambda *_: traffic.stop())
    try:
        traffic.run(until)
    finally:
        deadline = time.monotonic() + 30
        while any(c.pending_count() for c in traffic.clients.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        traffic.close()
        log.info("stopped: %s", traffic.counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
