"""The traffic simulator's people at the windows: staff calling, serving and pausing at their
terminals, citizens taking tickets at the dispenser; and a restart mid-day taking over the windows.

`People` is a part of `demo.traffic.simulation.Traffic`; how citizens rate is `demo.traffic.channels`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.schema import Window
from demo.traffic.schedule import MIN_MS
from hallnet.vocabulary import Key, Msg, NodeKind, node_id

log = logging.getLogger("traffic")


@dataclass
class Desk:
    window: Window
    staff_no: str
    signed_in: bool = False
    paused: bool = False
    busy: bool = False           # calling or serving
    pending_pause: str | None = None


class People:
    """Staff and citizens acting through their nodes (a mixin of `Traffic`)."""

    def _call(self, node: str, type_: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.clients[node].call(type_, body, timeout_s=60)
        if not answer.get("ok"):
            self.counts["refused"] += 1
            log.debug("%s %s refused: %s %s", node, type_, answer.get("error"), answer.get("message"))
        return answer

    def _arrive(self) -> None:
        weights = self.capacity_per_min()           # each category in proportion to what its windows serve
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
        if self._call(node_id(NodeKind.DISPENSER, 1), Msg.QUEUE_TAKE, body).get("ok"):
            self.counts["tickets"] += 1
            self._wake_idle_desks()

    def _wake_idle_desks(self) -> None:
        for desk in self.desks.values():
            if desk.signed_in and not desk.paused and not desk.busy:
                desk.busy = True
                self.after(self.rng.uniform(5, 40) * 1000, lambda d=desk: self._call_next(d))

    def _sign_in(self, desk: Desk) -> None:
        if self._call(node_id(NodeKind.TERMINAL, desk.window.number), Msg.WINDOW_SIGN_IN,
                      {"staff_no": desk.staff_no, "pin": "1234"}).get("ok"):
            desk.signed_in = True
            desk.busy = False
            self._wake_idle_desks()

    def _sign_out(self, desk: Desk) -> None:
        if desk.busy:
            self.after(2 * MIN_MS, lambda: self._sign_out(desk))
            return
        if self._call(node_id(NodeKind.TERMINAL, desk.window.number), Msg.WINDOW_SIGN_OUT, {}).get("ok"):
            desk.signed_in = False

    def _pause(self, desk: Desk, reason: str) -> None:
        if not desk.signed_in or desk.paused:
            return
        if desk.busy:
            desk.pending_pause = reason
            return
        if self._call(node_id(NodeKind.TERMINAL, desk.window.number), Msg.WINDOW_PAUSE, {"reason": reason}).get("ok"):
            desk.paused = True

    def _resume(self, desk: Desk) -> None:
        desk.pending_pause = None
        if desk.paused and self._call(node_id(NodeKind.TERMINAL, desk.window.number), Msg.WINDOW_RESUME, {}).get("ok"):
            desk.paused = False
            self._wake_idle_desks()

    def _call_next(self, desk: Desk) -> None:
        if not desk.signed_in or desk.paused:
            desk.busy = False
            return
        terminal = node_id(NodeKind.TERMINAL, desk.window.number)
        answer = self._call(terminal, Msg.QUEUE_CALL_NEXT, {})
        if not answer.get("ok"):
            desk.busy = False
            return
        if self.rng.random() < 0.04:                        # nobody comes: recall twice, then no-show
            self.after(60_000, lambda: self._call(terminal, Msg.QUEUE_RECALL, {}))
            self.after(120_000, lambda: self._no_show(desk))
            return
        self.after(self.rng.uniform(20, 90) * 1000, lambda: self._start(desk))

    def _no_show(self, desk: Desk) -> None:
        self._call(node_id(NodeKind.TERMINAL, desk.window.number), Msg.QUEUE_NO_SHOW, {})
        self._next_or_rest(desk)

    def _start(self, desk: Desk) -> None:
        terminal = node_id(NodeKind.TERMINAL, desk.window.number)
        if not self._call(terminal, Msg.JOB_START, {}).get("ok"):
            self._next_or_rest(desk)
            return
        services = [s for s in self.config.services if s.category in desk.window.categories]
        service = self.rng.choice(services)
        handle_ms = service.promised_min * MIN_MS * min(1.4, self.rng.lognormvariate(-0.7, 0.45))
        self.after(max(60_000, handle_ms), lambda: self._finish(desk, service.code))

    def _finish(self, desk: Desk, service_code: str) -> None:
        n = desk.window.number
        answer = self._call(node_id(NodeKind.TERMINAL, n), Msg.JOB_FINISH, {"service_code": service_code})
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

    def _next_or_rest(self, desk: Desk) -> None:
        desk.busy = False
        if desk.pending_pause:
            reason, desk.pending_pause = desk.pending_pause, None
            self._pause(desk, reason)
        if desk.signed_in and not desk.paused:
            desk.busy = True
            self.after(self.rng.uniform(10, 40) * 1000, lambda: self._call_next(desk))

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
            node = node_id(NodeKind.KIOSK, r['window'])
            if r["intent"] == "kiosk" and "body" in r and node in self.clients:
                self.clients[node].send(Msg.RATING_SUBMIT, r["body"])
                self._given(r["window"], {"job": job}, "kiosk", node, r["opinion"], resent=True)
        dispenser = self.clients[node_id(NodeKind.DISPENSER, 1)]
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

    def _log(self, record: dict[str, Any]) -> None:
        if self.log_file:
            self.log_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.log_file.flush()
