"""What the window terminal shows: a frozen `View` built from the state, section by section
(sign-in, queue, case, pause, transfer, my day). Plain Python, no Kivy; the screen binds to it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from config.schema import Service
from window_terminal import slip_status
from window_terminal.buttons import Btn
from window_terminal.keys import Keys
from window_terminal.state import PAUSE_REASONS, fmt_duration


@dataclass(frozen=True)
class View:
    screen: str                       # sign_in / main / paused / pause / transfer / call_back / my_day
    lang: str
    title: str
    clock: str
    online: bool
    banner: str                       # the offline banner ("" when connected)
    message: str
    message_kind: str                 # "", info, ok, error
    staff_line: str                   # plain text (the screen applies kivy_markup)
    # sign-in
    si_staff_no: str
    si_pin: str                       # masked
    si_field: str                     # staff_no / pin
    si_hint: str
    si_prefixes: list[str]
    # queue
    state_text: str
    ticket: str
    ticket_info: str
    recall_text: str
    queues: list[dict[str, Any]]
    parked: list[dict[str, Any]]
    # case
    search: str
    services: list[dict[str, Any]]
    service_line: str
    job_no: str
    rating_line: str
    last_case_line: str
    # pause / transfer
    pause_reasons: list[dict[str, Any]]
    pause_other: str
    paused_line: str
    paused_elapsed: str
    transfer_windows: list[dict[str, Any]]
    transfer_categories: list[dict[str, Any]]
    # my day
    day_lines: list[dict[str, Any]]
    btn: dict[str, Btn] = field(default_factory=dict, compare=True, hash=False)
    slip_line: str = ""               # the slip's print status (window_terminal/slip_status.py)
    slip_kind: str = ""               # "", info, ok, error


def _service_text(s: Service) -> str:
    return f"{s.code}  {s.name}"


class TerminalView(Keys):
    def view(self) -> View:
        now = self.now_ms()
        session = self.session
        staff_line = ""
        if session:
            staff_line = f"{session.get('name', '')} · {self.tr('staff.no')} {session.get('staff_no', '')}"
        slip_text, slip_kind = slip_status.line(self.win, self.tr, self.gateways.any_alive())
        return View(
            screen=self.screen(), lang=self.lang,
            title=f"{self.tr('window.number', number=self.window.number)} · {self.window.name}",
            clock=self.local(now).strftime("%H:%M:%S"), online=self.connected,
            banner=self._banner(),
            message=self.message, message_kind=self.message_kind, staff_line=staff_line,
            **self._sign_in_part(), **self._queue_part(now), **self._case_part(now), **self._pause_part(now),
            **self._transfer_part(), day_lines=self._day_lines(),
            btn=self.buttons(), slip_line=slip_text, slip_kind=slip_kind,
        )

    def _banner(self) -> str:
        """Offline: what still works; and what was done offline and waits to be sent."""
        waiting = self.offline_lines()
        head = "" if self.connected else self.tr("term.offline_banner")
        if not waiting:
            return head
        tail = self.tr("term.offline_waiting" if not self.connected else "term.offline_sending",
                       n=len(waiting), items="、".join(waiting[:4]) + ("…" if len(waiting) > 4 else ""))
        return f"{head}\n{tail}" if head else tail

    def _sign_in_part(self) -> dict[str, Any]:
        hint = ""
        typed = self.resolved_staff_no()
        if typed:
            try:
                hint = self.config.staff_member(typed).name
            except KeyError:
                hint = ""
        occupant = (self.win or {}).get("staff") if self.win else None
        if occupant and self.session is None:
            hint = (hint + "  " if hint else "") + self.tr(
                "term.occupied_by", name=occupant.get("name", ""), staff_no=occupant.get("staff_no", ""))
        prefixes = sorted({re.sub(r"\d+$", "", s.staff_no) for s in self.config.staff} - {""})[:4]
        return {"si_staff_no": self.si_staff_no, "si_pin": "●" * len(self.si_pin), "si_field": self.si_field,
                "si_hint": hint, "si_prefixes": prefixes}

    def _queue_part(self, now: int) -> dict[str, Any]:
        lang = self.lang
        state = self.win_state()
        cur = self.current
        ticket = self.ticket_no() or ""
        info = ""
        if ticket:
            parts = []
            if cur.get("wait_ms") is not None:
                parts.append(self.tr("term.waited", t=fmt_duration(cur["wait_ms"], lang)))
            since = (self.win or {}).get("since_ms") or cur.get("called_ms")
            if since:
                parts.append(self.tr("term.serving_for" if state == "serving" else "term.called_for",
                                     t=fmt_duration(now - since, lang)))
            if cur.get("priority"):
                parts.append(self.tr(f"term.priority.{cur['priority']}"))
            info = " · ".join(parts)
        recall_text = ""
        if state == "calling":
            recall_text = self.tr("term.recalls", n=int(cur.get("recalls") or 0),
                                  cap=self.config.hall.thresholds.recall_cap)
        queues = []
        for code in self.window.categories:
            q = self.queues.get(code) or {}
            oldest = q.get("oldest_queued_ms")
            queues.append({
                "code": code, "name": self.category_name(code),
                "waiting": str(q.get("waiting", 0) if q else "—"),
                "detail": self.tr("term.queue_detail", prio=int(q.get("priority_waiting") or 0),
                                  t=fmt_duration(now - oldest, lang) if oldest else "—") if q else "",
            })
        parked = list({"ticket_id": p["ticket_id"], "text": f"{i + 1}.  {p['ticket']}",
                        "detail": self.tr("term.parked_for", t=fmt_duration(now - int(p.get("at_ms") or now), lang))}
                       for i, p in enumerate(self.parked))
        return {"state_text": self.tr(f"term.state.{state}"), "ticket": ticket or "—", "ticket_info": info,
                "recall_text": recall_text, "queues": queues, "parked": parked}

    def _case_part(self, now: int) -> dict[str, Any]:
        draft = self.draft
        state = self.win_state()
        results = self.index.search(draft.get("search", ""), limit=30)
        services = list({"code": s.code, "text": _service_text(s),
                          "detail": self.tr("term.promised", n=s.promised_min),
                          "selected": s.code == draft.get("service")} for s in results)
        service_line = self.tr("term.no_service")
        chosen = self.index.get(draft.get("service", ""))
        if chosen is not None:
            service_line = f"{_service_text(chosen)} · {self.tr('term.promised', n=chosen.promised_min)}"
            started = (self.win or {}).get("since_ms") if state == "serving" else None
            if started and now - started > chosen.promised_min * 60_000:
                service_line += " · " + self.tr("term.overdue_now")
        rating_line = ""
        last = self.last_case
        last_line = ""
        if last:
            svc = self.index.get(last.get("service", ""))
            last_line = self.tr("term.last_case", ticket=last.get("ticket") or "—", job_no=last.get("job_no", ""),
                                service=svc.name if svc else last.get("service", ""))
            r = last.get("rating")
            if r == "open":
                left = max(0, int(last.get("expires_ms") or now) - now)
                rating_line = self.tr("term.rating_open", t=fmt_duration(left, self.lang))
            elif r == "rated":
                rating_line = self.tr("term.rating_done")
            elif r == "closed":
                rating_line = self.tr("term.rating_closed")
            if rating_line:          # said of its own 办件, never mistaken for the one being served now
                of = " · ".join(x for x in (last.get("ticket") or "", last.get("job_no") or "") if x)
                rating_line = self.tr("term.rating_of", status=rating_line, case=of) if of else rating_line
        return {"search": draft.get("search", ""), "services": services, "service_line": service_line,
                "job_no": draft.get("job_no", ""), "rating_line": rating_line, "last_case_line": last_line}

    def _pause_part(self, now: int) -> dict[str, Any]:
        state = self.win_state()
        paused = self.store.get("paused") or {}
        since = (self.win or {}).get("since_ms") if state == "paused" and self.win else paused.get("since_ms")
        paused_line = ""
        if state == "paused":
            reason = (self.win or {}).get("pause_reason") or paused.get("reason") or ""
            paused_line = self.tr("term.paused_line", reason=reason)
        reasons = list({"key": r, "text": f"{i + 1}.  {self.tr(f'pause.{r}')}"} for i, r in enumerate(PAUSE_REASONS))
        return {"pause_reasons": reasons, "pause_other": self.pause_other, "paused_line": paused_line,
                "paused_elapsed": fmt_duration(now - since, self.lang) if since else "—"}

    def _transfer_part(self) -> dict[str, Any]:
        windows = list({"number": w.number, "text": f"{self.tr('window.number', number=w.number)}",
                         "detail": w.name} for w in self.config.windows if w.number != self.window.number)
        cats = list({"code": c.code, "text": self.category_name(c.code)} for c in self.config.categories)
        return {"transfer_windows": windows, "transfer_categories": cats}

    def _day_lines(self) -> list[dict[str, Any]]:
        d = self.day()
        served = int(d.get("served", 0))
        mean = fmt_duration(d["handle_ms"] // served, self.lang) if served else "—"
        rate = f"{100 * int(d.get('rated', 0)) / served:.0f}%" if served else "—"
        return [
            {"label": self.tr("term.day.served"), "value": str(served)},
            {"label": self.tr("term.day.mean"), "value": mean},
            {"label": self.tr("term.day.overdue"), "value": str(d.get("overdue", 0))},
            {"label": self.tr("term.day.rated"), "value": str(d.get("rated", 0))},
            {"label": self.tr("term.day.rate"), "value": rate},
        ]
