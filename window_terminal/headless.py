"""Running the terminal's screens without a display (tests and the screenshots in docs/screens/).

Call `setup_env()` before anything imports Kivy: SDL2 draws off-screen, Kivy keeps its files in a
temporary home and leaves the command line alone.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1280, 800


def setup_env(home: Path | None = None) -> None:
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")      # leave sys.stderr alone
    # one reused folder, not a new one per run
    os.environ.setdefault("KIVY_HOME", str(home or Path(tempfile.gettempdir()) / f"hall-kivy-{os.getuid()}"))
    from kivy.config import Config

    Config.set("graphics", "width", str(WIDTH))
    Config.set("graphics", "height", str(HEIGHT))
    Config.set("kivy", "exit_on_escape", "0")


def pump(frames: int = 3) -> None:
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    for _ in range(frames):
        EventLoop.idle()


def start(logic: Any) -> Any:
    """Build the app on the (off-screen) window, as `App.run` would, without entering its loop."""
    setup_env()
    from kivy.base import EventLoop

    from window_terminal.app import TerminalApp

    EventLoop.ensure_window()
    EventLoop.window.size = (WIDTH, HEIGHT)
    app = TerminalApp(logic)
    app._run_prepare()
    pump()
    return app


def close(app: Any) -> None:
    from kivy.core.window import Window

    app.dispatch("on_stop")
    if app.root is not None:
        Window.remove_widget(app.root)
    pump(1)


def press(name: str, ctrl: bool = False) -> None:
    """A physical key, through the window (as SDL would deliver it)."""
    from kivy.core.window import Keyboard, Window

    code = Keyboard.keycodes[name]
    text = name if len(name) == 1 else None
    Window.dispatch("on_key_down", code, 0, text, ["ctrl"] if ctrl else [])
    Window.dispatch("on_key_up", code, 0)
    pump(2)


def snapshot(app: Any, path: Path) -> Path:
    app.refresh()
    pump(3)
    path.parent.mkdir(parents=True, exist_ok=True)
    app.root.export_to_png(str(path))
    return path
