"""The window terminal's keys: the physical keyboard (`key`) and the sign-in pad (`pad`), both
turned into the same actions as the buttons. Plain Python, no Kivy."""

from __future__ import annotations

from window_terminal.buttons import Buttons
from window_terminal.keymap import MAIN_KEYS, PAD_KEYS
from window_terminal.state import PAUSE_REASONS

MAX_PIN = 12
MAX_STAFF_NO = 8


class Keys(Buttons):
    # --- the physical keyboard -----------------------------------------------------------------

    def key(self, name: str, *, ctrl: bool = False, typing: bool = False) -> bool:
        """A physical key (Kivy's key name: "f1", "enter", "backspace", "a", "1", …). `typing`: a text
        field has the focus (then only function keys and Escape are ours). True when handled."""
        screen = self.screen()
        if ctrl and name == "e":
            return self.toggle_lang()
        if ctrl and name == "p" and screen == "main":
            return self.action("reprint")
        if name == "escape":
            return self._escape(screen)
        if screen == "sign_in":
            return False if typing else self._sign_in_key(name)
        if not typing and self._dialog_key(screen, name):
            return True
        act = MAIN_KEYS.get(name)
        if act is None:
            return False
        if act == "pause" and self.win_state() == "paused":
            act = "resume"
        return self.action(act)

    def _escape(self, screen: str) -> bool:
        if self.dialog:
            self.close_dialog()
            return True
        if screen == "sign_in":
            self.pad("clear")
            return True
        return False

    def _sign_in_key(self, name: str) -> bool:
        if name in PAD_KEYS:
            self.pad(PAD_KEYS[name])
            return True
        if name.startswith("numpad") and name[6:].isdigit():
            name = name[6:]
        if len(name) == 1 and name.isascii() and name.isalnum():
            self.pad(name)
            return True
        return False

    def _dialog_key(self, screen: str, name: str) -> bool:
        """A digit picks a row of the pause or call-back dialog."""
        if screen == "pause" and name in ("1", "2", "3", "4", "5"):
            self.pause_with(PAUSE_REASONS[int(name) - 1])
            return True
        if screen == "call_back" and name.isdigit() and name != "0":
            rows = self.parked
            i = int(name) - 1
            if i < len(rows):
                self.call_back(rows[i]["ticket_id"])
                return True
        return False

    # --- the sign-in pad (on-screen and physical keyboard alike) --------------------------------

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
            self.si_staff_no = self.si_pin = self.si_one_time = ""
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

