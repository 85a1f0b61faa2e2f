"""Kivy's settings, applied before Kivy is imported: window size, fullscreen, headless, fonts.

Kivy reads its environment and `kivy.config.Config` at import time, so `prepare()` must run
first; `register_fonts()` then makes the Simplified Chinese face the default of every widget
(labels, buttons, text inputs): no tofu anywhere (DOMAIN R13).

Headless (SDL2's offscreen video driver: tests, benchmarks, screenshots) the window is an EGL
pbuffer, whose buffer swap does nothing: no frame is ever flushed to the renderer. The software
renderer (Mesa llvmpipe) then keeps every frame's commands, and the textures they use, until its
own limit (about 70 MB, some 1,000 frames), which made the headless evaluator look 100–200 MB
larger than it is. `finish_offscreen_frame()` after each frame (Window `on_flip`) does what the
swap does on a display: the frame is drawn and its memory returned.
"""

from __future__ import annotations

import os
from pathlib import Path

from config.fonts import ui_font


def prepare(*, width: int, height: int, fullscreen: bool, headless: bool = False, kivy_home: Path | None = None) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    if kivy_home is not None:
        os.environ.setdefault("KIVY_HOME", str(kivy_home))
    if headless:
        os.environ.setdefault("KIVY_WINDOW", "sdl2")
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kivy.config import Config
    from kivy.logger import Logger

    # Kivy probes libmtdev (multitouch devices) on Linux and logs a traceback when it is absent;
    # the kiosk uses SDL2's touch input, so that probe's failure is noise.
    Logger.addFilter(lambda record: "MTDev" not in record.getMessage())

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    # no multitouch emulation, no mtdev probing on machines without it
    for name, _ in list(Config.items("input")):
        if name not in ("mouse",):
            Config.remove_option("input", name)
    Config.set("kivy", "keyboard_mode", "")


OFFSCREEN_DRIVER = "offscreen"


def offscreen() -> bool:
    """Whether Kivy draws with SDL2's offscreen video driver (`prepare(headless=True)`, the tests' env)."""
    return os.environ.get("SDL_VIDEODRIVER") == OFFSCREEN_DRIVER


def finish_offscreen_frame() -> None:
    """Wait until the frame just drawn is rendered (glFinish): call after each frame when `offscreen()`.
    On a display the buffer swap does this; offscreen nothing else would (see the module docstring)."""
    from kivy.graphics.opengl import glFinish

    glFinish()


def register_fonts() -> None:
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(DEFAULT_FONT, fn_regular=str(ui_font()), fn_bold=str(ui_font(bold=True)))
