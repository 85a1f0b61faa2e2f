"""What the ticket dispenser shows and sends: a plain class (tested without a window).

- home: every service category with its waiting count (`queue/<category>`); a tap takes a
  ticket (`queue.take`), once: further taps are ignored until the answer is there.
- priority: behind a button for the hall's staff (导办员): choose the kind and the category,
  then hold "confirm" for `hold_s` seconds — a citizen's quick tap does not issue one.
- ticket: number, category, the people ahead and the estimated wait (the `queue.take` reply,
  `hallnet.bodies.QueueTaken`), time — shown for `ticket_s`, and printed through `print_ticket`
  if the dispenser has a printer, with a QR code to the ticket's status page (`status_url`, else
  `qr_base` + `status_path`).
While the hall server is not connected, nothing is sent (a ticket nobody holds must not appear
in the queue later): the buttons are disabled and a banner says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Callable
from zoneinfo import ZoneInfo

from config.i18n import t
from config.schema import HallConfig
from devices.printer.receipts import wait_text
from hallnet.bodies import BadBody, queue_taken
from hallnet.vocabulary import Key, Msg

TAKE_TYPE = Msg.QUEUE_TAKE
PRIORITY_KINDS: tuple[str, ...] = ("elderly", "appointment", "green")

Send = Callable[[str, dict[str, Any]], Any]          # returns the envelope (with .id)


class Screen(str, Enum):
    HOME = "home"
    PRIORITY = "priority"
    WAIT = "wait"
    TICKET = "ticket"


@dataclass(frozen=True)
class CategoryButton:
    code: str
    name: str
    waiting: int
    priority_waiting: int


@dataclass(frozen=True)
class TicketInfo:
    number: str
    category: str                   # the category's name
    waiting_ahead: int
    time: datetime                  # local hall time
    priority: str | None
    wait_min_minutes: int | None = None     # the estimated wait; both None: no open window
    wait_max_minutes: int | None = None
    status_url: str | None = None           # the ticket's status page, for its QR code
    estimated: bool = False                 # the hall server answered with an estimate
    lang: str = "zh"

    @property
    def wait_text(self) -> str:
        """The estimated wait as the screen and the ticket say it ("" from a server without one)."""
        return wait_text(self.wait_min_minutes, self.wait_max_minutes, self.lang) if self.estimated else ""


@dataclass(frozen=True)
class View:
    screen: Screen
    categories: tuple[CategoryButton, ...]
    enabled: bool
    banner: str
    message: str
    ticket: TicketInfo | None
    priority_kind: str
    priority_category: str | None


class Dispenser:
    def __init__(
        self,
        config: HallConfig,
        send: Send,
        *,
        lang: str = "zh",
        print_ticket: Callable[[TicketInfo], None] | None = None,
        qr_base: str = "",
        clock: Callable[[], float] = time.monotonic,
        ticket_s: float = 10.0,
        hold_s: float = 2.0,
        slow_s: float = 5.0,
    ) -> None:
        self.config = config
        self.send = send
        self.lang = lang
        self.print_ticket = print_ticket
        self.qr_base = qr_base.rstrip("/")      # the hall server's public HTTP address (status page links)
        self.clock = clock
        self.ticket_s = ticket_s
        self.hold_s = hold_s
        self.slow_s = slow_s
        self.tz = ZoneInfo(config.hall.timezone)
        self.screen = Screen.HOME
        self.connected = False
        self.queues: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, tuple[str, str | None, float]] = {}   # msg id → category, priority, sent
        self.ticket: TicketInfo | None = None
        self.message = ""
        self.priority_kind = PRIORITY_KINDS[0]
        self.priority_category: str | None = None
        self.issued: list[TicketInfo] = []
        self._until_s: float | None = None

    # --- the hall --------------------------------------------------------------------------------

    def on_state(self, key: str, value: Any) -> None:
        if key.startswith(Key.QUEUE):
            code = key[len(Key.QUEUE):]
            if isinstance(value, dict):
                self.queues[code] = value
            else:
                self.queues.pop(code, None)

    def on_connection(self, connected: bool) -> None:
        self.connected = connected

    def on_reply(self, ref: str, body: dict[str, Any]) -> None:
        """The server's answer to a `queue.take` (hallnet `on_reply`, on the UI thread)."""
        item = self.pending.pop(ref, None)
        if item is None:
            return
        category, priority, _ = item
        if not body.get("ok"):
            self.message = t("dispenser.failed", self.lang, reason=str(body.get("message") or body.get("error") or ""))
            self._go(Screen.HOME)
            return
        info = self._ticket_info(body.get("result") or {}, category, priority)
        self.ticket = info
        self.issued.append(info)
        self.message = ""
        self._go(Screen.TICKET, self.clock() + self.ticket_s)
        if self.print_ticket is not None:
            self.print_ticket(info)

    # --- taps --------------------------------------------------------------------------------------

    def tap_category(self, code: str) -> bool:
        if self.screen != Screen.HOME:
            return False
        return self._take(code, None)

    def open_priority(self) -> None:
        if self.screen == Screen.HOME:
            self.priority_kind, self.priority_category, self.message = PRIORITY_KINDS[0], None, ""
            self._go(Screen.PRIORITY, self.clock() + 60)

    def choose_kind(self, kind: str) -> None:
        if self.screen == Screen.PRIORITY and kind in PRIORITY_KINDS:
            self.priority_kind = kind

    def choose_category(self, code: str) -> None:
        if self.screen == Screen.PRIORITY and code in {c.code for c in self.config.categories}:
            self.priority_category = code
            self.message = ""

    def confirm_priority(self, held_s: float) -> bool:
        """The staff member held the confirm button for `held_s` seconds."""
        if self.screen != Screen.PRIORITY:
            return False
        if self.priority_category is None:
            self.message = t("dispenser.choose_category", self.lang)
            return False
        if held_s < self.hold_s:
            self.message = t("dispenser.hold_confirm", self.lang, n=int(self.hold_s))
            return False
        return self._take(self.priority_category, self.priority_kind)

    def cancel(self) -> None:
        if self.screen in (Screen.PRIORITY, Screen.TICKET):
            self.message = ""
            self._go(Screen.HOME)

    def tick(self) -> None:
        now = self.clock()
        if self._until_s is not None and now >= self._until_s and self.screen in (Screen.TICKET, Screen.PRIORITY):
            self.message = ""
            self._go(Screen.HOME)
        if self.screen == Screen.WAIT and self.pending:
            sent = min(s for _, _, s in self.pending.values())
            if now - sent > self.slow_s:
                self.message = t("dispenser.slow", self.lang)

    # --- what to show --------------------------------------------------------------------------------

    def view(self) -> View:
        cats = tuple(
            CategoryButton(c.code, c.name, int(self.queues.get(c.code, {}).get("waiting") or 0),
                           int(self.queues.get(c.code, {}).get("priority_waiting") or 0))
            for c in self.config.categories
        )
        return View(screen=self.screen, categories=cats, enabled=self.connected and not self.pending,
                    banner="" if self.connected else t("dispenser.offline", self.lang), message=self.message,
                    ticket=self.ticket if self.screen == Screen.TICKET else None,
                    priority_kind=self.priority_kind, priority_category=self.priority_category)

    # --- inside ------------------------------------------------------------------------------------------

    def _take(self, code: str, priority: str | None) -> bool:
        if not self.connected:
            self.message = t("dispenser.offline", self.lang)
            return False
        if self.pending or code not in {c.code for c in self.config.categories}:
            return False
        body: dict[str, Any] = {"category": code}
        if priority:
            body["priority"] = priority
        env = self.send(TAKE_TYPE, body)
        self.pending[env.id] = (code, priority, self.clock())
        self.message = ""
        self._go(Screen.WAIT)
        return True

    def _ticket_info(self, r: dict[str, Any], category: str, priority: str | None) -> TicketInfo:
        """The ticket from the `queue.take` result; a result that does not fit `QueueTaken` still
        gives its number (from an older or odd server: no estimate, no QR code)."""
        try:
            taken = queue_taken(r)
        except BadBody:
            taken = None
        if taken is None:
            taken_ms = r.get("taken_ms")
            when = datetime.fromtimestamp(taken_ms / 1000 if isinstance(taken_ms, int) else time.time(), self.tz)
            return TicketInfo(number=str(r.get("ticket", "")), category=self._category_name(str(r.get("category") or category)),
                              waiting_ahead=int(r.get("waiting_before") or 0) if isinstance(r.get("waiting_before"), int) else 0,
                              time=when.replace(tzinfo=None), priority=r.get("priority") or priority, lang=self.lang)
        when = datetime.fromtimestamp(taken.taken_ms / 1000 if taken.taken_ms is not None else time.time(), self.tz)
        url = taken.status_url or (self.qr_base + taken.status_path if self.qr_base and taken.status_path else None)
        return TicketInfo(number=taken.ticket, category=self._category_name(taken.category or category),
                          waiting_ahead=taken.people_ahead, time=when.replace(tzinfo=None),
                          priority=taken.priority or priority, wait_min_minutes=taken.wait_min_minutes,
                          wait_max_minutes=taken.wait_max_minutes, status_url=url,
                          estimated=taken.ahead is not None, lang=self.lang)

    def _category_name(self, code: str) -> str:
        try:
            return self.config.category(code).name
        except KeyError:
            return code

    def _go(self, screen: Screen, until_s: float | None = None) -> None:
        self.screen = screen
        self._until_s = until_s
