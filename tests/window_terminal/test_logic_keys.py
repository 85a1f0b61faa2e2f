"""Keys, language and texts: every frequent action has a key, Ctrl+E, typing is not a shortcut, every
refusal and term text translated, durations."""

from __future__ import annotations

import pytest

from config.i18n import TEXTS
from window_terminal.keymap import MAIN_KEYS, SHORTCUTS
from window_terminal.replies import KNOWN_ERRORS
from window_terminal.state import fmt_duration

from .conftest import Recorder, new_logic


def test_every_frequent_action_has_a_key_shown_on_its_button(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    btn = lg.buttons()
    for key, action in MAIN_KEYS.items():
        assert f"[{key.upper()}]" in btn[action].label, action
    for action, key in SHORTCUTS.items():
        assert f"[{key}]" in btn[action].label


def test_ctrl_e_switches_the_language(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    assert lg.view().btn["lang"].label.startswith("English")
    assert lg.key("e", ctrl=True)
    v = lg.view()
    assert v.lang == "en" and v.title == "Window 3 · 社保医保窗口" and v.btn["call_next"].label == "Call next  [F1]"
    assert lg.key("e", ctrl=True) and lg.view().lang == "zh"


def test_typing_in_a_text_field_is_not_taken_for_shortcuts(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    lg.store.set("session", {"staff_no": "HC2103", "name": "", "in_ms": 0})
    lg.do_pause()
    assert lg.key("1", typing=True) is False and lg.screen() == "pause"
    assert lg.key("escape") and lg.screen() == "main"


@pytest.mark.parametrize("code", sorted(KNOWN_ERRORS))
def test_every_refusal_is_translated(code: str) -> None:
    if code == "wrong_pin":
        assert "err.wrong_pin_left" in TEXTS
    assert f"err.{code}" in TEXTS


def test_term_texts_are_complete() -> None:
    terms = [k for k in TEXTS if k.startswith(("term.", "err."))]
    assert len(terms) > 80
    for key in terms:
        assert TEXTS[key]["zh"] and TEXTS[key]["en"]


def test_durations() -> None:
    assert fmt_duration(None, "zh") == "—"
    assert fmt_duration(65_000, "zh") == "1分"              # durations read as durations (最久 24分)
    assert fmt_duration(3_725_000, "zh") == "1小时2分"
    assert fmt_duration(3_600_000, "en") == "1 h"
    assert fmt_duration(45_000, "zh") == "45秒" and fmt_duration(45_000, "en") == "45 s"
    assert fmt_duration(-5, "zh") == "0秒"
