"""The README documents every command-line flag of every program (config keys: tests/config)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROGRAMS = [
    ["hall_server"], ["hall_server", "keys", "new"], ["hall_server", "keys", "list"],
    ["hall_server", "keys", "revoke"],
    ["hall_server", "users", "add"], ["hall_server", "users", "list"],
    ["demo"], ["demo.traffic"],
    ["kiosk"], ["window_terminal"],
    ["devices"], ["devices", "simulate", "keypad"], ["devices", "simulate", "printer"],
    ["config"], ["config", "check"], ["config", "hash-pin"],
    ["demo.city"], ["city_server", "serve"], ["city_server", "users"],
]
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


@pytest.mark.parametrize("program", PROGRAMS, ids=" ".join)
def test_every_flag_is_in_the_readme(program: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *program, "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={"KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1",
                                                        "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-500:]
    options = result.stdout.split("options:", 1)[-1]
    flags = set(FLAG.findall(options)) - {"--help"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(f for f in flags if f"`{f}" not in readme)
    assert not missing, f"python -m {' '.join(program)}: not in README.md: {missing}"


def test_the_readme_points_to_the_configuration_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "config/REFERENCE.md" in readme and (ROOT / "config" / "REFERENCE.md").exists()
