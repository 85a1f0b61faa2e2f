"""Finding a 事项 by Chinese name, 事项编码 or pinyin initials."""

from __future__ import annotations

from config.schema import Service
from window_terminal.services import ServiceIndex


def codes(index: ServiceIndex, query: str) -> list[str]:
    return [s.code for s in index.search(query)]


def test_demo_hall_by_name_code_and_initials(demo) -> None:
    index = ServiceIndex(demo.services, demo.window(3).categories)          # window 3 serves A
    assert codes(index, "异地就医") == ["YB-0102"]
    assert codes(index, "yb-0102") == ["YB-0102"]
    assert codes(index, "SB-01")[:5] == ["SB-0101", "SB-0102", "SB-0103", "SB-0104", "SB-0105"]
    assert codes(index, "ydjy") == ["YB-0102"]                              # 异地就医
    assert "SB-0103" in codes(index, "shbzk")                               # 社会保障卡
    assert "SB-0103" in codes(index, "shbzq")                               # 卡 read as qiǎ works too
    assert codes(index, "护照") == ["CRJ-0101"]
    assert codes(index, "zzzzzz") == []


def test_own_categories_first_and_empty_query_lists_everything(demo) -> None:
    index = ServiceIndex(demo.services, ("B",))
    listed = codes(index, "")
    assert len(listed) == len(demo.services)
    assert listed[0].startswith("BDC-")
    assert codes(index, "登记")[0].startswith("BDC-")


def test_rare_characters_and_punctuation_do_not_break_initials() -> None:
    services = (Service("X-1", "“一件事”一次办", "H", 10), Service("X-2", "𠇔字测试", "H", 10))
    index = ServiceIndex(services)
    assert codes(index, "yjs") == ["X-1"]
    assert codes(index, "𠇔") == ["X-2"]
    assert index.get("X-2") is not None and index.get("nope") is None
