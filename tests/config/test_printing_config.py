"""hall.toml [printing]: when a slip the gateway fetched and never reported fails as 打印超时."""

from __future__ import annotations

from pathlib import Path

from config.errors import ConfigError
from config.loader import load_hall


def problems_of(folder: Path) -> list[str]:
    try:
        load_hall(folder)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def with_printing(folder: Path, lines: str) -> None:
    path = folder / "hall.toml"
    path.write_text(path.read_text("utf-8") + f"\n[printing]\n{lines}\n", "utf-8")


def test_the_default_and_a_set_value(demo_dir: Path, hall_copy: Path) -> None:
    assert load_hall(demo_dir).hall.printing.stuck_after_s == 60
    with_printing(hall_copy, "stuck_after_s = 120")
    assert load_hall(hall_copy).hall.printing.stuck_after_s == 120


def test_a_bad_value_is_named_with_its_file_and_key(tmp_path: Path, hall_copy: Path) -> None:
    text = (hall_copy / "hall.toml").read_text("utf-8")
    for value, problem in (("2", "stuck_after_s"), ('"60"', "stuck_after_s"), ("99999", "stuck_after_s")):
        (hall_copy / "hall.toml").write_text(text, "utf-8")
        with_printing(hall_copy, f"stuck_after_s = {value}")
        (got,) = problems_of(hall_copy)
        assert got.startswith("hall.toml: printing.stuck_after_s: "), got
    (hall_copy / "hall.toml").write_text(text, "utf-8")
    with_printing(hall_copy, "stuck_after = 60")
    (got,) = problems_of(hall_copy)
    assert got.startswith("hall.toml: printing.stuck_after: unknown key"), got
