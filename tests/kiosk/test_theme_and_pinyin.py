"""Contrast and sizes of the kiosk theme; the on-screen pinyin input; fonts for every text."""

from __future__ import annotations

import pytest

from config.fonts import missing
from config.i18n import TEXTS
from kiosk import theme
from kiosk.pinyin import PinyinInput, candidates, toneless


@pytest.mark.parametrize("fg, bg", theme.PAIRS)
def test_every_colour_pair_has_contrast_7(fg: str, bg: str) -> None:
    assert theme.contrast(fg, bg) >= theme.MIN_CONTRAST, (fg, bg, theme.contrast(fg, bg))


def test_contrast_formula() -> None:
    assert theme.contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert theme.contrast("#777777", "#777777") == pytest.approx(1.0)


def test_button_size_follows_the_screen_density(demo) -> None:
    assert theme.button_px(160) == 95            # 15 mm at 160 dpi
    assert theme.button_px(254) == 150
    assert theme.mm_to_px(25.4, demo.hall.screen_dpi) == demo.hall.screen_dpi
    assert theme.BODY_PX >= theme.MIN_BODY_PX and theme.SMALL_PX >= theme.MIN_BODY_PX


def test_every_kiosk_text_and_demo_name_has_a_glyph(demo) -> None:
    texts = [v for k, e in TEXTS.items() if k.startswith(("kiosk.", "dispenser.", "rating.", "level.", "window."))
             for v in e.values()]
    texts += [s.name for s in demo.staff] + [s.promise for s in demo.staff] + [t.text for t in demo.tags.tags]
    texts += ["★☆", "，。"]
    assert not set().union(*(missing(x) for x in texts))


def test_toneless() -> None:
    assert [toneless(s) for s in ("fú", "wù", "lǜ", "nǚ")] == ["fu", "wu", "lv", "nv"]


def test_phrases_first_then_characters() -> None:
    assert candidates("fuwu")[0] == "服务"
    assert candidates("taidu")[0] == "态度"
    assert "服" in candidates("fu")[:3]
    assert candidates("") == []
    assert candidates("zh")          # an unfinished syllable still offers characters


def test_the_input_commits_what_is_picked() -> None:
    p = PinyinInput()
    for k in "fuwutaidu":
        p.key(k)
    p.pick(0)
    assert (p.text, p.buffer) == ("服务", "taidu")
    p.pick(0)
    assert (p.text, p.buffer) == ("服务态度", "")
    p.put("很好。")
    p.backspace()
    assert p.text == "服务态度很好"
    p.key("1")                        # not a letter
    p.key("A")
    assert p.buffer == "a"
    p.put("，")                       # ignored while pinyin is being typed
    assert p.text == "服务态度很好"
    shown = p.shown()
    p.more()
    assert p.shown() != shown or len(p.all_candidates()) <= 8
    p.pick(99)                        # out of range: nothing
    assert p.buffer == "a"
