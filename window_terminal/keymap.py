"""The window terminal's keyboard map: the shortcut shown on each button and the function keys
of the main screen. Data only; `window_terminal.keys` reads the keys, `window_terminal.buttons`
shows the shortcuts."""

from __future__ import annotations

# action → shortcut key (shown on the button; `MAIN_KEYS` maps keys back)
SHORTCUTS: dict[str, str] = {
    "call_next": "F1", "recall": "F2", "no_show": "F3", "park": "F4", "call_back": "F5",
    "transfer": "F6", "start": "F7", "finish": "F8", "pause": "F9", "resume": "F9",
    "search": "F10", "my_day": "F11", "sign_out": "F12", "sign_in": "Enter", "close": "Esc",
    "lang": "Ctrl+E", "reprint": "Ctrl+P",
}
# Kivy key name → action, on the main screen
MAIN_KEYS: dict[str, str] = {
    "f1": "call_next", "f2": "recall", "f3": "no_show", "f4": "park", "f5": "call_back", "f6": "transfer",
    "f7": "start", "f8": "finish", "f9": "pause", "f10": "search", "f11": "my_day", "f12": "sign_out",
}
# sign-in pad: Kivy key name → pad key
PAD_KEYS: dict[str, str] = {
    "backspace": "back", "tab": "tab", "enter": "enter", "numpadenter": "enter", "delete": "clear",
}
