"""`python -m hall_server.traffic`: simulated people for the demo hall, acting through real nodes.

Citizens arrive along a daily curve (morning and afternoon peaks) and take tickets at the
dispenser; staff sign in at their window terminals (some late), call, serve for a realistic share
of each 事项's promised time, finish, pause for lunch and now and then for a few minutes, and sign
out (some early); citizens rate with a realistic mix, some 差评 with reasons, some not at all —
on the window's touchscreen evaluator (kiosk), on its serial keypad (windows with a keypad, when
--keypad-control names the keypad simulator's control socket: the citizen presses a key once the
keypad shows the rating), or later by the QR code on the slip (at windows whose printer is a
simulator named by --slips N=FILE, when --http names the hall server's web address: the citizen
reads the QR code the devices gateway printed on their slip, and their phone posts its page; the
staff side never holds that link, so windows without a printed slip get no QR ratings). Every command goes through the hall
server's bus as a real node with its durable outbox. Runs on the same demo clock as the server
(same --clock-* flags).

A citizen rates only while the evaluator still asks (the rating's `expires_ms`); one who finds it
closed walks away (未评价). Every rating given — a kiosk tap stored in the kiosk's outbox, a key press
the keypad took, a QR page that said thanks — is written to --log as a JSON line, so a test can
check that the hall server recorded exactly those and nothing else. Before each attempt it logs the
intent (and after a failed one, its withdrawal), so a traffic process killed mid-attempt leaves a
trace: `--resume` (a restart mid-day) re-sends the kiosk taps it had not confirmed, picks up every
window's state from the hall server (signed in, paused, calling, serving) and plans the rest of
the day; a killed key press or QR post stays an open intent (a test accepts it either way).
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
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from config.schema import HallConfig, Window
from hall_server.printed_slips import SlipReader
from hallnet.client import HallClient, NotDelivered
from hallnet.clock import BadClock, Clock
from hallnet.keys import load_node_keys
from hallnet.vocabulary import REASON_PENDING, Channel, Key, Msg

log = logging.getLogger("traffic")

LEVEL_MIX = ((5, 0.60), (4, 0.21), (3, 0.09), (2, 0.06), (1, 0.04))
RATED_SHARE = 0.72
# how the rating citizens rate: at a window with a keypad / without one (QR only with --http)
CHANNEL_MIX_KEYPAD = (("keypad", 0.45), ("kiosk", 0.40), ("qr", 0.15))
CHANNEL_MIX = (("kiosk", 0.85), ("qr", 0.15))
CHANNEL_CODES = {"qr": int(Channel.QR), "kiosk": int(Channel.KIOSK), "keypad": int(Channel.KEYPAD)}
KEYPAD_TAG = REASON_PENDING  # what the hall server records as the reason of a keypad 差评
RETRY_REAL_S = 0.05              # a citizen tries the keypad / kiosk again after this (real) time
PAUSE_REASONS_SHORT = ("临时离开", "业务咨询")
MIN_MS = 60_000
SLIP_WAITS = 10                  # a citizen looks for their printed slip this many times (1 real s apart)


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
                 keypad_control: str | None = None, http: str | None = None,
                 kiosk_controls: dict[int, str] | None = None, skip_windows: set[int] | None = None,
                 slip_files: dict[int, Path] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(config.hall.timezone)
        self.arrivals_per_window_day = arrivals_per_window_day
        self.rated_share = rated_share
        self.keypad_control = keypad_control
        self.http = http.rstrip("/") if http else None
        self.kiosk_controls = dict(kiosk_controls or {})     # window → control socket of its kiosk process
        self.slips = SlipReader(slip_files or {})            # what the windows' printers printed
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        skip = skip_windows or set()
        self.clients: dict[str, HallClient] = {}
        for node in node_ids(config):
            kind, _, n = node.partition("-")
            if kind in ("terminal", "kiosk") and (int(n) in skip or (kind == "kiosk" and int(n) in self.kiosk_controls)):
                continue                                    # a person's, or another process's node
            self.clients[node] = HallClient(node, bus, load_node_keys(keys_dir, node), data_dir / f"{node}.db",
                                            subscribe=node == "dispenser-1")
        self._handles: dict[str, int] = {}                   # 办件 → the keypad handle of its rating
        self._unanswered: set[str] = set()                  # 办件 whose attempt got no answer: maybe taken
        self.clients["dispenser-1"].on_change = self._on_change
        windows = [w for w in config.windows if w.number not in skip]
        staff = list(config.staff)
        self.rng.shuffle(staff)
        staffed = windows[: max(1, round(len(windows) * staffed_share))]
        self.desks = {w.number: _Desk(w, s.staff_no) for w, s in zip(staffed, staff)}
        self._events: list[_Event] = []
        self._n = 0
        self._stop = threading.Event()
        self.counts = {"tickets": 0, "jobs": 0, "ratings": 0, "bad": 0, "refused": 0, "undelivered": 0,
                       "kiosk": 0, "keypad": 0, "qr": 0, "walked_away": 0, "retries": 0, "no_slip": 0}

    # --- scheduling ---------------------------------------------------------------------------------

    def at(self, when_ms: int, action: Callable[[], None]) -> None:
        self._n += 1
        heapq.heappush(self._events, _Event(when_ms, self._n, action))

    def after(self, delay_ms: float, action: Callable[[], None]) -> None:
        self.at(self.clock() + int(delay_ms), action)

    def run(self, until_ms: int | None = None, resume_log: Path | None = None) -> None:
        for c in self.clients.values():
            c.start()
        if resume_log is not None:
            self._resume_after_restart(resume_log)
        self._plan_day(self.clock(), resuming=resume_log is not None)
        if resume_log is not None:
            self._wake_idle_desks()
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

    def _plan_day(self, now_ms: int, resuming: bool = False) -> None:
        """Schedule one hall day: today's if it has not ended, else tomorrow's; then the next.
        `resuming` (a restart mid-day): what is past is not done again."""
        sessions = self.config.hall.sessions
        day = self._local(now_ms).date()
        end = datetime.combine(day, sessions[-1].end, self.tz)
        if self._ms(end) < now_ms:
            day = day + timedelta(days=1)
        opens = [datetime.combine(day, s.start, self.tz) for s in sessions]
        closes = [datetime.combine(day, s.end, self.tz) for s in sessions]
        rng = self.rng

        def at(when_ms: int, action: Callable[[], None]) -> None:
            if not (resuming and when_ms < now_ms):
                self.at(when_ms, action)

        for desk in self.desks.values():
            sign_in = opens[0] - timedelta(minutes=rng.uniform(2, 15))
            if rng.random() < 0.15:
                sign_in = opens[0] + timedelta(minutes=rng.uniform(1, 20))      # 迟到
            self.at(max(now_ms, self._ms(sign_in)), lambda d=desk: self._sign_in(d))
            for start, end_ in zip(closes[:-1], opens[1:]):                       # lunch
                at(self._ms(start), lambda d=desk: self._pause(d, "午休"))
                at(self._ms(end_ + timedelta(minutes=rng.uniform(-5, 8))), lambda d=desk: self._resume(d))
            for _ in range(rng.choice((0, 1, 1, 2))):                           # a short absence
                s = rng.randrange(len(sessions))
                t = opens[s] + (closes[s] - opens[s]) * rng.uniform(0.1, 0.8)
                minutes = 40 if rng.random() < 0.08 else rng.uniform(3, 12)       # sometimes 离岗
                at(self._ms(t), lambda d=desk: self._pause(d, rng.choice(PAUSE_REASONS_SHORT)))
                at(self._ms(t + timedelta(minutes=minutes)), lambda d=desk: self._resume(d))
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
        if self._call("dispenser-1", Msg.QUEUE_TAKE, body).get("ok"):
            self.counts["tickets"] += 1
            self._wake_idle_desks()

    def _wake_idle_desks(self) -> None:
        for desk in self.desks.values():
            if desk.signed_in and not desk.paused and not desk.busy:
                desk.busy = True
                self.after(self.rng.uniform(5, 40) * 1000, lambda d=desk: self._call_next(d))

    def _sign_in(self, desk: _Desk) -> None:
        if self._call(f"terminal-{desk.window.number}", Msg.WINDOW_SIGN_IN,
                      {"staff_no": desk.staff_no, "pin": "1234"}).get("ok"):
            desk.signed_in = True
            desk.busy = False
            self._wake_idle_desks()

    def _sign_out(self, desk: _Desk) -> None:
        if desk.busy:
            self.after(2 * MIN_MS, lambda: self._sign_out(desk))
            return
        if self._call(f"terminal-{desk.window.number}", Msg.WINDOW_SIGN_OUT, {}).get("ok"):
            desk.signed_in = False

    def _pause(self, desk: _Desk, reason: str) -> None:
        if not desk.signed_in or desk.paused:
            return
        if desk.busy:
            desk.pending_pause = reason
            return
        if self._call(f"terminal-{desk.window.number}", Msg.WINDOW_PAUSE, {"reason": reason}).get("ok"):
            desk.paused = True

    def _resume(self, desk: _Desk) -> None:
        desk.pending_pause = None
        if desk.paused and self._call(f"terminal-{desk.window.number}", Msg.WINDOW_RESUME, {}).get("ok"):
            desk.paused = False
            self._wake_idle_desks()

    def _call_next(self, desk: _Desk) -> None:
        if not desk.signed_in or desk.paused:
            desk.busy = False
            return
        terminal = f"terminal-{desk.window.number}"
        answer = self._call(terminal, Msg.QUEUE_CALL_NEXT, {})
        if not answer.get("ok"):
            desk.busy = False
            return
        if self.rng.random() < 0.04:                        # nobody comes: recall twice, then no-show
            self.after(60_000, lambda: self._call(terminal, Msg.QUEUE_RECALL, {}))
            self.after(120_000, lambda: self._no_show(desk))
            return
        self.after(self.rng.uniform(20, 90) * 1000, lambda: self._start(desk))

    def _no_show(self, desk: _Desk) -> None:
        self._call(f"terminal-{desk.window.number}", Msg.QUEUE_NO_SHOW, {})
        self._next_or_rest(desk)

    def _start(self, desk: _Desk) -> None:
        terminal = f"terminal-{desk.window.number}"
        if not self._call(terminal, Msg.JOB_START, {}).get("ok"):
            self._next_or_rest(desk)
            return
        services = [s for s in self.config.services if s.category in desk.window.categories]
        service = self.rng.choice(services)
        handle_ms = service.promised_min * MIN_MS * min(1.4, self.rng.lognormvariate(-0.7, 0.45))
        self.after(max(60_000, handle_ms), lambda: self._finish(desk, service.code))

    def _finish(self, desk: _Desk, service_code: str) -> None:
        n = desk.window.number
        answer = self._call(f"terminal-{n}", Msg.JOB_FINISH, {"service_code": service_code})
        if answer.get("ok"):
            self.counts["jobs"] += 1
            result = answer["result"]
            if self.rng.random() < self.rated_share:
                channel = self._pick_channel(desk.window, result)
                if channel == "qr":                         # later, on the phone
                    delay_ms = self.rng.uniform(5, 90) * MIN_MS
                else:
                    delay_ms = self.rng.uniform(4, 25) * 1000
                opinion = self._opinion()
                self.after(delay_ms, lambda: self._rate(n, result, channel, opinion))
        self._next_or_rest(desk)

    def _next_or_rest(self, desk: _Desk) -> None:
        desk.busy = False
        if desk.pending_pause:
            reason, desk.pending_pause = desk.pending_pause, None
            self._pause(desk, reason)
        if desk.signed_in and not desk.paused:
            desk.busy = True
            self.after(self.rng.uniform(10, 40) * 1000, lambda: self._call_next(desk))

    # --- ratings ----------------------------------------------------------------------------------

    def _pick_channel(self, window: Window, finished: dict[str, Any]) -> str:
        mix = CHANNEL_MIX_KEYPAD if window.keypad is not None and self.keypad_control else CHANNEL_MIX
        if not (self.http and self.slips.has_printer(window.number)):
            mix = tuple((c, w) for c, w in mix if c != "qr")
        channels, weights = zip(*mix)
        return self.rng.choices(channels, weights=weights)[0]

    def _opinion(self) -> dict[str, Any]:
        """Level, reason tags and maybe a phone number, with the realistic mix."""
        levels, weights = zip(*LEVEL_MIX)
        level = self.rng.choices(levels, weights=weights)[0]
        tags = [t.code for t in self.config.tags.for_level(level)]
        chosen = self.rng.sample(tags, k=min(len(tags), self.rng.choice((1, 1, 2)))) if (
            level <= 2 or (tags and self.rng.random() < 0.3)) else []
        opinion: dict[str, Any] = {"level": level, "tags": chosen}
        if level <= 2 and self.rng.random() < 0.5:
            opinion["phone"] = f"139{self.rng.randrange(10**8):08d}"
        return opinion

    def _rate(self, window: int, finished: dict[str, Any], channel: str, opinion: dict[str, Any]) -> None:
        if channel == "qr":
            self._rate_qr(window, finished, opinion, 0)
        elif channel == "keypad":
            self._rate_keypad(window, finished, opinion)
        else:
            self._rate_kiosk(window, finished, opinion)

    def _retry(self, action: Callable[[], None], real_s: float = RETRY_REAL_S) -> None:
        self.counts["retries"] += 1
        self.after(real_s * 1000 * self.clock.speed, action)

    def _still_asked(self, finished: dict[str, Any], margin_real_s: float = 0.0) -> bool:
        """The evaluator still asks: the citizen may rate at the window. Else they walk away."""
        margin_ms = max(1000.0, margin_real_s * 1000 * self.clock.speed)
        if self.clock() + margin_ms <= finished["rating_expires_ms"]:
            return True
        self.counts["walked_away"] += 1
        return False

    def _rate_kiosk(self, window: int, finished: dict[str, Any], opinion: dict[str, Any]) -> None:
        if not self._still_asked(finished):
            return
        body = {"job": finished["job"], **opinion, "pressed_ms": self.clock()}
        control = self.kiosk_controls.get(window)
        if control is None:
            node = f"kiosk-{window}"
            self._intent(window, finished, "kiosk", opinion, body=body)
            self.clients[node].send(Msg.RATING_SUBMIT, body)          # on the kiosk's disk: the citizen sees 谢谢
        else:
            node = f"kiosk-{window} (process)"
            from devices.control_lines import send_control_line    # noqa: PLC0415 (only with a kiosk process)

            taps = {"job": finished["job"], **opinion}             # the process's evaluator stamps the press
            self._intent(window, finished, "kiosk", opinion)
            try:
                reply = send_control_line(control, "rate " + json.dumps(taps, ensure_ascii=False), timeout_s=5)
            except OSError:                                         # the kiosk is down: try again shortly
                reply = ""
                self._unanswered.add(finished["job"])
            if not reply.startswith("ok"):
                self._withdrawn(finished, "kiosk")
            if not reply:
                self._retry(lambda: self._rate_kiosk(window, finished, opinion), 0.3)
                return
            if not reply.startswith("ok"):                          # not on its screen yet
                log.debug("kiosk-%d: %s", window, reply)
                self._retry(lambda: self._rate_kiosk(window, finished, opinion))
                return
        self._given(window, finished, "kiosk", node, opinion)

    def _on_change(self, key: str, value: Any) -> None:           # hallnet I/O thread
        if key.startswith(Key.RATING) and isinstance(value, dict) and "job" in value:
            self._handles[value["job"]] = value.get("handle")

    def _rate_keypad(self, window: int, finished: dict[str, Any], opinion: dict[str, Any]) -> None:
        """Press a key once the keypad shows this 办件's rating (the gateway opens it)."""
        from devices.control_lines import send_control_line        # noqa: PLC0415 (only with a keypad bus)

        assert self.keypad_control is not None
        address = self.config.window(window).keypad.address      # type: ignore[union-attr]
        if not self._still_asked(finished, margin_real_s=0.05):
            return
        try:
            status = send_control_line(self.keypad_control, f"status {address}", timeout_s=5)
            shown = json.loads(status[3:])[str(address)]["open_handle"] if status.startswith("ok ") else None
            handle = self._handles.get(finished["job"])
            if handle is None or shown != f"{handle:08X}":
                self._retry(lambda: self._rate_keypad(window, finished, opinion))
                return
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keypad simulator: %s", exc)
            self._retry(lambda: self._rate_keypad(window, finished, opinion), 0.5)
            return
        pressed = {"level": opinion["level"], "tags": [KEYPAD_TAG] if opinion["level"] <= 2 else []}
        self._intent(window, finished, "keypad", pressed)
        try:
            reply = send_control_line(self.keypad_control, f"press {address} {opinion['level']}", timeout_s=5)
        except OSError as exc:
            log.warning("keypad simulator: %s", exc)
            self._unanswered.add(finished["job"])       # the press may have been taken: the intent stays open
            self._retry(lambda: self._rate_keypad(window, finished, opinion), 0.5)
            return
        if reply != "ok pressed":
            self._withdrawn(finished, "keypad")
            self._retry(lambda: self._rate_keypad(window, finished, opinion))
            return
        self._given(window, finished, "keypad", f"keypad {address}", pressed)

    def _rate_qr(self, window: int, finished: dict[str, Any], opinion: dict[str, Any], attempt: int,
                 looked: int = 0) -> None:
        """Scan the printed slip's QR code and post its page, as the citizen's phone would; try again
        later if the hall's web does not answer (a lost answer is recognised on the next try by the
        page's 已评价). No slip in hand (not printed yet, or its print failed): no QR rating."""
        assert self.http is not None
        url = self.slips.link(window, finished["job"])
        if url is None:
            if looked < SLIP_WAITS:
                self._retry(lambda: self._rate_qr(window, finished, opinion, attempt, looked + 1), 1.0)
            else:
                self.counts["no_slip"] += 1
            return
        form = [("level", str(opinion["level"]))] + [("tags", t) for t in opinion["tags"]]
        if opinion.get("phone"):
            form.append(("phone", opinion["phone"]))
        # each citizen's own phone: the hall's public limits count per client (hall_server.web.limits)
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                         headers={"User-Agent": f"hall-traffic-citizen/{finished['job']}"})
        self._intent(window, finished, "qr", opinion)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
            self._unanswered.add(finished["job"])
        if status == 200 or (status == 409 and attempt > 0):
            self._given(window, finished, "qr", "qr page", opinion, attempts=attempt + 1)
        elif status in (0, 429, 500, 502, 503) and attempt < 50:
            self._withdrawn(finished, "qr")
            self._retry(lambda: self._rate_qr(window, finished, opinion, attempt + 1), self.rng.uniform(1.0, 3.0))
        else:
            self.counts["refused"] += 1
            log.warning("QR rating of %s refused with HTTP %s", finished["job"], status)
            self._log({"job": finished["job"], "window": window, "channel": "qr", "refused": status})

    def _intent(self, window: int, finished: dict[str, Any], channel: str, opinion: dict[str, Any],
                **extra: Any) -> None:
        """Logged before an attempt: a process killed during it leaves this open."""
        self._log({"job": finished["job"], "window": window, "intent": channel, "opinion": opinion,
                   "channel_code": CHANNEL_CODES[channel], **extra})

    def _withdrawn(self, finished: dict[str, Any], channel: str) -> None:
        """The attempt logged by `_intent` was surely not taken (unless an earlier one went unanswered:
        then the intent stays open)."""
        if finished["job"] in self._unanswered:
            return
        self._log({"job": finished["job"], "withdrawn": channel})

    def _resume_after_restart(self, log_path: Path) -> None:
        """A restart mid-day: confirm the kiosk taps a killed run had stored or was storing (the
        server takes a rating once: a second copy is answered 已评价), and take over every window
        in the state the hall server shows."""
        open_intents: dict[str, dict[str, Any]] = {}
        if log_path.exists():
            for line in log_path.read_text(encoding="utf-8").splitlines():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue             # a line cut by the kill
                if "intent" in r:
                    open_intents[r["job"]] = r
                else:
                    open_intents.pop(r.get("job"), None)
        for job, r in open_intents.items():
            node = f"kiosk-{r['window']}"
            if r["intent"] == "kiosk" and "body" in r and node in self.clients:
                self.clients[node].send(Msg.RATING_SUBMIT, r["body"])
                self._given(r["window"], {"job": job}, "kiosk", node, r["opinion"], resent=True)
        dispenser = self.clients["dispenser-1"]
        deadline = time.monotonic() + 60
        while dispenser.seq < 0 and time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.1)
        for desk in self.desks.values():
            n = desk.window.number
            w = dispenser.get(Key.window(n)) or {}
            state = w.get("state", "closed")
            desk.signed_in = state != "closed"
            desk.paused = state == "paused"
            desk.busy = state in ("calling", "serving")
            if state == "paused":
                self.after(self.rng.uniform(2, 10) * MIN_MS, lambda d=desk: self._resume(d))
            elif state == "calling":
                self.after(self.rng.uniform(20, 90) * 1000, lambda d=desk: self._start(d))
            elif state == "serving":
                services = [s for s in self.config.services if s.category in desk.window.categories]
                code = self.rng.choice(services).code
                self.after(self.rng.uniform(1, 8) * MIN_MS, lambda d=desk, c=code: self._finish(d, c))
        log.info("resumed: %d open kiosk taps confirmed; windows %s", sum(
            1 for r in open_intents.values() if r["intent"] == "kiosk" and "body" in r),
            {n: d.signed_in for n, d in self.desks.items()})

    def _given(self, window: int, finished: dict[str, Any], channel: str, node: str, opinion: dict[str, Any],
               **extra: Any) -> None:
        self.counts["ratings"] += 1
        self.counts[channel] += 1
        self.counts["bad"] += opinion["level"] <= 2
        self._log({"job": finished["job"], "window": window, "level": opinion["level"], "tags": opinion["tags"],
                   "channel": channel, "channel_code": CHANNEL_CODES[channel], "node": node, "ok": True,
                   "at_ms": self.clock(), **extra})

    def _log(self, record: dict[str, Any]) -> None:
        if self.log_file:
            self.log_file.write(json.dumps(record, ensure_ascii=False) + "\n")
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
    p.add_argument("--keypad-control", metavar="PATH",
                   help="the keypad simulator's control socket: citizens at windows with a keypad press keys there")
    p.add_argument("--http", metavar="URL", help="the hall server's web address: some citizens rate later by QR")
    p.add_argument("--kiosk-control", metavar="N=PATH", action="append", default=[],
                   help="window N's evaluator is a separate process taking `rate {json}` lines on PATH (repeatable)")
    p.add_argument("--slips", metavar="N=FILE", action="append", default=[],
                   help="window N's printer is a simulator decoding into FILE (`devices simulate printer --out`): "
                        "its citizens may rate by the QR code on their printed slip (repeatable)")
    p.add_argument("--resume", action="store_true",
                   help="a restart mid-day: confirm open kiosk taps from --log, take over the windows' state")
    p.add_argument("--skip-window", metavar="N", type=int, action="append", default=[],
                   help="leave window N (its terminal and kiosk) to a person (repeatable)")
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
        kiosk_controls = {int(n): path for n, _, path in (item.partition("=") for item in args.kiosk_control)}
        slip_files = {int(n): Path(path) for n, _, path in (item.partition("=") for item in args.slips)}
    except (ConfigError, BadClock, ValueError) as exc:
        print(f"traffic: {exc}")
        return 2
    Path(args.data).mkdir(parents=True, exist_ok=True)
    traffic = Traffic(config, args.bus, Path(args.keys), Path(args.data), clock, args.seed,
                      Path(args.log) if args.log else None, args.arrivals, keypad_control=args.keypad_control,
                      http=args.http, kiosk_controls=kiosk_controls, skip_windows=set(args.skip_window),
                      slip_files=slip_files)
    signal.signal(signal.SIGTERM, lambda *_: traffic.stop())
    signal.signal(signal.SIGINT, lambda *_: traffic.stop())
    try:
        traffic.run(until, Path(args.log) if args.resume and args.log else None)
    finally:
        deadline = time.monotonic() + 30
        while any(c.pending_count() for c in traffic.clients.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        traffic.close()
        log.info("stopped: %s", traffic.counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
