"""The answers to the terminal's commands: one handler per accepted command (`_ok_<action>`) and
the refusals, read from the reply's `error` code and `details` (never from its message, which is
English for the logs). Plain Python, no Kivy."""

from __future__ import annotations

import logging
import math
from typing import Any

from window_terminal.state import TerminalState, category_of, fmt_duration

log = logging.getLogger(__name__)

# error codes the terminal translates (`err.<code>` in config/i18n.py); others show `err.other`
KNOWN_ERRORS = frozenset({
    "wrong_pin", "account_locked", "not_signed_in", "already_signed_in", "window_occupied", "paused",
    "not_paused", "window_busy", "queue_empty", "no_current_ticket", "ticket_not_here", "wrong_ticket_state",
    "category_not_served", "not_serving", "job_no_taken", "unknown_service", "unknown_window",
    "unknown_category", "unknown_ticket", "unknown_staff", "bad_request", "forbidden", "not_configured",
    "internal", "no_printer", "nothing_to_reprint", "window_closed", "pin_change_required", "bad_new_pin",
})
LOCK_FALLBACK_MIN = 5          # an account_locked refusal without `details.locked_until_ms`


def _int_detail(details: dict[str, Any], key: str) -> int | None:
    value = details.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Replies(TerminalState):
    def error_text(self, code: str, details: dict[str, Any] | None = None) -> str:
        """The refusal in the screen's language, from its code and `details` (`tries_left`,
        `locked_until_ms`, …)."""
        facts = details or {}
        if code == "wrong_pin":
            left = _int_detail(facts, "tries_left")
            if left is not None:
                return self.tr("err.wrong_pin_left", n=left)
        if code == "account_locked":
            until = _int_detail(facts, "locked_until_ms")
            minutes = LOCK_FALLBACK_MIN if until is None else max(1, math.ceil((until - self.now_ms()) / 60_000))
            return self.tr("err.account_locked", n=minutes)
        if code == "already_signed_in":
            there = _int_detail(facts, "window")
            if there is not None:
                return self.tr("err.already_signed_in_at", window=there)
        return self.tr(f"err.{code}") if code in KNOWN_ERRORS else self.tr("err.other", code=code or "?")

    def _refused(self, action: str, code: str, details: dict[str, Any], p: dict[str, Any]) -> None:
        self.say("error", self.error_text(code, details))
        if action == "sign_in":
            if code == "pin_change_required":     # the one-time PIN was right: now the clerk's own
                self.si_one_time = self.si_sent_pin
            elif code != "bad_new_pin":
                self.si_one_time = ""
            self.si_pin = self.si_sent_pin = ""
            self.si_field = "pin" if code in ("wrong_pin", "pin_change_required", "bad_new_pin") else "staff_no"
        elif action == "call_back" and code in ("wrong_ticket_state", "unknown_ticket", "ticket_not_here"):
            self._unpark(p["body"].get("ticket_id"))
        elif action == "sign_out" and code == "not_signed_in":
            self.store.set("session", None)
        elif action == "resume" and code == "not_paused":
            self.store.set("paused", None)

    # sign in / out

    def _ok_sign_in(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        staff_no = str(r.get("staff_no") or p["extra"].get("staff_no"))
        card = (self.win or {}).get("staff") or {}     # the server's card: a clerk added after this start too
        name = str(card.get("name") or "") if card.get("staff_no") == staff_no else ""
        try:
            name = name or self.config.staff_member(staff_no).name
        except KeyError:
            pass
        self.si_one_time = self.si_sent_pin = ""
        self.store.set("session", {"staff_no": staff_no, "name": name, "in_ms": self.now_ms()})
        self.si_staff_no = self.si_pin = ""
        self.si_field = "staff_no"
        self.dialog = None
        self.say("ok", self.tr("term.signed_in_late" if r.get("late") else "term.signed_in", name=name))

    def _ok_sign_out(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self.store.update(session=None, paused=None)
        self.dialog = None
        self.say("ok", self.tr("term.signed_out"))

    def _ok_pause(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self.store.set("paused", {"reason": r.get("reason", ""), "since_ms": p["body"].get("done_ms") or self.now_ms()})
        self.dialog = None
        self.pause_other = ""

    def _ok_resume(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self.store.set("paused", None)
        self.say("ok", self.tr("term.resumed", t=fmt_duration(r.get("paused_ms"), self.lang)))

    # the queue

    def _ok_call_next(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self.store.set("current", {"ticket_id": r.get("ticket_id"), "ticket": r.get("ticket", ""),
                                   "category": r.get("category", ""), "recalls": 0, "wait_ms": r.get("wait_ms"),
                                   "priority": r.get("priority"), "serving": False,
                                   "called_ms": self.now_ms()})
        self.say("ok", self.tr("term.called", ticket=r.get("ticket", "")))

    def _ok_recall(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        if r.get("no_show"):
            self.store.set("current", None)
            self.say("info", self.tr("term.recall_cap_no_show", ticket=r.get("ticket", "")))
            return
        cur = self.current
        cur["recalls"] = int(r.get("recalls") or 0)
        self.store.set("current", cur)
        self.say("ok", self.tr("term.recalled", ticket=r.get("ticket", ""), n=cur["recalls"]))

    def _ok_no_show(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self.store.set("current", None)
        self.say("ok", self.tr("term.no_show_done", ticket=r.get("ticket", "")))

    def _ok_park(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        parked = [x for x in self.parked if x.get("ticket_id") != r.get("ticket_id")]
        parked.append({"ticket_id": r.get("ticket_id"), "ticket": r.get("ticket", ""), "at_ms": self.now_ms(),
                       "day": self.today()})
        self.store.update(parked=parked, current=None)
        self.say("ok", self.tr("term.parked", ticket=r.get("ticket", "")))

    def _unpark(self, ticket_id: Any) -> None:
        self.store.set("parked", [x for x in self.parked if x.get("ticket_id") != ticket_id])

    def _ok_call_back(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self._unpark(r.get("ticket_id"))
        self.store.set("current", {"ticket_id": r.get("ticket_id"), "ticket": r.get("ticket", ""),
                                   "category": category_of(r.get("ticket", "")), "recalls": 0, "wait_ms": None,
                                   "serving": r.get("status") == "serving", "called_ms": self.now_ms()})
        self.dialog = None
        self.say("ok", self.tr("term.called_back", ticket=r.get("ticket", "")))

    def _ok_transfer(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self.store.set("current", None)
        self.dialog = None
        to = p["body"]
        if to.get("to_window") is not None:
            where = self.tr("window.number", number=to["to_window"])
        else:
            where = self.category_name(str(to.get("to_category")))
        self.say("ok", self.tr("term.transferred", ticket=r.get("ticket", ""), to=where))

    # the case

    def _ok_start(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        cur = self.current
        cur["serving"] = True
        cur.setdefault("started_ms", self.now_ms())
        self.store.set("current", cur)
        self.say("ok", self.tr("term.started", ticket=r.get("ticket") or cur.get("ticket", "")))

    def _ok_finish(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        ticket = p["extra"].get("ticket") or ""
        case = {"job": r.get("job"), "job_no": r.get("job_no", ""), "job_no_source": r.get("job_no_source", ""),
                "service": p["body"].get("service_code", ""), "ticket": ticket, "handle_ms": r.get("handle_ms"),
                "overdue": bool(r.get("overdue")), "expires_ms": r.get("rating_expires_ms"),
                "qr_expires_ms": r.get("qr_expires_ms"), "finished_ms": self.now_ms(), "rating": "open"}
        self.store.update(last_case=case, current=None, draft={"search": "", "service": "", "job_no": ""})
        self._day_add(served=1, handle_ms=int(r.get("handle_ms") or 0), overdue=int(bool(r.get("overdue"))))
        self.say("ok", self.tr("term.finished", ticket=ticket, job_no=case["job_no"]))
        if self.on_finished is not None:
            try:
                self.on_finished(case)
            except Exception:
                log.exception("after-finish hook failed")

    def _ok_reprint(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        self.say("ok", self.tr("term.slip.reprint_sent", job_no=r.get("job_no", "")))

