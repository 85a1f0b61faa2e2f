"""Builds deliberately broken (and one sound) widget trees in a real offscreen Kivy window and prints
what kiosk.layout_check says about each, as one JSON line. Used by test_layout_sizes.py (Kivy wants
its own process).

    python tests/kiosk/layout_driver.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from kiosk.kivy_setup import prepare

    prepare(width=800, height=480, fullscreen=False, headless=True, kivy_home=Path(tempfile.mkdtemp()))
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.label import Label

    from kiosk.kivy_setup import register_fonts
    from kiosk.layout_check import check

    def sound() -> BoxLayout:
        box = BoxLayout(padding=10, spacing=10)
        box.add_widget(Button(text="确定", font_size=30))
        box.add_widget(Label(text="您好", font_size=30, color=(0, 0, 0, 1)))
        return box

    def overlapping() -> FloatLayout:
        f = FloatLayout()
        f.add_widget(Button(text="一", font_size=30, size_hint=(None, None), size=(200, 200), pos=(10, 10)))
        f.add_widget(Button(text="二", font_size=30, size_hint=(None, None), size=(200, 200), pos=(100, 100)))
        return f

    def off_screen() -> FloatLayout:
        f = FloatLayout()
        f.add_widget(Button(text="七", font_size=30, size_hint=(None, None), size=(200, 200), pos=(700, 10)))
        return f

    def small() -> FloatLayout:
        f = FloatLayout()
        f.add_widget(Button(text="小", font_size=30, size_hint=(None, None), size=(60, 60), pos=(10, 10)))
        f.add_widget(Label(text="细字", font_size=14, size_hint=(None, None), size=(200, 60), pos=(300, 10)))
        return f

    def overflowing() -> FloatLayout:
        f = FloatLayout()
        f.add_widget(Label(text="一段放不下的很长的文字" * 3, font_size=30, text_size=(200, None),
                           size_hint=(None, None), size=(200, 40), pos=(10, 10)))
        f.add_widget(Label(text="固定大小的框里第二行看不见了" * 2, font_size=30, text_size=(200, 40),
                           size_hint=(None, None), size=(200, 40), pos=(300, 10)))
        return f

    def wrapped() -> FloatLayout:
        f = FloatLayout()
        f.add_widget(Button(text="非常不满意", font_size=30, text_size=(100, None), size_hint=(None, None),
                            size=(110, 200), pos=(10, 10)))
        return f

    def sticking_out() -> BoxLayout:
        outer = BoxLayout(size_hint=(None, None), size=(300, 100), pos=(10, 10))
        outer.add_widget(Label(text="名字", font_size=30, size_hint=(None, None), size=(100, 300)))
        return outer

    cases = {"sound": sound, "overlapping": overlapping, "off_screen": off_screen, "small": small,
             "overflowing": overflowing, "wrapped": wrapped, "sticking_out": sticking_out}
    out: dict[str, list[str]] = {}
    todo = list(cases.items())

    class Driver(App):
        def build(self) -> FloatLayout:
            register_fonts()
            self.holder = FloatLayout()
            return self.holder

    app = Driver()

    def next_case(_dt: float) -> None:
        if not todo:
            app.stop()
            return
        name, make = todo.pop(0)
        app.holder.clear_widgets()
        tree = make()
        app.holder.add_widget(tree)
        Clock.schedule_once(lambda _dt: measure(name, tree), 0.15)

    def measure(name: str, tree: object) -> None:
        out[name] = check(tree, window_size=tuple(Window.size), min_button_px=95).problems
        Clock.schedule_once(next_case, 0)

    Clock.schedule_once(next_case, 0.2)
    app.run()
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
