"""What the evaluator shows and what it sends: a plain class, driven by the hall state, the
citizen's taps and a clock; the Kivy screens only display `view()` and forward taps.

Flow (DOMAIN R1–R6):
- identity (亮身份): who serves at this window and the window's state, with the ticket it called
  or serves (`window/<n>`'s `ticket`) while no 办件 waits for a rating.
- `rating/<n>` opens → rate: five levels and a countdown to the server's deadline at once; the
  QR code when the hall server answers `rating.link` (`kiosk.rating_link`: public state carries
  no rating token). The request leaves after the screen is drawn (`ask_link`, also from `tick`).
  - level 1–2 → reasons: tags (at least one), optional phone (own keypad screen) and text
    (own pinyin screen, or the citizen's phone via the QR code) → submit → thanks.
    The citizen walks away (the reasons screens give up after `reasons_s`), or the next 办件
    opens: the 差评 is sent with what was chosen, and without a tag with the reserved reason
    原因待回访 (`REASON_PENDING`: the call-back asks), and the tap's time (`pressed_ms`).
  - level 3–5 → tags: optional, submitted by one more tap or by itself after `tag_timeout_s`
    → thanks. With no tags configured for the level, the tap submits at once.
- the countdown ends with no level chosen → identity; the 办件 stays 未评价 (nothing is sent).
- A rating is handed to `send` (the durable outbox) before thanks shows; each 办件 is sent at
  most once, whatever is tapped (R6). A tapped level waiting on a follow-up screen is kept on
  disk (`kiosk.drafts`) and sent by `resume_kept` if the kiosk process restarts meanwhile.

The reasons screens' entry (tags, phone keypad, pinyin text) is in `kiosk.evaluator_reasons`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from config.i18n import t
from config.schema import HallConfig, TagList
from kiosk.drafts import DraftStore, KeptTap
from kiosk.evaluator_reasons import Draft, ReasonsEntry, valid_mobile
from kiosk.evaluator_view import (
    FOLLOW_UP, TAGS_KEY, Photos, Screen, StaffCard, TagChoice, View, as_int, called_ticket, staff_card, tag_list,
    window_status,
)
from kiosk.rating_link import LinkRequests
from kiosk.rating_link import Send as Send
from hallnet.vocabulary import REASON_PENDING, Key, Msg

SEND_TYPE = Msg.RATING_SUBMIT
# How many of its own ratings the evaluator remembers (`sent_jobs`, `sent`): enough to never show
# or send a 办件 twice — the hall only re-publishes the rating open now — while a kiosk that runs
# for months does not keep every rating it ever gave.
SENT_KEPT = 256


@dataclass
class _Opening:
    job: str
    staff_no: str
    staff_name: str
    department: str
    stars: int
    deadline_s: float               # on the monotonic clock
    expires_ms: int | None = None   # the server's deadline, on the server's clock
    qr_url: str | None = None       # the signed link, once the hall server answered `rating.link`


class Evaluator(ReasonsEntry):
    def __init__(
        self,
        config: HallConfig,
        window: int,
        send: Send,
        *,
        lang: str = "zh",
        qr_base: str = "http://127.0.0.1:8080",
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        tag_timeout_s: float = 10.0,
        thanks_s: float = 4.0,
        reasons_s: float = 180.0,
        drafts: DraftStore | None = None,
        photos: Photos | None = None,
    ) -> None:
        self.config = config
        self.window = window
        self.send = send
        self.lang = lang
        self.qr_base = qr_base.rstrip("/")
        self.clock = clock
        self.wall_ms = wall_ms
        self.tag_timeout_s = tag_timeout_s
        self.thanks_s = thanks_s
        self.reasons_s = reasons_s          # time to give reasons once a 差评 level was chosen in time
        self.drafts = drafts                # taps waiting on a follow-up screen, kept across a restart
        self.photos = photos                # the staff photos the hall server names, downloaded
        self.tags: TagList = config.tags    # the reason tags in force: the server's `tags` key, else the config's
        self.links = LinkRequests(self.qr_base)
        self._link_wanted: str | None = None    # the 办件 whose QR link is still to be asked for
        self.screen = Screen.IDENTITY
        self.connected = False
        self.pending = 0                    # messages still in the outbox
        self.window_state: dict[str, Any] | None = None
        self.opening: _Opening | None = None
        self.draft: Draft | None = None
        self.sent_jobs: set[str] = set()       # the last SENT_KEPT 办件 rated from here (or in the outbox)
        self._sent_order: deque[str] = deque()  # sent_jobs, oldest first
        self.sent: deque[dict[str, Any]] = deque(maxlen=SENT_KEPT)    # the last bodies handed to `send`, in order
        self.message = ""
        self._screen_until_s: float | None = None   # tags / thanks end by themselves
        try:
            self.window_cfg = config.window(window)
        except KeyError:
            raise ValueError(f"window {window} is not in the hall configuration") from None

    # --- the hall ----------------------------------------------------------------------------

    def on_state(self, key: str, value: Any) -> None:
        """A state key changed (hallnet `on_change`, handed over to the UI thread)."""
        if key == Key.window(self.window):
            self.window_state = value if isinstance(value, dict) else None
        elif key == Key.rating(self.window):
            self.on_rating(value if isinstance(value, dict) else None)
        elif key == TAGS_KEY:
            self.tags = tag_list(self.config, value)
            if self.draft is not None:      # a tag withdrawn meanwhile is no longer chosen (the server would refuse it)
                allowed = {tag.code for tag in self.tags.for_level(self.draft.level)}
                self.draft.tags = [code for code in self.draft.tags if code in allowed]

    def on_connection(self, connected: bool) -> None:
        self.connected = connected

    def set_pending(self, n: int) -> None:
        """Messages in the outbox; the banner counts ratings, not the QR link requests."""
        self.pending = max(0, n - self.links.waiting)

    def mark_sent(self, jobs: set[str]) -> None:
        """办件 rated by an earlier run whose messages are still in the outbox."""
        for job in jobs:
            self._remember(job)

    def _remember(self, job: str) -> None:
        if job in self.sent_jobs:
            return
        self.sent_jobs.add(job)
        self._sent_order.append(job)
        while len(self._sent_order) > SENT_KEPT:
            self.sent_jobs.discard(self._sent_order.popleft())

    def on_rating(self, value: dict[str, Any] | None) -> None:
        """`rating/<n>`: a 办件 to rate (its QR link is not in it: see `ask_link`), or None."""
        if value is None or not isinstance(value.get("job"), str):
            self._closed()
            return
        job = value["job"]
        if job in self.sent_jobs or (self.opening is not None and self.opening.job == job):
            return
        remaining_s = self._remaining_s(value.get("expires_ms"))
        if remaining_s <= 0:
            return
        if self.draft is not None and self.screen in FOLLOW_UP:
            self._submit()          # the next 办件 needs the screen: the chosen level is sent, not dropped
        self.opening = _Opening(
            job=job, staff_no=str(value.get("staff_no") or ""), staff_name=str(value.get("staff_name") or ""),
            department=str(value.get("department") or ""), stars=as_int(value.get("stars")),
            deadline_s=self.clock() + remaining_s,
            expires_ms=value["expires_ms"] if isinstance(value.get("expires_ms"), int) else None,
        )
        self.draft = None
        self.message = ""
        self._link_wanted = job
        self._go(Screen.RATE)

    def ask_link(self) -> bool:
        """Ask the hall server for the shown 办件's QR link (once), after the rating screen is up:
        the durable outbox's write never delays the buttons. The app calls it right after drawing;
        `tick` calls it too."""
        job, self._link_wanted = self._link_wanted, None
        if job is None or self.opening is None or self.opening.job != job or self.screen == Screen.THANKS:
            return False
        self.links.ask(self.send, job)
        return True

    def on_reply(self, ref: str, body: dict[str, Any]) -> None:
        """The hall server's reply to a message of ours (hallnet `on_reply`, on the UI thread)."""
        answer = self.links.answer(ref, body)
        if answer is not None and self.opening is not None and self.opening.job == answer[0] and answer[1]:
            self.opening.qr_url = answer[1]

    def resume_kept(self) -> int:
        """At start (after `mark_sent`): send the taps an earlier run kept and did not send — the
        citizen is gone, so a 差评 goes with the reserved reason 原因待回访. Returns how many."""
        if self.drafts is None:
            return 0
        n = 0
        for tap in self.drafts.kept():
            if tap.job not in self.sent_jobs:
                body: dict[str, Any] = {"job": tap.job, "level": tap.level}
                if tap.pressed_ms is not None:
                    body["pressed_ms"] = tap.pressed_ms
                if tap.level <= 2:
                    body["tags"] = [REASON_PENDING]
                self._hand_over(body)
                n += 1
            self.drafts.drop(tap.job)
        return n

    def _remaining_s(self, expires_ms: Any) -> float:
        open_s = float(self.config.hall.rating.open_s)
        if not isinstance(expires_ms, int):
            return open_s
        return min(open_s, (expires_ms - self.wall_ms()) / 1000)

    def _closed(self) -> None:
        """The server closed this window's rating: rated elsewhere (QR), or its time is over."""
        if self.opening is None:
            return
        if self.screen == Screen.TAGS and self.draft is not None:
            self._submit()          # the level was chosen in time; the server decides
            return
        if self.screen == Screen.RATE:
            self._reset()
        # on the reasons screens the citizen chose the level in time: they may finish (the rating
        # carries pressed_ms, which the server checks against the rating's window)

    # --- the citizen (the reasons' tags, phone and text: kiosk.evaluator_reasons) ----------------

    def tap_level(self, level: int) -> bool:
        """A level button. Ignored unless the rate screen is up and nothing was chosen yet."""
        if self.screen != Screen.RATE or self.opening is None or self.draft is not None or level not in range(1, 6):
            return False
        self.draft = Draft(level, pressed_s=self.clock())
        if self.drafts is not None and (level <= 2 or self.tags.for_level(level)):
            self.drafts.keep(KeptTap(self.opening.job, level, self._pressed_ms(self.opening, self.draft)))
        if level <= 2:
            self._go(Screen.REASONS)
        elif self.tags.for_level(level):
            self._go(Screen.TAGS, until_s=min(self.clock() + self.tag_timeout_s, self.opening.deadline_s))
        else:
            self._submit()
        return True

    def submit(self) -> bool:
        """The reasons' "submit" or the tags' "done" button."""
        if self.draft is None or self.opening is None:
            return False
        if self.screen == Screen.REASONS and not self.draft.tags:
            self.message = t("rating.need_tag", self.lang)
            return False
        if self.screen not in (Screen.REASONS, Screen.TAGS):
            return False
        return self._submit()

    # --- time ----------------------------------------------------------------------------------

    def tick(self) -> None:
        self.ask_link()
        now = self.clock()
        if self.screen == Screen.THANKS:
            if self._screen_until_s is not None and now >= self._screen_until_s:
                self._reset()
            return
        if self.screen == Screen.TAGS and self._screen_until_s is not None and now >= self._screen_until_s:
            self._submit()
            return
        if self.opening is not None and now >= self._limit_s() and self.screen != Screen.IDENTITY:
            if self.draft is not None and self.screen in FOLLOW_UP:
                self._submit()      # a level chosen in time, the citizen walked away: sent, never lost
            else:
                self._reset()       # too late: the 办件 stays 未评价

    def _limit_s(self) -> float:
        """When the current screen gives up: the rating's deadline, or for the reasons of a 差评
        chosen in time, `reasons_s` after the level was chosen."""
        assert self.opening is not None
        if self.draft is not None and self.screen in (Screen.REASONS, Screen.PHONE, Screen.TEXT):
            return max(self.opening.deadline_s, self.draft.pressed_s + self.reasons_s)
        return self.opening.deadline_s

    # --- what to show ----------------------------------------------------------------------------

    def view(self) -> View:
        lang = self.lang
        status, status_text = self._status()
        banner = ""
        if not self.connected:
            banner = t("kiosk.offline_banner", lang)
        elif self.pending:
            banner = t("kiosk.pending_banner", lang, n=self.pending)
        countdown = None
        if self.opening is not None and self.screen not in (Screen.IDENTITY, Screen.THANKS):
            end = self._limit_s()
            if self.screen == Screen.TAGS and self._screen_until_s is not None:
                end = self._screen_until_s
            countdown = max(0, int(end - self.clock() + 0.999))
        d = self.draft
        tags: tuple[TagChoice, ...] = ()
        if d is not None and self.screen in (Screen.REASONS, Screen.TAGS):
            tags = tuple(TagChoice(tag.code, tag.text, tag.code in d.tags) for tag in self.tags.for_level(d.level))
        pinyin = d.pinyin if d is not None else None
        return View(
            screen=self.screen,
            window_title=t("window.number", lang, number=self.window) + " " + self._window_name(),
            status=status, status_text=status_text, staff=self._staff(), banner=banner, countdown_s=countdown,
            qr_url=self.opening.qr_url if self.opening is not None and self.screen != Screen.IDENTITY else None,
            level=d.level if d is not None else None, tags=tags,
            phone=(d.phone_entry if self.screen == Screen.PHONE else d.phone) if d is not None else "",
            text=(pinyin.text if pinyin is not None else d.text) if d is not None else "",
            pinyin=pinyin.buffer if pinyin is not None else "",
            candidates=tuple(pinyin.shown()) if pinyin is not None else (),
            message=self.message,
            can_submit=d is not None and (self.screen == Screen.TAGS or bool(d.tags)),
            called=called_ticket(self.connected, self.window_state) if self.screen == Screen.IDENTITY else "",
        )

    def _status(self) -> tuple[str, str]:
        return window_status(self.connected, self.window_state, self.lang)

    def _window_name(self) -> str:
        """The window's name: the hall server's (`window/<n>.name`, renamed by a manager), else the config's."""
        name = self.window_state.get("name") if self.window_state is not None else None
        return name if isinstance(name, str) and name else self.window_cfg.name

    def _staff(self) -> StaffCard | None:
        """Who serves: the rating's staff member while rating, else the window's; the window's card
        (`window/<n>.staff`) adds the promise and the photo when it is the same clerk."""
        window_card = self.window_state.get("staff") if self.window_state is not None else None
        window_card = window_card if isinstance(window_card, dict) else None
        if self.opening is not None and self.screen != Screen.IDENTITY:
            o = self.opening
            card: dict[str, Any] = {"staff_no": o.staff_no, "name": o.staff_name, "department": o.department,
                                    "stars": o.stars}
            if window_card is not None and window_card.get("staff_no") == o.staff_no:
                card = {**window_card, **{k: v for k, v in card.items() if v}}
            return staff_card(self.config, card, self.photos)
        return staff_card(self.config, window_card, self.photos)

    # --- inside ----------------------------------------------------------------------------------

    def _submit(self) -> bool:
        """Send the chosen level with what else was given; a 差评 without a tag (the citizen walked
        away from the reasons) carries the reserved reason 原因待回访."""
        o, d = self.opening, self.draft
        assert o is not None and d is not None
        if o.job in self.sent_jobs:
            return False
        body: dict[str, Any] = {"job": o.job, "level": d.level}
        pressed_ms = self._pressed_ms(o, d)
        if pressed_ms is not None:
            body["pressed_ms"] = pressed_ms
        if d.tags:
            body["tags"] = list(d.tags)
        elif d.level <= 2:
            body["tags"] = [REASON_PENDING]
        if d.text:
            body["text"] = d.text
        if d.phone:
            body["phone"] = d.phone
        self._hand_over(body)
        self.message = ""
        self._go(Screen.THANKS, until_s=self.clock() + self.thanks_s)
        return True

    def _hand_over(self, body: dict[str, Any]) -> None:
        self.send(SEND_TYPE, body)          # durable in the outbox when this returns
        self._remember(body["job"])
        self.sent.append(body)
        self.pending += 1
        if self.drafts is not None:
            self.drafts.drop(body["job"])   # after the outbox has it (a crash between: see kiosk.drafts)

    @staticmethod
    def _pressed_ms(o: _Opening, d: Draft) -> int | None:
        """When the level was chosen, on the server's clock: a rating held in the outbox through an
        outage, or sent when the citizen walked away, still counts as given in time (the server
        checks it against the rating's window)."""
        if o.expires_ms is None:
            return None
        return o.expires_ms - int(max(0.0, o.deadline_s - d.pressed_s) * 1000)

    def _reset(self) -> None:
        self.opening = None
        self.draft = None
        self.message = ""
        self._go(Screen.IDENTITY)


__all__ = ["Evaluator", "FOLLOW_UP", "SEND_TYPE", "Screen", "Send", "StaffCard", "TagChoice", "View", "valid_mobile"]
