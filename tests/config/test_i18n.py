"""The translation table is complete and `t` falls back sensibly."""

from __future__ import annotations

from string import Formatter

import pytest

from config.i18n import LANGS, TEXTS, t


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_key_has_every_language_with_the_same_placeholders(key: str) -> None:
    entry = TEXTS[key]
    assert set(entry) == set(LANGS)
    assert all(entry[lang].strip() for lang in LANGS)
    assert fields(entry["zh"]) == fields(entry["en"])


def test_seeded_texts() -> None:
    assert [t(f"level.{n}") for n in (5, 4, 3, 2, 1)] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert t("level.5", "en") == "Very satisfied"
    assert t("window.serving") == "服务中" and t("window.paused") == "暂停服务"
    assert t("window.offline") == "未连接大厅服务器"
    assert [t(f"pause.{r}") for r in ("lunch", "away", "consulting", "training", "other")] == [
        "午休", "临时离开", "业务咨询", "培训", "其他"]
    assert t("rating.already") == "已评价" and t("rating.already", "en") == "Already rated"
    assert t("rating.thanks") == "感谢您的评价"


def test_format_and_fallbacks() -> None:
    assert t("window.number", number=3) == "3号窗口"
    assert t("window.number", "en", number=3) == "Window 3"
    assert t("queue.call", ticket="A001", window=3) == "请A001号到3号窗口办理"
    assert t("level.4", "fr") == "满意"              # unknown language: Chinese
    assert t("no.such.key", "en") == "no.such.key"  # unknown key: the key itself
