"""hall.toml [screen]: the hall screen's notice line, one line of plain text, with precise errors."""

from __future__ import annotations

import re
from pathlib import Path

from config.errors import ConfigError
from config.loader import load_hall


def with_notice(folder: Path, toml_value: str | None) -> None:
    path = folder / "hall.toml"
    text = re.sub(r"(?m)^notice = .*\n", "", path.read_text("utf-8"))
    if toml_value is not None:
        text = text.replace("[screen]\n", f"[screen]\nnotice = {toml_value}\n")
    path.write_text(text, "utf-8")


def problems_of(folder: Path) -> list[str]:
    try:
        load_hall(folder)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_the_demo_notice_is_read_and_absent_means_none(demo_dir: Path, hall_copy: Path) -> None:
    assert load_hall(demo_dir).hall.screen.notice.startswith("请携带本人身份证件")
    with_notice(hall_copy, None)
    assert load_hall(hall_copy).hall.screen.notice == ""
    with_notice(hall_copy, '"  请排队 王𬀩 "')
    assert load_hall(hall_copy).hall.screen.notice == "请排队 王𬀩"


def test_every_notice_problem_is_precise(hall_copy: Path) -> None:
    with_notice(hall_copy, r'"第一行\n第二行"')
    assert problems_of(hall_copy) == ["hall.toml: screen.notice: must be one line of plain text, "
                                      "got a control character U+000A"]
    with_notice(hall_copy, '"' + "长" * 201 + '"')
    assert problems_of(hall_copy) == ["hall.toml: screen.notice: must be at most 200 characters, got 201"]
    with_notice(hall_copy, "7")
    assert problems_of(hall_copy) == ["hall.toml: screen.notice: expected string, got integer 7 (put it in quotes)"]
