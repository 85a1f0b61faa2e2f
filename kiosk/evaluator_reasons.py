"""The evaluator's reasons screens: the tags, the phone keypad and the pinyin text entry, on the
draft of a tapped level. A mixin of `kiosk.evaluator_logic.Evaluator` (plain Python, no Kivy)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from config.i18n import t
from config.schema import HallConfig, TagList
from kiosk.evaluator_view import Screen, as_int
from kiosk.pinyin import PinyinInput

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PHONE_DIGITS = 11


def valid_mobile(text: str) -> bool:
    """A mainland China mobile number: 11 digits starting 13–19."""
    return bool(MOBILE_RE.match(text))


@dataclass
class Draft:
    level: int
    pressed_s: float = 0.0          # when the level was chosen, on the monotonic clock
    tags: list[str] = field(default_factory=list)
    phone: str = ""
    phone_entry: str = ""
    pinyin: PinyinInput | None = None
    text: str = ""


class ReasonsEntry:
    """What the citizen gives after a tap: tags (any level with tags), phone and text (差评)."""

    config: HallConfig
    tags: TagList                   # the reason tags in force (the hall server's, else the config's)
    lang: str
    screen: Screen
    draft: Draft | None
    message: str
    _screen_until_s: float | None

    def toggle_tag(self, code: str) -> None:
        if self.screen not in (Screen.REASONS, Screen.TAGS) or self.draft is None:
            return
        if code not in {tag.code for tag in self.tags.for_level(self.draft.level)}:
            return
        if code in self.draft.tags:
            self.draft.tags.remove(code)
        else:
            self.draft.tags.append(code)
        self.message = ""

    def open_phone(self) -> None:
        if self.screen == Screen.REASONS and self.draft is not None:
            self.draft.phone_entry = self.draft.phone
            self.message = ""
            self._go(Screen.PHONE)

    def phone_key(self, key: str) -> None:
        if self.screen != Screen.PHONE or self.draft is None:
            return
        if key == "del":
            self.draft.phone_entry = self.draft.phone_entry[:-1]
        elif key == "clear":
            self.draft.phone_entry = ""
        elif key.isdigit() and len(key) == 1 and len(self.draft.phone_entry) < PHONE_DIGITS:
            self.draft.phone_entry += key
        self.message = ""

    def phone_done(self) -> bool:
        if self.screen != Screen.PHONE or self.draft is None:
            return False
        entry = self.draft.phone_entry
        if entry and not valid_mobile(entry):
            self.message = t("kiosk.phone_invalid", self.lang)
            return False
        self.draft.phone = entry
        self.message = ""
        self._go(Screen.REASONS)
        return True

    def open_text(self) -> None:
        if self.screen == Screen.REASONS and self.draft is not None:
            self.draft.pinyin = PinyinInput(self.draft.text)
            self.message = ""
            self._go(Screen.TEXT)

    def text_key(self, key: str) -> None:
        """The pinyin keyboard: a letter, "del", "more" (next candidates), "cand:<i>", or punctuation."""
        if self.screen != Screen.TEXT or self.draft is None or self.draft.pinyin is None:
            return
        p = self.draft.pinyin
        if key == "del":
            p.backspace()
        elif key == "more":
            p.more()
        elif key.startswith("cand:"):
            p.pick(as_int(key[5:]))
        elif len(key) == 1 and key.isascii() and key.isalpha():
            p.key(key)
        else:
            p.put(key)

    def text_done(self) -> None:
        if self.screen == Screen.TEXT and self.draft is not None and self.draft.pinyin is not None:
            self.draft.text = self.draft.pinyin.text.strip()
            self.draft.pinyin = None
            self._go(Screen.REASONS)

    def back(self) -> None:
        """Phone or text screen: back to the reasons without keeping the entry."""
        if self.screen in (Screen.PHONE, Screen.TEXT) and self.draft is not None:
            self.draft.pinyin = None
            self.message = ""
            self._go(Screen.REASONS)

    def _go(self, screen: Screen, until_s: float | None = None) -> None:
        self.screen = screen
        self._screen_until_s = until_s
