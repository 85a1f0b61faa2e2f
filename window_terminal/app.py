"""The Kivy side of the window terminal: screens (one `.kv` each in `kv/`), keys, and the hand-over
of the hall client's callbacks to the UI thread. What to show and what to send is in
`terminal.py` (`TerminalLogic`, built from state, replies, commands, buttons, keys and view).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Keyboard, Window
from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager
from kivy.uix.textinput import TextInput

from config.fonts import kivy_markup, ui_font
from window_terminal.buttons import Btn
from window_terminal.terminal import TerminalLogic
from window_terminal.view import View

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).resolve().parent / "kv"
SCREENS = ("sign_in", "main", "paused", "pause", "transfer", "call_back", "my_day")
_KEY_NAMES = {code: name for name, code in Keyboard.keycodes.items()}
_loaded = False


def load_kv() -> None:
    """Register the CJK font as Kivy's default face and load every screen's layout (once)."""
    global _loaded
    if _loaded:
        return
    LabelBase.register(DEFAULT_FONT, fn_regular=str(ui_font()), fn_bold=str(ui_font(bold=True)))
    Builder.load_file(str(KV_DIR / "common.kv"))
    for name in SCREENS:
        Builder.load_file(str(KV_DIR / f"{name}.kv"))
    _loaded = True


class SignInScreen(Screen):
    pass


class MainScreen(Screen):
    def sync_inputs(self, v: View) -> None:
        """Typed fields belong to the person typing: set them only when they are not focused
        (a restart restores them; finishing a case clears them)."""
        for wid, value in (("search", v.search), ("job_no", v.job_no)):
            w = self.ids.get(wid)
            if w is not None and not w.focus and w.text != value:
                w.text = value

    def focus_search(self) -> None:
        w = self.ids.get("search")
        if w is not None:
            w.focus = True


class PausedScreen(Screen):
    pass


class PauseScreen(Screen):
    pass


class TransferScreen(Screen):
    pass


class CallBackScreen(Screen):
    pass


class MyDayScreen(Screen):
    pass


SCREEN_CLASSES = {"sign_in": SignInScreen, "main": MainScreen, "paused": PausedScreen, "pause": PauseScreen,
                  "transfer": TransferScreen, "call_back": CallBackScreen, "my_day": MyDayScreen}


class TerminalApp(App):
    v = ObjectProperty(None, rebind=True)   # kv binds app.v.<field>: rebind re-evaluates on a new View
    no_btn = Btn("", False)
    font_bold = StringProperty("")

    def __init__(self, logic: TerminalLogic, *, on_stop_hook: Callable[[], None] | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.logic = logic
        self.v = logic.view()
        self._on_stop_hook = on_stop_hook
        self.sm: ScreenManager | None = None
        self._refresh_trigger = Clock.create_trigger(lambda dt: self.refresh())
        self._ticker: Any = None
        logic.changed = self._refresh_trigger

    def use(self, logic: TerminalLogic) -> None:
        """Show another logic (the screenshots reuse one window for many states)."""
        self.logic.changed = lambda: None
        self.logic = logic
        logic.changed = self._refresh_trigger
        self.refresh()

    # --- building -------------------------------------------------------------------------

    def build(self) -> ScreenManager:
        load_kv()
        self.font_bold = str(ui_font(bold=True))
        self.title = self.v.title
        sm = ScreenManager(transition=NoTransition())
        for name in SCREENS:
            sm.add_widget(SCREEN_CLASSES[name](name=name))
        self.sm = sm
        Window.bind(on_key_down=self._on_key_down)
        self._ticker = Clock.schedule_interval(lambda dt: self.logic.tick(), 1.0)
        self.refresh()
        return sm

    def open_settings(self, *largs: Any) -> bool:
        return False        # F1 is "call next" here, not Kivy's settings panel

    def on_stop(self) -> None:
        Window.unbind(on_key_down=self._on_key_down)
        if self._ticker is not None:
            self._ticker.cancel()
        if self._on_stop_hook is not None:
            self._on_stop_hook()

    # --- what the .kv files call ----------------------------------------------------------

    def mk(self, text: str) -> str:
        """Markup for free text and names (rare characters get a face that has them)."""
        return kivy_markup(text or "")

    def tr(self, key: str, v: View | None = None) -> str:
        """A fixed text in the current language (`v` is passed so that a language change redraws it)."""
        return self.logic.tr(key)

    def btn_text(self, name: str, v: View) -> str:
        """A button's label with its key; when disabled, the reason on a second, smaller line."""
        b = v.btn.get(name, self.no_btn)
        text = kivy_markup(b.label)
        if b.reason and not b.enabled:
            text += "\n[size=14sp]" + kivy_markup(b.reason) + "[/size]"
        return text

    def btn_enabled(self, name: str, v: View) -> bool:
        return v.btn.get(name, self.no_btn).enabled

    def act(self, name: str) -> None:
        self.logic.action(name)
        if name == "search" and self.sm is not None and isinstance(self.sm.current_screen, MainScreen):
            Clock.schedule_once(lambda dt: self.sm.current_screen.focus_search(), 0)

    def pad(self, key: str) -> None:
        self.logic.pad(key)

    # --- the hall client's callbacks (I/O thread) → UI thread ------------------------------

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        Clock.schedule_once(lambda dt: fn(*args), 0)

    # --- drawing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        v = self.logic.view()
        self.v = v
        self.title = v.title
        if self.sm is not None:
            if self.sm.current != v.screen:
                self.sm.current = v.screen
            screen = self.sm.current_screen
            if isinstance(screen, MainScreen):
                screen.sync_inputs(v)

    # --- keys ---------------------------------------------------------------------------

    def _typing(self) -> bool:
        if self.sm is None:
            return False
        return any(isinstance(w, TextInput) and w.focus for w in self.sm.current_screen.walk())

    def _on_key_down(self, window: Any, key: int, scancode: int, codepoint: str | None, modifiers: list[str]) -> bool:
        name = _KEY_NAMES.get(key) or (codepoint or "")
        if not name:
            return False
        handled = self.logic.key(name, ctrl="ctrl" in modifiers, typing=self._typing())
        if handled and name == "f10" and self.sm is not None and isinstance(self.sm.current_screen, MainScreen):
            Clock.schedule_once(lambda dt: self.sm.current_screen.focus_search(), 0)
        return handled
