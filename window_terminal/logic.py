"""The window terminal's logic: what to show and what to send. Plain Python, no Kivy.

The screen binds to `TerminalLogic.view()` (a frozen `View`) and calls the action methods; the
app hands the hall client's callbacks over to the UI thread and calls `on_state`, `on_connection`
and `on_reply`, and `tick()` once a second. Tests drive the same class with a fake sender.

Commands are sent durably (`sender.send` stores them in the outbox first) and answered later by
`on_reply`. One command at a time: while it waits, the other server actions wait too. When no
answer comes within `answer_timeout_s` the terminal says the action is saved and will be applied
once the hall server answers; the late answer is still applied, even after a restart (pending
commands are kept in the local store).

R6: the terminal never learns a rating's level. It shows only whether the citizen has rated.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol
from zoneinfo import ZoneInfo

from config.i18n import LANGS, t
from config.schema import HallConfig, Service
from window_terminal import slip_status
from window_terminal.local_store import LocalStore
from window_terminal.services import ServiceIndex

log = logging.getLogger(__name__)

# action → shortcut key (shown on the button; `KEY_ACTIONS` maps keys back)
SHORTCUTS: dict[str, str] = {
    "call_next": "F1", "recall": "F2", "no_show": "F3", "park": "F4", "call_back": "F5",
    "transfer": "F6", "start": "F7", "finish": "F8", "pause": "F9", "resume": "F9",
    "search": "F10", "my_day": "F11", "sign_out": "F12", "sign_in": "Enter", "close": "Esc",
    "lang": "Ctrl+E", "reprint": "Ctrl+P",
}
MAIN_KEYS: dict[str, str] = {
    "f1": "call_next", "f2": "recall", "f3": "no_show", "f4": "park", "f5": "call_back", "f6": "transfer",
    "f7": "start", "f8": "finish", "f9": "pause", "f10": "search", "f11": "my_day", "f12": "sign_out",
}
PAUSE_REASONS: tuple[str, ...] = ("lunch", "away", "consulting", "training", "other")
SERVER_ACTIONS = ("call_next", "recall", "no_show", "park", "call_back", "transfer", "start", "finish",
                  "pause", "resume", "sign_out", "sign_in", "reprint")
# error codes the terminal translates (`err.<code>` in config/i18n.py); others show `err.other`
KNOWN_ERRORS = frozenset({
    "wrong_pin", "account_locked", "not_signed_in", "already_signed_in", "window_occupied", "paused",
    "not_paused", "window_busy", "queue_empty", "no_current_ticket", "ticket_not_here", "wrong_ticket_state",
    "category_not_served", "not_serving", "job_no_taken", "unknown_service", "unknown_window",
    "unknown_category", "unknown_ticket", "unknown_staff", "bad_request", "forbidden", "not_configured",
    "internal", "no_printer", "nothing_to_reprint",
})
MAX_JOB_NO = 64
MAX_PIN = 12
MAX_STAFF_NO = 8
RATING_MARGIN_MS = 1500
RECONCILE_GRACE_MS = 3000
GIVE_UP_MS = 60_000            # connected but unanswered this long: stop blocking the screen
MESSAGE_MS = 8000              # a success or info line fades after this; errors stay until the next action        # a rating closed this long before its deadline was a rating, not a timeout


class Sender(Protocol):
    def send(self, type_: str, body: dict[str, Any]) -> Any:  # returns an envelope with `.id`
        ...


@dataclass(frozen=True)
class Btn:
    label: str            # with the shortcut, e.g. "叫号 [F1]"
    enabled: bool
    reason: str = ""      # why it is disabled (shown under the buttons)


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


def fmt_duration(ms: int | None, lang: str) -> str:
    """12:05 for minutes:seconds; 1:02:05 past an hour."""
    if ms is None:
        return "—"
    s = max(0, int(ms // 1000))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class TerminalLogic:
    def __init__(self, config: HallConfig, window: int, store: LocalStore, sender: Sender | None = None, *,
                 lang: str = "zh", now_ms: Callable[[], int] | None = None, answer_timeout_s: float = 5.0,
                 on_finished: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.config = config
        self.window = config.window(window)
        self.store = store
        self.sender = sender
        self.lang = lang if lang in LANGS else "zh"
        self._now = now_ms or (lambda: int(time.time() * 1000))
        self.answer_timeout_ms = int(answer_timeout_s * 1000)
        self.on_finished = on_finished
        self.tz = ZoneInfo(config.hall.timezone)
        self.index = ServiceIndex(config.services, self.window.categories)
        self.connected = False
        self.win: dict[str, Any] | None = None        # window/<n> from the server (None until known)
        self.queues: dict[str, dict[str, Any]] = {}   # queue/<category>
        self.rating: dict[str, Any] | None = None     # rating/<n>
        self.gateways = slip_status.Gateways()        # node/gateway-*: is a slip printer's driver there
        self.dialog: str | None = None
        self.message = ""
        self.message_kind = ""
        self.si_staff_no = ""
        self.si_pin = ""
        self.si_field = "staff_no"
        self.pause_other = ""
        self.changed: Callable[[], None] = lambda: None   # the screen's refresh hook
        self.pending: dict[str, dict[str, Any]] = dict(store.get("pending", {}))
        self._answered_ms = 0
        self._said_ms = 0

    # --- small helpers -----------------------------------------------------------------------

    def tr(self, key: str, **fmt: object) -> str:
        return t(key, self.lang, **fmt)

    def now_ms(self) -> int:
        return self._now()

    def local(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, self.tz)

    def today(self) -> str:
        return self.local(self.now_ms()).strftime("%Y-%m-%d")

    def say(self, kind: str, text: str) -> None:
        self.message, self.message_kind = text, kind
        self._said_ms = self.now_ms()

    @property
    def session(self) -> dict[str, Any] | None:
        return self.store.get("session")

    @property
    def draft(self) -> dict[str, Any]:
        return dict(self.store.get("draft", {"search": "", "service": "", "job_no": ""}))

    @property
    def current(self) -> dict[str, Any]:
        return dict(self.store.get("current", {}))

    @property
    def parked(self) -> list[dict[str, Any]]:
        """Tickets this window parked today (yesterday's expire on the server)."""
        today = self.today()
        return [p for p in self.store.get("parked", []) if p.get("day", today) == today]

    @property
    def last_case(self) -> dict[str, Any] | None:
        return self.store.get("last_case")

    def win_state(self) -> str:
        """closed / idle / calling / serving / paused, from the server, else from what we know."""
        if self.win is not None:
            return str(self.win.get("state") or "closed")
        if self.session is None:
            return "closed"
        cur = self.current
        if self.store.get("paused"):
            return "paused"
        if cur.get("ticket_id") is not None:
            return "serving" if cur.get("serving") else "calling"
        return "idle"

    def ticket_no(self) -> str | None:
        if self.win is not None:
            return self.win.get("ticket")
        return self.current.get("ticket")

    # --- what arrives from the hall server -----------------------------------------------------

    def on_connection(self, connected: bool) -> None:
        self.connected = connected
        self.changed()

    def on_state(self, key: str, value: Any) -> None:
        n = self.window.number
        if key == f"window/{n}":
            before, self.win = self.win, value if isinstance(value, dict) else None
            self._window_changed()
            if slip_status.newly_failed(before, self.win):
                self.say("error", slip_status.line(self.win, self.tr)[0])
        elif key.startswith("queue/"):
            cat = key.split("/", 1)[1]
            if value is None:
                self.queues.pop(cat, None)
            elif isinstance(value, dict):
                self.queues[cat] = value
        elif key == f"rating/{n}":
            self._rating_changed(value if isinstance(value, dict) else None)
        elif not self.gateways.on_state(key, value):
            return
        self.changed()

    def _window_changed(self) -> None:
        w = self.win or {}
        cur = self.current
        tid = w.get("ticket_id")
        if tid is None:
            if cur:
                self.store.set("current", None)
        elif cur.get("ticket_id") != tid:
            ticket = w.get("ticket") or ""
            self.store.set("current", {"ticket_id": tid, "ticket": ticket, "category": _category_of(ticket),
                                       "recalls": 0, "wait_ms": None, "serving": w.get("state") == "serving"})
        elif bool(cur.get("serving")) != (w.get("state") == "serving"):
            cur["serving"] = w.get("state") == "serving"
            self.store.set("current", cur)
        paused = w.get("state") == "paused"
        if bool(self.store.get("paused")) != paused:
            self.store.set("paused", {"reason": w.get("pause_reason") or "", "since_ms": w.get("since_ms")}
                           if paused else None)
        self._reconcile()

    def _reconcile(self) -> None:
        """The server is the authority on who is signed in here (once it has told us). Right after an
        answer, a window state published before it may still be on its way: wait for the next one."""
        if self.win is None or self.pending or self.now_ms() - self._answered_ms < RECONCILE_GRACE_MS:
            return
        staff = self.win.get("staff") or None
        mine = self.session
        if mine is not None and (staff is None or staff.get("staff_no") != mine.get("staff_no")):
            self.store.set("session", None)
            self.dialog = None
            self.say("error", self.tr("term.signed_out_by_server"))

    def _rating_changed(self, value: dict[str, Any] | None) -> None:
        last = self.last_case
        self.rating = value
        if last is None:
            return
        if value is not None:
            if value.get("job") == last.get("job"):
                if last.get("rating") != "open":
                    last["rating"] = "open"
                    last["expires_ms"] = value.get("expires_ms") or last.get("expires_ms")
                    self.store.set("last_case", last)
            elif last.get("rating") == "open":      # a newer 办件 took the evaluator over
                last["rating"] = "closed"
                self.store.set("last_case", last)
            return
        if last.get("rating") == "open":
            expires = last.get("expires_ms") or 0
            rated = self.now_ms() < expires - RATING_MARGIN_MS
            last["rating"] = "rated" if rated else "closed"
            self.store.set("last_case", last)
            if rated:
                self._day_add(rated=1)

    # --- commands and their answers ----------------------------------------------------------

    def can_reach_server(self) -> tuple[bool, str]:
        if not self.connected:
            return False, self.tr("term.reason_offline")
        if self.pending:
            late = any(p.get("late") for p in self.pending.values())
            return False, self.tr("term.reason_queued" if late else "term.reason_busy")
        return True, ""

    def _send(self, action: str, type_: str, body: dict[str, Any], **extra: Any) -> bool:
        ok, reason = self.can_reach_server()
        if not ok or self.sender is None:
            self.say("error", reason or self.tr("term.reason_offline"))
            self.changed()
            return False
        env = self.sender.send(type_, body)
        msg_id = getattr(env, "id", env)
        kept = {k: v for k, v in body.items() if k != "pin"}        # never keep a PIN on disk
        self.pending[msg_id] = {"action": action, "type": type_, "body": kept, "sent_ms": self.now_ms(),
                                "extra": extra, "late": False}
        self.store.set("pending", self.pending)
        self.say("info", self.tr("term.sending"))
        self.changed()
        return True

    def on_reply(self, msg_id: str, reply: dict[str, Any]) -> None:
        p = self.pending.pop(msg_id, None)
        if p is None:
            return
        self.store.set("pending", self.pending)
        action = p["action"]
        if reply.get("ok"):
            result = reply.get("result") or {}
            handler = getattr(self, f"_ok_{action}", None)
            self.message, self.message_kind = "", ""
            if handler is not None:
                handler(result, p)
        else:
            self._refused(action, str(reply.get("error") or ""), str(reply.get("message") or ""), p)
        self._answered_ms = self.now_ms()
        self.changed()

    def tick(self) -> None:
        """Once a second: notice answers that are late; roll the day over; redraw the clocks."""
        now = self.now_ms()
        late = False
        for p in self.pending.values():
            if not p.get("late") and now - p["sent_ms"] > self.answer_timeout_ms:
                p["late"] = late = True
        if late:
            self.store.set("pending", self.pending)
            self.say("info", self.tr("term.queued_note"))
        if self.connected:
            # connected, yet no answer for long: stop waiting (the window state shows what happened)
            lost = [k for k, p in self.pending.items() if now - p["sent_ms"] > GIVE_UP_MS]
            for k in lost:
                self.pending.pop(k)
            if lost:
                self.store.set("pending", self.pending)
                self.say("error", self.tr("term.no_answer"))
        if self.message and self.message_kind != "error" and now - self._said_ms > MESSAGE_MS and not self.pending:
            self.message, self.message_kind = "", ""
        last = self.last_case
        if last and last.get("rating") == "open" and now > int(last.get("expires_ms") or 0):
            last["rating"] = "closed"
            self.store.set("last_case", last)
        self.changed()

    def error_text(self, code: str, message: str) -> str:
        if code == "wrong_pin":
            m = re.search(r"\((\d+) tries left\)", message)
            if m:
                return self.tr("err.wrong_pin_left", n=int(m.group(1)))
        if code == "account_locked":
            m = re.search(r"locked for (\d+) minutes", message)
            return self.tr("err.account_locked", n=int(m.group(1)) if m else 5)
        return self.tr(f"err.{code}") if code in KNOWN_ERRORS else self.tr("err.other", code=code or "?")

    def _refused(self, action: str, code: str, message: str, p: dict[str, Any]) -> None:
        self.say("error", self.error_text(code, message))
        if action == "sign_in":
            self.si_pin = ""
            self.si_field = "pin" if code == "wrong_pin" else "staff_no"
        elif action == "call_back" and code in ("wrong_ticket_state", "unknown_ticket", "ticket_not_here"):
            self._unpark(p["body"].get("ticket_id"))
        elif action == "sign_out" and code == "not_signed_in":
            self.store.set("session", None)
        elif action == "resume" and code == "not_paused":
            self.store.set("paused", None)

    # sign in / out

    def _ok_sign_in(self, r: dict[str, Any], p: dict[str, Any]) -> None:
        staff_no = str(r.get("staff_no") or p["extra"].get("staff_no"))
        name = ""
        try:
            name = self.config.staff_member(staff_no).name
        except KeyError:
            pass
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
        self.store.set("paused", {"reason": r.get("reason", ""), "since_ms": self.now_ms()})
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
                                   "category": _category_of(r.get("ticket", "")), "recalls": 0, "wait_ms": None,
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
            where = self._category_name(str(to.get("to_category")))
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

    # --- my day -------------------------------------------------------------------------------

    def day(self) -> dict[str, Any]:
        s = self.session
        d = self.store.get("day") or {}
        if not s or d.get("day") != self.today() or d.get("staff_no") != s.get("staff_no"):
            return {"day": self.today(), "staff_no": s.get("staff_no") if s else "", "served": 0, "handle_ms": 0,
                    "overdue": 0, "rated": 0}
        return dict(d)

    def _day_add(self, **add: int) -> None:
        d = self.day()
        for k, v in add.items():
            d[k] = int(d.get(k, 0)) + v
        self.store.set("day", d)

    # --- actions the screen calls ---------------------------------------------------------

    def action(self, name: str) -> bool:
        """Run a named action (a button or its shortcut). False when it is not available now."""
        if name == "lang":
            return self.toggle_lang()
        btn = self.buttons().get(name)
        if btn is not None and not btn.enabled:
            if btn.reason:
                self.say("error", btn.reason)
            self.changed()
            return False
        fn = getattr(self, f"do_{name}", None)
        if fn is None:
            return False
        if self.message_kind != "error" or name == "close":
            self.message, self.message_kind = "", ""
        fn()
        self.changed()
        return True

    def toggle_lang(self) -> bool:
        self.lang = LANGS[(LANGS.index(self.lang) + 1) % len(LANGS)]
        self.message, self.message_kind = "", ""
        self.changed()
        return True

    # sign-in pad (on-screen and physical keyboard alike)

    def pad(self, key: str) -> None:
        """A key of the sign-in pad: a digit, a 工号 prefix (e.g. "HC"), "back", "clear", "tab", "enter"."""
        if key == "tab":
            self.si_field = "pin" if self.si_field == "staff_no" else "staff_no"
        elif key == "back":
            if self.si_field == "pin":
                self.si_pin = self.si_pin[:-1]
            else:
                self.si_staff_no = self.si_staff_no[:-1]
        elif key == "clear":
            self.si_staff_no = self.si_pin = ""
            self.si_field = "staff_no"
        elif key == "enter":
            if self.si_field == "staff_no" and self.si_staff_no:
                self.si_field = "pin"
            else:
                self.do_sign_in()
        elif key.isdigit() and len(key) == 1:
            if self.si_field == "pin":
                self.si_pin = (self.si_pin + key)[:MAX_PIN]
            else:
                self.si_staff_no = (self.si_staff_no + key)[:MAX_STAFF_NO]
        elif key.isascii() and key.isalpha():
            self.si_field = "staff_no"
            self.si_staff_no = (self.si_staff_no + key.upper())[:MAX_STAFF_NO]
        self.changed()

    def focus_field(self, field_name: str) -> None:
        if field_name in ("staff_no", "pin"):
            self.si_field = field_name
            self.changed()

    def resolved_staff_no(self) -> str:
        """The typed 工号; digits alone are completed when exactly one 工号 ends with them."""
        typed = self.si_staff_no.strip().upper()
        known = [s.staff_no for s in self.config.staff]
        if typed in known or not typed.isdigit():
            return typed
        matches = [k for k in known if k.endswith(typed) and not k[: -len(typed)].isdigit()]
        return matches[0] if len(matches) == 1 else typed

    def do_sign_in(self) -> None:
        staff_no = self.resolved_staff_no()
        if not staff_no:
            self.say("error", self.tr("term.need_staff_no"))
            self.si_field = "staff_no"
            return
        if not self.si_pin:
            self.say("error", self.tr("term.need_pin"))
            self.si_field = "pin"
            return
        self._send("sign_in", "window.sign_in", {"staff_no": staff_no, "pin": self.si_pin}, staff_no=staff_no)

    def do_sign_out(self) -> None:
        self._send("sign_out", "window.sign_out", {})

    def do_pause(self) -> None:
        self.dialog = "pause"

    def pause_with(self, reason: str) -> None:
        if reason not in PAUSE_REASONS:
            return
        ok, why = self.can_reach_server()
        if not ok:
            self.say("error", why)
            self.changed()
            return
        text = t(f"pause.{reason}", "zh")          # the hall's records are in Chinese
        if reason == "other" and self.pause_other.strip():
            text = f"{text}：{self.pause_other.strip()}"[:32]
        self._send("pause", "window.pause", {"reason": text})

    def set_pause_other(self, text: str) -> None:
        self.pause_other = text[:24]

    def do_resume(self) -> None:
        self._send("resume", "window.resume", {})

    def do_call_next(self) -> None:
        self._send("call_next", "queue.call_next", {})

    def do_recall(self) -> None:
        self._send("recall", "queue.recall", {})

    def do_no_show(self) -> None:
        self._send("no_show", "queue.no_show", {})

    def do_park(self) -> None:
        self._send("park", "queue.park", {})

    def do_call_back(self) -> None:
        if len(self.parked) == 1:
            self.call_back(self.parked[0]["ticket_id"])
        else:
            self.dialog = "call_back"

    def call_back(self, ticket_id: int) -> None:
        self._send("call_back", "queue.call_back", {"ticket_id": int(ticket_id)})

    def do_transfer(self) -> None:
        self.dialog = "transfer"

    def transfer_to_window(self, number: int) -> None:
        self._send("transfer", "queue.transfer", {"to_window": int(number)})

    def transfer_to_category(self, code: str) -> None:
        self._send("transfer", "queue.transfer", {"to_category": code})

    def do_start(self) -> None:
        self._send("start", "job.start", {})

    def do_finish(self) -> None:
        d = self.draft
        if not d.get("service"):
            self.say("error", self.tr("term.need_service"))
            return
        body: dict[str, Any] = {"service_code": d["service"]}
        if d.get("job_no", "").strip():
            body["job_no"] = d["job_no"].strip()
        self._send("finish", "job.finish", body, ticket=self.ticket_no() or "")

    def do_reprint(self) -> None:
        """补打: the gateway prints the last 办件's slip again; the terminal never sees it."""
        self._send("reprint", "slip.reprint", {})

    def do_my_day(self) -> None:
        self.dialog = None if self.dialog == "my_day" else "my_day"

    def do_search(self) -> None:
        self.dialog = None          # the screen puts the focus in the search field

    def do_close(self) -> None:
        self.dialog = None

    def close_dialog(self) -> None:
        self.dialog = None
        self.changed()

    # the case being typed: kept on disk at every keystroke

    def set_search(self, text: str) -> None:
        d = self.draft
        if d.get("search") != text:
            d["search"] = text[:40]
            self.store.set("draft", d)
            self.changed()

    def choose_service(self, code: str) -> None:
        if self.index.get(code) is None:
            return
        d = self.draft
        d["service"] = code
        self.store.set("draft", d)
        self.changed()

    def choose_first(self) -> None:
        """Enter in the search field: take the best match."""
        found = self.index.search(self.draft.get("search", ""), limit=1)
        if found:
            self.choose_service(found[0].code)

    def set_job_no(self, text: str) -> None:
        clean = "".join(ch for ch in text if ch.isprintable()).strip()[:MAX_JOB_NO]
        d = self.draft
        if d.get("job_no") != clean:
            d["job_no"] = clean
            self.store.set("draft", d)
            self.changed()

    # --- keys ---------------------------------------------------------------------------------

    def key(self, name: str, *, ctrl: bool = False, typing: bool = False) -> bool:
        """A physical key (Kivy's key name: "f1", "enter", "backspace", "a", "1", …). `typing`: a text
        field has the focus (then only function keys and Escape are ours). True when handled."""
        screen = self.screen()
        if ctrl and name == "e":
            return self.toggle_lang()
        if ctrl and name == "p" and screen == "main":
            return self.action("reprint")
        if name == "escape":
            if self.dialog:
                self.close_dialog()
                return True
            if screen == "sign_in":
                self.pad("clear")
                return True
            return False
        if screen == "sign_in":
            if typing:
                return False
            keymap = {"backspace": "back", "tab": "tab", "enter": "enter", "numpadenter": "enter", "delete": "clear"}
            if name in keymap:
                self.pad(keymap[name])
                return True
            if name.startswith("numpad") and name[6:].isdigit():
                name = name[6:]
            if len(name) == 1 and name.isascii() and name.isalnum():
                self.pad(name)
                return True
            return False
        if screen == "pause" and not typing and name in ("1", "2", "3", "4", "5"):
            self.pause_with(PAUSE_REASONS[int(name) - 1])
            return True
        if screen == "call_back" and not typing and name.isdigit() and name != "0":
            rows = self.parked
            i = int(name) - 1
            if i < len(rows):
                self.call_back(rows[i]["ticket_id"])
                return True
        act = MAIN_KEYS.get(name)
        if act is None:
            return False
        if act == "pause" and self.win_state() == "paused":
            act = "resume"
        return self.action(act)

    # --- the view -----------------------------------------------------------------------------

    def screen(self) -> str:
        if self.session is None:
            return "sign_in"
        if self.dialog:
            return self.dialog
        if self.win_state() == "paused":
            return "paused"
        return "main"

    def buttons(self) -> dict[str, Btn]:
        state = self.win_state()
        reach, why = self.can_reach_server()
        cur = self.current
        cap = self.config.hall.thresholds.recall_cap
        draft = self.draft

        def need(cond: bool, reason_key: str, **fmt: Any) -> tuple[bool, str]:
            return (True, "") if cond else (False, self.tr(reason_key, **fmt))

        rules: dict[str, tuple[bool, str]] = {
            "call_next": need(state == "idle", "term.reason_has_ticket" if state in ("calling", "serving")
                              else "term.reason_state"),
            "recall": need(state == "calling", "term.reason_no_call"),
            "no_show": need(state == "calling", "term.reason_no_call"),
            "park": need(state in ("calling", "serving"), "term.reason_no_ticket"),
            "transfer": need(state in ("calling", "serving"), "term.reason_no_ticket"),
            "call_back": need(state == "idle" and bool(self.parked),
                              "term.reason_none_parked" if not self.parked else "term.reason_has_ticket"),
            "start": need(state == "calling", "term.reason_no_call"),
            "finish": need(state in ("calling", "serving") and bool(draft.get("service")),
                           "term.reason_no_ticket" if state not in ("calling", "serving") else "term.need_service"),
            "pause": need(state == "idle", "term.reason_has_ticket"),
            "resume": need(state == "paused", "term.reason_state"),
            "sign_out": need(state not in ("calling", "serving"), "term.reason_has_ticket"),
            "sign_in": (True, ""),
        }
        ok, why_not = slip_status.can_reprint(self.window.printer is not None, self.win, self.last_case is not None)
        rules["reprint"] = (ok, self.tr(why_not) if why_not else "")
        out: dict[str, Btn] = {}
        for name, (ok, reason) in rules.items():
            if name in SERVER_ACTIONS and not reach:
                ok, reason = False, why
            label = self.tr(f"term.btn.{name}")
            if name == "recall" and state == "calling":
                label = f"{label} {int(cur.get('recalls') or 0)}/{cap}"
            out[name] = Btn(f"{label}  [{SHORTCUTS[name]}]", ok, reason)
        for name in ("my_day", "search"):
            out[name] = Btn(f"{self.tr(f'term.btn.{name}')}  [{SHORTCUTS[name]}]", True)
        out["close"] = Btn(f"{self.tr('common.back')}  [Esc]", True)
        out["lang"] = Btn(f"{'English' if self.lang == 'zh' else '中文'}  [{SHORTCUTS['lang']}]", True)
        return out

    def _category_name(self, code: str) -> str:
        try:
            return f"{code} {self.config.category(code).name}"
        except KeyError:
            return code

    def _service_text(self, s: Service) -> str:
        return f"{s.code}  {s.name}"

    def view(self) -> View:
        now = self.now_ms()
        lang = self.lang
        session = self.session
        state = self.win_state()
        cur = self.current
        draft = self.draft
        btn = self.buttons()
        title = f"{self.tr('window.number', number=self.window.number)} · {self.window.name}"
        banner = "" if self.connected else self.tr("term.offline_banner")
        staff_line = ""
        if session:
            staff_line = f"{session.get('name', '')} · {self.tr('staff.no')} {session.get('staff_no', '')}"

        # sign-in
        hint = ""
        typed = self.resolved_staff_no()
        if typed:
            try:
                hint = self.config.staff_member(typed).name
            except KeyError:
                hint = ""
        occupant = (self.win or {}).get("staff") if self.win else None
        if occupant and session is None:
            hint = (hint + "  " if hint else "") + self.tr(
                "term.occupied_by", name=occupant.get("name", ""), staff_no=occupant.get("staff_no", ""))
        prefixes = sorted({re.sub(r"\d+$", "", s.staff_no) for s in self.config.staff} - {""})[:4]

        # queue
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
                "code": code, "name": self._category_name(code),
                "waiting": str(q.get("waiting", 0) if q else "—"),
                "detail": self.tr("term.queue_detail", prio=int(q.get("priority_waiting") or 0),
                                  t=fmt_duration(now - oldest, lang) if oldest else "—") if q else "",
            })
        parked = list({"ticket_id": p["ticket_id"], "text": f"{i + 1}.  {p['ticket']}",
                        "detail": self.tr("term.parked_for", t=fmt_duration(now - int(p.get("at_ms") or now), lang))}
                       for i, p in enumerate(self.parked))

        # case
        results = self.index.search(draft.get("search", ""), limit=30)
        services = list({"code": s.code, "text": self._service_text(s),
                          "detail": self.tr("term.promised", n=s.promised_min),
                          "selected": s.code == draft.get("service")} for s in results)
        service_line = self.tr("term.no_service")
        chosen = self.index.get(draft.get("service", ""))
        if chosen is not None:
            service_line = f"{self._service_text(chosen)} · {self.tr('term.promised', n=chosen.promised_min)}"
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
                rating_line = self.tr("term.rating_open", t=fmt_duration(left, lang))
            elif r == "rated":
                rating_line = self.tr("term.rating_done")
            elif r == "closed":
                rating_line = self.tr("term.rating_closed")

        slip_text, slip_kind = slip_status.line(self.win, self.tr, self.gateways.any_alive())

        # pause
        paused = self.store.get("paused") or {}
        since = (self.win or {}).get("since_ms") if state == "paused" and self.win else paused.get("since_ms")
        paused_line = ""
        if state == "paused":
            reason = (self.win or {}).get("pause_reason") or paused.get("reason") or ""
            paused_line = self.tr("term.paused_line", reason=reason)
        reasons = list({"key": r, "text": f"{i + 1}.  {self.tr(f'pause.{r}')}"} for i, r in enumerate(PAUSE_REASONS))

        # transfer
        windows = list({"number": w.number, "text": f"{self.tr('window.number', number=w.number)}",
                         "detail": w.name} for w in self.config.windows if w.number != self.window.number)
        cats = list({"code": c.code, "text": self._category_name(c.code)} for c in self.config.categories)

        # my day
        d = self.day()
        served = int(d.get("served", 0))
        mean = fmt_duration(d["handle_ms"] // served, lang) if served else "—"
        rate = f"{100 * int(d.get('rated', 0)) / served:.0f}%" if served else "—"
        day_lines = [
            {"label": self.tr("term.day.served"), "value": str(served)},
            {"label": self.tr("term.day.mean"), "value": mean},
            {"label": self.tr("term.day.overdue"), "value": str(d.get("overdue", 0))},
            {"label": self.tr("term.day.rated"), "value": str(d.get("rated", 0))},
            {"label": self.tr("term.day.rate"), "value": rate},
        ]
        return View(
            screen=self.screen(), lang=lang, title=title, clock=self.local(now).strftime("%H:%M:%S"),
            online=self.connected, banner=banner, message=self.message, message_kind=self.message_kind,
            staff_line=staff_line,
            si_staff_no=self.si_staff_no, si_pin="●" * len(self.si_pin), si_field=self.si_field, si_hint=hint,
            si_prefixes=prefixes,
            state_text=self.tr(f"term.state.{state}"), ticket=ticket or "—", ticket_info=info,
            recall_text=recall_text, queues=queues, parked=parked,
            search=draft.get("search", ""), services=services, service_line=service_line,
            job_no=draft.get("job_no", ""), rating_line=rating_line, last_case_line=last_line,
            pause_reasons=reasons, pause_other=self.pause_other, paused_line=paused_line,
            paused_elapsed=fmt_duration(now - since, lang) if since else "—",
            transfer_windows=windows, transfer_categories=cats, day_lines=day_lines,
            btn=btn, slip_line=slip_text, slip_kind=slip_kind,
        )


def _category_of(ticket: str) -> str:
    return re.sub(r"\d+$", "", ticket or "")
