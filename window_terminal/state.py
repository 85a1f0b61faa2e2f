"""The window terminal's mirror of the hall: what the server published about this window, its
queues and its rating, and what the terminal keeps on disk (session, current ticket, parked
tickets, the case being typed, the day's figures). Plain Python, no Kivy.

`TerminalState` is the base of `window_terminal.terminal.TerminalLogic`; the other jobs (replies,
commands, buttons, keys, view) are layered on it in their own modules.

R6: the terminal never learns a rating's level. It shows only whether the citizen has rated.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any, Callable, Protocol
from zoneinfo import ZoneInfo

from config.i18n import LANGS, t
from config.schema import HallConfig
from window_terminal import slip_status
from window_terminal.local_store import LocalStore
from window_terminal.services import ServiceIndex
from hallnet.vocabulary import Key

PAUSE_REASONS: tuple[str, ...] = ("lunch", "away", "consulting", "training", "other")
RATING_MARGIN_MS = 1500        # a rating closed this long before its deadline was a rating, not a timeout
RECONCILE_GRACE_MS = 3000      # after an answer, a window state published before it may still arrive


class Sender(Protocol):
    def send(self, type_: str, body: dict[str, Any]) -> Any:  # returns an envelope with `.id`
        ...


def fmt_duration(ms: int | None, lang: str) -> str:
    """A duration as people say it: 45秒, 24分, 1小时2分 (45 s, 24 min, 1 h 2 min) — never a clock face."""
    if ms is None:
        return "—"
    s = max(0, int(ms // 1000))
    h, rest = divmod(s, 3600)
    m = rest // 60
    if lang == "zh":
        return f"{s}秒" if s < 60 else f"{m}分" if not h else f"{h}小时{m}分" if m else f"{h}小时"
    return f"{s} s" if s < 60 else f"{m} min" if not h else f"{h} h {m} min" if m else f"{h} h"


def category_of(ticket: str) -> str:
    """The category code of a ticket number: "A012" → "A"."""
    return re.sub(r"\d+$", "", ticket or "")


class TerminalState:
    """What the terminal knows: the server's word when it has one, else the local store."""

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
        self.si_one_time = ""     # a manager's one-time PIN, held while the clerk types their new one
        self.si_sent_pin = ""     # the PIN of the sign-in just sent (memory only, never on disk)
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

    def queued_offline(self) -> list[dict[str, Any]]:
        """Actions done while the hall server was unreachable, waiting in the outbox, oldest first."""
        return [p for p in self.pending.values() if p.get("offline")]

    def win_state(self) -> str:
        """closed / idle / calling / serving / paused, from the server, else from what we know (and
        always from what we know while actions done offline wait to be sent)."""
        if self.win is not None and not self.queued_offline():
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
        if self.win is not None and not self.queued_offline():
            return self.win.get("ticket")
        return self.current.get("ticket")

    # --- what arrives from the hall server -----------------------------------------------------

    def on_connection(self, connected: bool) -> None:
        if connected and not self.connected and self.pending:
            now = self.now_ms()           # the outbox resends now: count the answer's time from here
            for p in self.pending.values():
                p["sent_ms"], p["late"] = max(int(p["sent_ms"]), now), False
            self.store.set("pending", self.pending)
        self.connected = connected
        self.changed()

    def on_state(self, key: str, value: Any) -> None:
        n = self.window.number
        if key == Key.window(n):
            before, self.win = self.win, value if isinstance(value, dict) else None
            self._window_changed()
            if slip_status.newly_failed(before, self.win):
                self.say("error", slip_status.line(self.win, self.tr)[0])
        elif key.startswith(Key.QUEUE):
            cat = key.split("/", 1)[1]
            if value is None:
                self.queues.pop(cat, None)
            elif isinstance(value, dict):
                self.queues[cat] = value
        elif key == Key.rating(n):
            self._rating_changed(value if isinstance(value, dict) else None)
        elif not self.gateways.on_state(key, value):
            return
        self.changed()

    def _window_changed(self) -> None:
        if self.queued_offline():
            return            # what the clerk did offline stands until the server has answered it
        w = self.win or {}
        cur = self.current
        tid = w.get("ticket_id")
        if tid is None:
            if cur:
                self.store.set("current", None)
        elif cur.get("ticket_id") != tid:
            ticket = w.get("ticket") or ""
            self.store.set("current", {"ticket_id": tid, "ticket": ticket, "category": category_of(ticket),
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

    # --- read by the keys and the view ------------------------------------------------------

    def resolved_staff_no(self) -> str:
        """The typed 工号; digits alone are completed when exactly one 工号 ends with them."""
        typed = self.si_staff_no.strip().upper()
        known = [s.staff_no for s in self.config.staff]
        if typed in known or not typed.isdigit():
            return typed
        matches = [k for k in known if k.endswith(typed) and not k[: -len(typed)].isdigit()]
        return matches[0] if len(matches) == 1 else typed

    def screen(self) -> str:
        if self.session is None:
            return "sign_in"
        if self.dialog:
            return self.dialog
        if self.win_state() == "paused":
            return "paused"
        return "main"

    def category_name(self, code: str) -> str:
        try:
            return f"{code} {self.config.category(code).name}"
        except KeyError:
            return code

