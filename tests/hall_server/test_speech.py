"""hall_server.domain.speech: what an announcement says, clip by clip."""

from __future__ import annotations

import pytest

from config.schema import Calling
from config.voice_pack import CHIME, parse_template, VOCABULARY
from hall_server.domain.speech import (
    CHIME_PAUSE_MS, REPEAT_PAUSE_MS, WORD_PAUSE_MS, Step, Unspeakable, announcement, clips, saying, ticket_clips,
    window_clips,
)

DEFAULT_PARTS = Calling().template_parts
A012_AT_3 = ["请", "A", "零", "一", "二", "号", "到", "三", "号窗口", "办理"]


def test_default_parts_are_what_the_default_template_parses_to() -> None:
    assert parse_template(Calling().announce_template, set(VOCABULARY) - {CHIME}) == DEFAULT_PARTS


def test_a012_at_window_3_is_said_twice_after_a_chime() -> None:
    steps = announcement(DEFAULT_PARTS, "A012", 3, repeat=2)
    assert clips(steps) == [CHIME] + A012_AT_3 + A012_AT_3
    # every clip names a file of the pack
    assert all(c in VOCABULARY for c in clips(steps))


@pytest.mark.parametrize("repeat", [1, 2, 3, 5])
def test_repeat_and_pauses(repeat: int) -> None:
    steps = announcement(DEFAULT_PARTS, "A012", 3, repeat=repeat)
    assert clips(steps) == [CHIME] + A012_AT_3 * repeat
    n = len(A012_AT_3)
    assert steps[0] == Step(CHIME, CHIME_PAUSE_MS)
    for r in range(repeat):
        said = steps[1 + r * n: 1 + (r + 1) * n]
        assert [s.pause_after_ms for s in said[:-1]] == [WORD_PAUSE_MS] * (n - 1)
        assert said[-1].pause_after_ms == (REPEAT_PAUSE_MS if r < repeat - 1 else 0)


@pytest.mark.parametrize("number, said", [
    (1, "一"), (3, "三"), (10, "十"), (12, "十二"), (19, "十九"), (20, "二十"), (21, "二十一"), (99, "九十九"),
    (100, "一百"), (101, "一百零一"), (105, "一百零五"), (110, "一百一十"), (115, "一百一十五"),
    (120, "一百二十"), (999, "九百九十九"), (300, "三百"), (909, "九百零九"),
])
def test_window_numbers_are_read_as_numbers(number: int, said: str) -> None:
    assert "".join(window_clips(number)) == said
    assert all(c in VOCABULARY for c in window_clips(number))


@pytest.mark.parametrize("bad", [0, -1, 1000, True])
def test_window_out_of_range(bad: int) -> None:
    with pytest.raises(Unspeakable):
        window_clips(bad)


def test_ticket_read_character_by_character() -> None:
    assert ticket_clips("A012") == ["A", "零", "一", "二"]
    assert ticket_clips("AB1000") == ["A", "B", "一", "零", "零", "零"]
    assert ticket_clips("Z909") == ["Z", "九", "零", "九"]
    for bad in ("", "a012", "A-12", "A０12"):
        with pytest.raises(Unspeakable):
            ticket_clips(bad)


def test_another_template_order() -> None:
    parts = parse_template("{ticket}号 请到 {window} 窗口", set(VOCABULARY) - {CHIME})
    assert parts == ("{ticket}", "号", "请", "到", "{window}", "窗口")
    assert saying(parts, "B007", 12) == ["B", "零", "零", "七", "号", "请", "到", "十", "二", "窗口"]


def test_longest_clip_first_and_fallback() -> None:
    words = set(VOCABULARY) - {CHIME}
    assert parse_template("请{ticket}号到{window}号窗口", words)[-1] == "号窗口"
    without = words - {"号窗口"}
    assert parse_template("请{ticket}号到{window}号窗口", without)[-2:] == ("号", "窗口")
