"""What the evaluator shows: the screens, the view the Kivy screens display, and the identity
card (亮身份) with the window's state. Plain data; `kiosk.evaluator_logic` decides which."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from config.i18n import t
from config.schema import HallConfig, Tag, TagList
from hallnet.bodies import StaffCard as WireStaffCard, staff_card_of


class Screen(str, Enum):
    IDENTITY = "identity"
    RATE = "rate"
    REASONS = "reasons"
    PHONE = "phone"
    TEXT = "text"
    TAGS = "tags"
    THANKS = "thanks"


TAGS_KEY = "tags"       # the hall server's reason tags, after a manager published a version (hall_server.domain.admin)
FOLLOW_UP = (Screen.REASONS, Screen.PHONE, Screen.TEXT, Screen.TAGS)   # a level was chosen, not yet sent


@dataclass(frozen=True)
class StaffCard:
    """The identity card the evaluator shows: the hall server's card (`window/<n>.staff`, decoded
    into the wire's `hallnet.bodies.StaffCard` and filled in from the kiosk's configuration where
    the server says nothing) and, beside it, its photo as a local file (None: a placeholder)."""

    card: WireStaffCard
    photo: Path | None

    @property
    def staff_no(self) -> str:
        return self.card.staff_no

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def department(self) -> str:
        return self.card.department

    @property
    def stars(self) -> int:
        return self.card.stars

    @property
    def promise(self) -> str:
        return self.card.promise


@dataclass(frozen=True)
class TagChoice:
    code: str
    text: str
    selected: bool


@dataclass(frozen=True)
class View:
    screen: Screen
    window_title: str
    status: str                     # serving / paused / closed / offline / idle
    status_text: str
    staff: StaffCard | None
    banner: str                     # "" when the hall server is there and nothing waits
    countdown_s: int | None
    qr_url: str | None
    level: int | None
    tags: tuple[TagChoice, ...] = ()
    phone: str = ""
    text: str = ""
    pinyin: str = ""
    candidates: tuple[str, ...] = ()
    message: str = ""               # a hint or an error to show on the current screen
    can_submit: bool = False
    called: str = ""                # the ticket this window called or serves, shown while idle (identity)


def window_status(connected: bool, window_state: dict[str, Any] | None, lang: str) -> tuple[str, str]:
    """(status, its text) of the window: offline / paused (with the reason) / serving / closed."""
    if not connected:
        return "offline", t("window.offline", lang)
    w = window_state
    state = w.get("state") if w else "closed"
    if state == "paused":
        reason = str((w or {}).get("pause_reason") or "")
        shown = t(f"pause.{reason}", lang) if reason and t(f"pause.{reason}", lang) != f"pause.{reason}" else reason
        return "paused", t("window.paused", lang) + (f"（{shown}）" if lang == "zh" and shown else
                                                    (f" ({shown})" if shown else ""))
    if state in ("idle", "calling", "serving"):
        return "serving", t("window.serving", lang)
    return "closed", t("window.closed", lang)


def called_ticket(connected: bool, window_state: dict[str, Any] | None) -> str:
    """The ticket number window/<n> has called or is serving ("" when none, or not connected: an
    old number must not be shown as current)."""
    w = window_state or {}
    ticket = w.get("ticket")
    if not connected or w.get("state") not in ("calling", "serving") or not isinstance(ticket, str):
        return ""
    return ticket[:16]


class Photos(Protocol):
    """Where a photo the hall server names (`/staff-photos/<file>`) is on this kiosk's disk, once
    downloaded (`kiosk.staff_photos.PhotoCache`); never blocks."""

    def local(self, photo_path: str) -> Path | None: ...


def staff_card(config: HallConfig, card: dict[str, Any] | None, photos: Photos | None = None) -> StaffCard | None:
    """The identity card of a staff member as published (`window/<n>.staff`, or the rating's).

    What the hall server says wins: its name, department, stars and promise, and its photo once
    downloaded (`photos`). The kiosk's own configuration fills in only what the server does not say
    (an older server's card without `promise` / `photo`, a name it does not know), and its local
    photo of the same clerk shows while the server's downloads or when that download failed; with
    neither, the screen draws a placeholder (photo None). A server card with `photo` "" has no photo."""
    wire = staff_card_of(card)
    if card is None or wire is None:
        return None
    local_photo: Path | None = None
    name = department = promise = ""
    try:
        s = config.staff_member(wire.staff_no)
        local_photo, name, department, promise = s.photo, s.name, s.department, s.promise
    except KeyError:
        pass
    if local_photo is not None and not Path(local_photo).exists():
        local_photo = None
    photo = local_photo
    if "photo" in card:           # (an older server's card has neither `photo` nor `promise`)
        photo = ((photos.local(wire.photo) if photos is not None else None) or local_photo) if wire.photo else None
    filled = replace(wire, name=wire.name or name, department=wire.department or department,
                     promise=wire.promise if "promise" in card else promise)
    return StaffCard(card=filled, photo=photo)


def tag_list(config: HallConfig, value: Any) -> TagList:
    """The rating reason tags in force: the hall server's `tags` state key ({version, tags: [{code,
    text, levels, added_in, removed_in}]}, published when a manager publishes a new version) when
    it is there and well formed, else the kiosk's configuration."""
    if not isinstance(value, dict) or not isinstance(value.get("version"), int) or not isinstance(value.get("tags"), list):
        return config.tags
    tags: list[Tag] = []
    for x in value["tags"]:
        if not isinstance(x, dict) or not isinstance(x.get("code"), str) or not isinstance(x.get("text"), str):
            continue
        raw_levels = x.get("levels")
        levels = tuple(v for v in raw_levels if isinstance(v, int) and 1 <= v <= 5) if isinstance(raw_levels, list) else ()
        removed = x.get("removed_in")
        tags.append(Tag(code=x["code"][:32], text=x["text"][:64], levels=levels,
                        added_in=as_int(x.get("added_in", 1)) or 1,
                        removed_in=removed if isinstance(removed, int) else None))
    return TagList(version=value["version"], tags=tuple(tags))


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
