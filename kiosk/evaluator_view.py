"""What the evaluator shows: the screens, the view the Kivy screens display, and the identity
card (亮身份) with the window's state. Plain data; `kiosk.evaluator_logic` decides which."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from config.i18n import t
from config.schema import HallConfig


class Screen(str, Enum):
    IDENTITY = "identity"
    RATE = "rate"
    REASONS = "reasons"
    PHONE = "phone"
    TEXT = "text"
    TAGS = "tags"
    THANKS = "thanks"


FOLLOW_UP = (Screen.REASONS, Screen.PHONE, Screen.TEXT, Screen.TAGS)   # a level was chosen, not yet sent


@dataclass(frozen=True)
class StaffCard:
    staff_no: str
    name: str
    department: str
    stars: int
    promise: str
    photo: Path | None


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


def staff_card(config: HallConfig, card: dict[str, Any] | None) -> StaffCard | None:
    """The identity card of a staff member as published (`window/<n>.staff`, or the rating's), with
    the photo and promise from the hall configuration."""
    if not card or not card.get("staff_no"):
        return None
    staff_no = str(card["staff_no"])
    photo = promise = None
    try:
        s = config.staff_member(staff_no)
        photo, promise = s.photo, s.promise
    except KeyError:
        pass
    return StaffCard(staff_no=staff_no, name=str(card.get("name") or ""),
                     department=str(card.get("department") or ""), stars=as_int(card.get("stars")),
                     promise=str(card.get("promise") or promise or ""),
                     photo=photo if photo is not None and Path(photo).exists() else None)


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
