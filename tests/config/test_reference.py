"""config/REFERENCE.md documents exactly the keys the loader reads."""

from __future__ import annotations

import re
from pathlib import Path

import config.loader
from config.loader import key_paths
from config.schema import HALL_FILES

REFERENCE = Path(__file__).resolve().parents[2] / "config" / "REFERENCE.md"
ROW = re.compile(r"^\| (\S+\.toml) \| `([^`]+)` \| [^|]+ \| [^|]+ \| [^|]+ \|$")


def documented() -> set[tuple[str, str]]:
    return {(m[1], m[2]) for line in REFERENCE.read_text("utf-8").splitlines() if (m := ROW.match(line))}


def test_every_key_is_documented_and_every_documented_key_exists(demo_dir: Path) -> None:
    read = key_paths(demo_dir)
    assert len(read) > 60
    assert sorted(read - documented()) == []
    assert sorted(documented() - read) == []


def test_loader_docstring_names_every_file() -> None:
    assert all(name in (config.loader.__doc__ or "") for name in HALL_FILES)
