"""The window terminal's logic: what to show and what to send. Plain Python, no Kivy.

The screen binds to `TerminalLogic.view()` (a frozen `View`) and calls the action methods; the
app hands the hall client's callbacks over to the UI thread and calls `on_state`, `on_connection`
and `on_reply`, and `tick()` once a second. Tests drive the same class with a fake sender.

One job per module, each layer built on the one before:
state (the mirror of the hall and the local store) → replies (answers and refusals) → commands
(what each action sends, the durable tracker, the tick) → buttons (enabled or not, and why) →
keys (keyboard and sign-in pad; the map itself is data in keymap) → view (the `View`).

R6: the terminal never learns a rating's level. It shows only whether the citizen has rated.
"""

from __future__ import annotations

from window_terminal.view import TerminalView


class TerminalLogic(TerminalView):
    """The whole terminal: every layer above, in one object the app and the tests drive."""
