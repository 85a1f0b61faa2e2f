"""`python -m config`, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from config.pins import verify_pin

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "config", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, timeout=60)


def test_check_demo_hall_prints_a_summary(demo_dir: Path) -> None:
    done = run("check", str(demo_dir))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "OK: 威海市环翠区政务服务中心 (371002), open 09:00-12:00, 13:30-17:30",
        "  16 windows (8 with keypads, 4 with printers), 8 categories, 39 services, 27 staff, "
        "14 tags (version 2)",
    ]
    assert done.stderr == ""


def test_check_broken_hall_lists_every_problem(hall_copy: Path) -> None:
    windows = hall_copy / "windows.toml"
    windows.write_text(windows.read_text("utf-8").replace('categories = ["A"]', 'categorys = ["Z"]', 1), "utf-8")
    (hall_copy / "tags.toml").unlink()
    done = run("check", str(hall_copy))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "windows.toml: windows[2].categories: missing required key",
        'windows.toml: windows[2].categorys: unknown key; did you mean "categories"?',
        "tags.toml: missing file",
        f"3 problems in {hall_copy}",
    ]
    assert "Traceback" not in done.stderr


def test_check_syntax_error_and_missing_folder(hall_copy: Path, tmp_path: Path) -> None:
    (hall_copy / "hall.toml").write_text('[hall]\nname = "未闭合\n', "utf-8")
    done = run("check", str(hall_copy))
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith("hall.toml: invalid TOML: ")
    assert "(at line 2, column" in done.stderr.splitlines()[0]
    assert "Traceback" not in done.stderr
    done = run("check", str(tmp_path / "nowhere"))
    assert (done.returncode, "Traceback" in done.stderr) == (1, False)
    assert done.stderr.splitlines()[0] == f"{tmp_path / 'nowhere'}: no such folder"


def test_usage_errors_exit_2() -> None:
    for args in [(), ("check",), ("frobnicate",), ("check", "a", "b")]:
        done = run(*args)
        assert done.returncode == 2, args
        assert "usage:" in done.stderr and "Traceback" not in done.stderr


def test_help() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "check" in done.stdout and "hash-pin" in done.stdout
    done = run("check", "--help")
    assert done.returncode == 0 and "DIR" in done.stdout


def test_hash_pin_from_stdin() -> None:
    done = run("hash-pin", stdin="1234\n")
    assert done.returncode == 0, done.stderr
    stored = done.stdout.strip()
    assert stored.startswith("scrypt$") and verify_pin("1234", stored)
    done = run("hash-pin", stdin="12\n")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == "a PIN needs at least 4 characters"
