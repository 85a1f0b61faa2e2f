"""The Kivy apps: the evaluator (one per window) and the ticket dispenser.

Each app owns a plain logic object (`Evaluator` / `Dispenser`) and, when it runs for real, a
`HallClient`. Hall events arrive on the client's I/O thread and are handed to Kivy's thread
with `Clock.schedule_once`; taps go to the logic; after either, the app shows `logic.view()`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from config.i18n import t
from config.schema import HallConfig
from kiosk import dispenser_logic as dl
from kiosk import evaluator_logic as el
from kiosk import screens, theme
from kiosk.kivy_setup import finish_offscreen_frame, offscreen, register_fonts
from kiosk.widgets import Banner
from hallnet.vocabulary import Key

log = logging.getLogger("kiosk")
LINK_AFTER_DRAW_S = 0.05        # a frame or two after the rating screen is shown


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Trace:
    """Timing events as JSON lines on stdout (`--trace`, read by bench/kiosk.py and the tests)."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, event: str, **fields: Any) -> None:
        fields.update(event=event, wall_ms=int(time.time() * 1000), rss_mb=round(rss_mb(), 1))
        self.out.write(json.dumps(fields, ensure_ascii=False) + "\n")
        self.out.flush()


class KioskApp(App):
    min_button_px = NumericProperty(theme.button_px(160))
    # what the .kv files size things by: `theme.X_PX * app.scale`, buttons `app.button_px`
    scale = NumericProperty(1.0)
    button_px = NumericProperty(theme.button_px(160))
    key_px = NumericProperty(theme.button_px(160))
    portrait = BooleanProperty(False)
    banner_text = StringProperty("")          # what the banner above every screen says ("" : no banner)
    kv_names: tuple[str, ...] = ()
    screen_classes: dict[Any, type] = {}

    def __init__(self, config: HallConfig, logic: Any, *, client: Any = None, lang: str = "zh",
                 trace: Trace | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.config_hall = config
        self.logic = logic
        self.client = client
        self.lang = lang
        self.trace = trace
        self.min_button_px = theme.button_px(config.hall.screen_dpi)
        self._drawn_screen: tuple[str, str | None] | None = None
        self._offscreen = offscreen()
        self._last_pending_s = 0.0

    # --- building ----------------------------------------------------------------------------

    def build(self) -> BoxLayout:
        register_fonts()
        screens.load_kv(self.kv_names)
        root = BoxLayout(orientation="vertical")
        self.banner = Banner(text="")
        self.sm = ScreenManager(transition=NoTransition())
        for key, cls in self.screen_classes.items():
            self.sm.add_widget(cls(name=key.value))
        root.add_widget(self.banner)
        root.add_widget(self.sm)
        Window.clearcolor = theme.rgba(theme.BACKGROUND)
        Window.bind(size=self._resized)
        self._resized(Window, Window.size)
        return root

    def _resized(self, _win: Any, size: tuple[int, int]) -> None:
        width_px, height_px = size
        self.scale = theme.scale_for(width_px, height_px)
        self.button_px = max(self.min_button_px, theme.BUTTON_PX * self.scale)
        self.key_px = max(self.min_button_px, theme.KEY_PX * self.scale)
        self.portrait = height_px > width_px
        if self.root is not None:
            self.refresh()          # texts whose markup carries sizes

    def on_start(self) -> None:
        if self.client is not None:
            self.logic.on_connection(bool(self.client.connected))
        self.refresh()
        Clock.schedule_interval(self._tick, 0.25)
        if self.trace is not None or self._offscreen:
            Window.bind(on_flip=self._flipped)

    def on_stop(self) -> None:
        if self.client is not None:
            self.client.stop()

    # --- the hall (called on the client's I/O thread) ----------------------------------------------

    def hall_change(self, key: str, value: Any) -> None:
        received_ms = int(time.time() * 1000)

        def apply(_dt: float) -> None:
            self._apply(self.logic.on_state, key, value)
            if self.trace is not None and key.startswith(Key.RATING) and value:
                self.trace("rating", job=value.get("job"), received_ms=received_ms)

        Clock.schedule_once(apply, 0)

    def hall_reply(self, ref: str, body: dict[str, Any]) -> None:
        """The hall server's reply to one of this node's messages (hallnet `on_reply`)."""
        Clock.schedule_once(lambda _dt: self._apply(self.logic.on_reply, ref, body), 0)

    def hall_connection(self, connected: bool) -> None:
        def apply(_dt: float) -> None:
            self._apply(self.logic.on_connection, connected)
            if self.trace is not None:
                self.trace("connection", up=connected)

        Clock.schedule_once(apply, 0)

    def _apply(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)
        self.refresh()

    # --- showing ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        v = self.logic.view()
        name = v.screen.value
        screen = self.sm.get_screen(name)
        screen.show(v)
        if self.sm.current != name:
            self.sm.current = name
            self.on_screen(name)
        self.banner.text = self.banner_text = v.banner

    def on_screen(self, name: str) -> None:
        """The screen just changed to `name`."""

    def _flipped(self, *_a: Any) -> None:
        """A frame was drawn: offscreen, wait until it is rendered (kiosk.kivy_setup); then trace it."""
        if self._offscreen:
            finish_offscreen_frame()
        if self.trace is None:
            return
        opening = getattr(self.logic, "opening", None)
        key = (self.sm.current, getattr(opening, "job", None))
        if key != self._drawn_screen:
            self._drawn_screen = key
            self.trace("drawn", screen=key[0], job=key[1])

    def _tick(self, _dt: float) -> None:
        self.logic.tick()
        now = time.monotonic()
        if self.client is not None and now - self._last_pending_s > 1.0 and hasattr(self.logic, "set_pending"):
            self._last_pending_s = now
            self.logic.set_pending(self.client.pending_count())
        self.refresh()      # countdowns, banners; unchanged texts are not redrawn

    def tap(self, fn: Callable[..., Any], *args: Any) -> Any:
        result = fn(*args)
        self.refresh()
        return result


class EvaluatorApp(KioskApp):
    kv_names = screens.EVALUATOR_KV
    screen_classes = screens.EVALUATOR_SCREENS

    def __init__(self, config: HallConfig, logic: el.Evaluator, *, prompt_audio: Path | None = None, **kw: Any) -> None:
        super().__init__(config, logic, **kw)
        self.title = t("kiosk.app_title", self.lang, number=logic.window)
        self.prompt_audio = prompt_audio
        self._sound: Any = None

    def hall_change(self, key: str, value: Any) -> None:
        super().hall_change(key, value)
        if key == Key.rating(self.logic.window) and value:
            # the QR link is asked for once the rating screen is drawn: its outbox write never delays the buttons
            Clock.schedule_once(lambda _dt: self.logic.ask_link(), LINK_AFTER_DRAW_S)

    def photo_ready(self, _file: str) -> None:
        """A staff photo finished downloading (`kiosk.staff_photos`, on its own thread): redraw."""
        Clock.schedule_once(lambda _dt: self.refresh() if self.root is not None else None, 0)

    def on_stop(self) -> None:
        super().on_stop()
        photos = getattr(self.logic, "photos", None)
        if photos is not None and hasattr(photos, "stop"):
            photos.stop()

    def hall_reply(self, ref: str, body: dict[str, Any]) -> None:
        def apply(_dt: float) -> None:
            had_qr = self._qr_shown()
            self._apply(self.logic.on_reply, ref, body)
            if self.trace is not None and not had_qr and self._qr_shown():
                self.trace("qr", job=self.logic.opening.job if self.logic.opening else None)

        Clock.schedule_once(apply, 0)

    def _qr_shown(self) -> bool:
        return self.logic.opening is not None and bool(self.logic.opening.qr_url)

    def on_start(self) -> None:
        super().on_start()
        Clock.schedule_once(self._warm_up, 0.3)
        if self.prompt_audio is not None:
            try:
                from kivy.core.audio import SoundLoader

                self._sound = SoundLoader.load(str(self.prompt_audio))
            except Exception as exc:      # no audio device: the prompt is optional
                log.warning("no spoken prompt: %s", exc)

    def _warm_up(self, _dt: float) -> None:
        """Lay out the rating screens once with sample data while nobody waits, so that the first
        real rating does not pay for font faces, glyphs and the QR texture (≤ 200 ms goal)."""
        if self.logic.screen != el.Screen.IDENTITY:
            return
        sample = dataclasses.replace(
            self.logic.view(), countdown_s=60, qr_url=f"{self.logic.qr_base}/r/{'0' * 20}", level=5,
            tags=tuple(el.TagChoice(tag.code, tag.text, False) for tag in self.logic.tags.for_level(5)))
        for screen in (el.Screen.RATE, el.Screen.TAGS, el.Screen.THANKS):
            self.sm.get_screen(screen.value).show(dataclasses.replace(sample, screen=screen))

    def on_screen(self, name: str) -> None:
        if name == el.Screen.RATE.value and self._sound is not None:
            try:
                self._sound.stop()
                self._sound.play()
            except Exception as exc:
                log.warning("cannot play the prompt: %s", exc)

    # taps, forwarded from the .kv files
    def tap_level(self, level: int) -> bool:
        return self.tap(self.logic.tap_level, level)

    def toggle_tag(self, code: str) -> None:
        self.tap(self.logic.toggle_tag, code)

    def open_phone(self) -> None:
        self.tap(self.logic.open_phone)

    def phone_key(self, key: str) -> None:
        self.tap(self.logic.phone_key, key)

    def phone_done(self) -> None:
        self.tap(self.logic.phone_done)

    def open_text(self) -> None:
        self.tap(self.logic.open_text)

    def text_key(self, key: str) -> None:
        self.tap(self.logic.text_key, key)

    def text_done(self) -> None:
        self.tap(self.logic.text_done)

    def back(self) -> None:
        self.tap(self.logic.back)

    def submit(self) -> bool:
        return self.tap(self.logic.submit)


class DispenserApp(KioskApp):
    kv_names = screens.DISPENSER_KV
    screen_classes = screens.DISPENSER_SCREENS

    def __init__(self, config: HallConfig, logic: dl.Dispenser, **kw: Any) -> None:
        super().__init__(config, logic, **kw)
        self.title = t("dispenser.app_title", self.lang)

    def tap_category(self, code: str) -> bool:
        return self.tap(self.logic.tap_category, code)

    def open_priority(self) -> None:
        self.tap(self.logic.open_priority)

    def choose_kind(self, kind: str) -> None:
        self.tap(self.logic.choose_kind, kind)

    def choose_category(self, code: str) -> None:
        self.tap(self.logic.choose_category, code)

    def confirm_priority(self, held_s: float) -> bool:
        return self.tap(self.logic.confirm_priority, held_s)

    def cancel(self) -> None:
        self.tap(self.logic.cancel)
