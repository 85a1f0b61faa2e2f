"""Absurd but well-formed TOML, and a little fuzzing: every failure is a ConfigError whose problems
read "file: message" or "file: key: message", never a traceback, and the loader never stalls."""

from __future__ import annotations

import copy
import os
import random
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from config.errors import ConfigError
from config.loader import build_hall, load_hall
from config.schema import HALL_FILES
from config.toml_read import MAX_FILE_BYTES, MAX_NESTING

DEEP = (f"tables, arrays and dotted keys nested more than {MAX_NESTING} levels deep (line {{line}}); "
        "a hall file needs only a few")
PROBLEM = re.compile(r"^(?P<file>[a-z]+\.toml)(: [^\s:]+)?: \S.*$", re.S)


def problems_of(folder: Path) -> list[str]:
    try:
        load_hall(folder)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def append(folder: Path, name: str, text: str) -> None:
    with (folder / name).open("a", encoding="utf-8") as f:
        f.write(text)


@pytest.mark.parametrize(("text", "line"), [
    ("deep = " + "[" * 500 + "]" * 500, 1),                      # RecursionError in tomllib before
    ("deep = " + "{a = " * 500 + "1" + "}" * 500, 1),            # RecursionError in tomllib before
    ("# comment\n" + "a." * 16000 + "b = 1", 2),                 # 10 s of quadratic parsing before
    ("[" + "a." * 5000 + "b]\nc = 1", 1),
    ("deep = [\n" + "[\n" * 40 + "]\n" * 40 + "]", MAX_NESTING + 1),
])
def test_deep_nesting_is_a_problem_not_a_crash(hall_copy: Path, text: str, line: int) -> None:
    (hall_copy / "hall.toml").write_text(text, "utf-8")
    assert problems_of(hall_copy) == ["hall.toml: " + DEEP.format(line=line)]


def test_nesting_built_from_headers_dotted_keys_and_arrays_together(hall_copy: Path) -> None:
    """Each part under the line limits, the whole deeper than MAX_NESTING."""
    text = "[" + ".".join(["t"] * 12) + "]\n" + ".".join(["k"] * 8) + " = " + "[" * 10 + "]" * 10 + "\n"
    (hall_copy / "tags.toml").write_text(text, "utf-8")
    assert problems_of(hall_copy) == [
        f"tags.toml: tables, arrays and dotted keys nested more than {MAX_NESTING} levels deep; "
        "a hall file needs only a few"]


def test_strings_and_comments_do_not_count_as_nesting(hall_copy: Path) -> None:
    noise = "[" * 100 + "." * 100 + "{" * 100
    append(hall_copy, "hall.toml", f'\n# {noise}\n[calendar]\n# "\n')
    text = (hall_copy / "hall.toml").read_text("utf-8")
    text = text.replace('timezone = "Asia/Shanghai"', f'timezone = "Asia/Shanghai" # {noise}')
    text = text.replace('name = "威海市环翠区政务服务中心"',
                        'name = """威海市环翠区政务服务中心""" # """ \' ' + noise)
    (hall_copy / "hall.toml").write_text(text, "utf-8")
    assert load_hall(hall_copy).hall.name == "威海市环翠区政务服务中心"


def test_huge_integers_are_problems(hall_copy: Path) -> None:
    text = (hall_copy / "hall.toml").read_text("utf-8")
    text = text.replace("open_s = 60", "open_s = 0x" + "f" * 5000)         # 6,000 decimal digits
    text = text.replace("screen_dpi = 160", "screen_dpi = " + "1" * 5000)  # Python's int() refuses it
    (hall_copy / "hall.toml").write_text(text, "utf-8")
    [problem] = problems_of(hall_copy)
    assert problem.startswith("hall.toml: invalid TOML: a value cannot be read (Exceeds the limit")
    (hall_copy / "hall.toml").write_text(text.replace("screen_dpi = " + "1" * 5000, "screen_dpi = 0b1" + "0" * 70),
                                         "utf-8")
    assert sorted(problems_of(hall_copy)) == [
        f"hall.toml: hall.screen_dpi: integer too large (more than {2**63 - 1})",
        f"hall.toml: rating.open_s: integer too large (more than {2**63 - 1})",
    ]


def test_huge_endless_and_special_files(hall_copy: Path) -> None:
    with (hall_copy / "staff.toml").open("a", encoding="utf-8") as f:
        f.write("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    (hall_copy / "tags.toml").unlink()
    os.symlink("/dev/zero", hall_copy / "tags.toml")
    (hall_copy / "services.toml").unlink()
    (hall_copy / "services.toml").mkdir()
    too_large = f"too large: a hall file may have at most {MAX_FILE_BYTES} bytes"
    os.mkfifo(hall_copy / "windows.toml.fifo")
    (hall_copy / "windows.toml").unlink()
    os.rename(hall_copy / "windows.toml.fifo", hall_copy / "windows.toml")   # would block a reader forever
    assert problems_of(hall_copy) == ["windows.toml: not a regular file", "services.toml: not a regular file",
                                      f"staff.toml: {too_large}", "tags.toml: not a regular file"]
    (hall_copy / "staff.toml").chmod(0)
    if os.geteuid() != 0:                                                     # root reads it anyway
        assert "staff.toml: cannot read: Permission denied" in problems_of(hall_copy)


def test_long_arrays_are_checked_in_linear_time(hall_copy: Path) -> None:
    """Repeats in an array were found by a quadratic scan: 300,000 levels took 40 s."""
    path = hall_copy / "tags.toml"
    path.write_text(path.read_text("utf-8").replace("levels = [1, 2]", "levels = [" + "1," * 300_000 + "]", 1),
                    "utf-8")
    found = problems_of(hall_copy)      # (the quadratic scan would make this test take minutes)
    assert len(found) == 299_999 and found[0] == "tags.toml: tags[0].levels: level 1 listed twice"


def test_a_pin_hash_that_could_never_be_verified_is_a_problem(hall_copy: Path) -> None:
    """n = 2**20 passed the loader, then every sign-in raised "memory limit exceeded"."""
    path = hall_copy / "staff.toml"
    text = path.read_text("utf-8")
    text = re.sub(r'pin_hash = "scrypt\$16384\$', 'pin_hash = "scrypt$1048576$', text, count=1)
    path.write_text(text, "utf-8")
    assert problems_of(hall_copy) == [
        "staff.toml: staff[0].pin_hash: not a PIN hash (parameters need more than 128 MiB to verify); "
        "make one with: python -m config hash-pin"]


def test_cli_check_reports_deep_toml_and_exits_1(hall_copy: Path) -> None:
    (hall_copy / "hall.toml").write_text("deep = " + "[" * 1000 + "]" * 1000, "utf-8")
    out = subprocess.run([sys.executable, "-m", "config", "check", str(hall_copy)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.splitlines() == ["hall.toml: " + DEEP.format(line=1), f"1 problem in {hall_copy}"]
    assert "Traceback" not in out.stderr


# -- fuzzing --------------------------------------------------------------------------------

SNIPPETS = ["[", "]", "{", "}", "[[", "]]", "=", " = ", ",", ".", '"', "'", '"""', "'''", "#", "\n", "\\",
            "\x00", "\x7f", "\u2028", "é", "中", "0x" + "f" * 40, "9" * 30, "1e999", "nan", "-inf",
            "1979-05-27T07:32:00Z", "2027-02-30", "24:61:00", "true", "[]", "{}", "a.b.c", "[windows]",
            "[[hall.sessions]]", "[" * 60, "{x=" * 40, "a." * 50, "\ufeff", "\r\n", "\t"]


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(text))
        choice = rng.random()
        if choice < 0.6:
            text = text[:at] + rng.choice(SNIPPETS) + text[at:]
        elif choice < 0.85:
            text = text[:at] + text[at + rng.randint(1, 40):]
        else:
            end = text.find("\n", at)
            text = text[:at] + text[at:end if end >= 0 else len(text)] * rng.randint(2, 5) + text[at:]
    return text


def test_fuzzed_files_give_config_errors_only(hall_copy: Path, demo_dir: Path) -> None:
    rng = random.Random(20261202)
    originals = {name: (demo_dir / name).read_text("utf-8") for name in HALL_FILES}
    loaded, refused = 0, 0
    for _ in range(200):
        name = rng.choice(HALL_FILES)
        (hall_copy / name).write_bytes(mutate(originals[name], rng).encode("utf-8", "surrogatepass"))
        try:
            load_hall(hall_copy)
            loaded += 1
        except ConfigError as exc:
            refused += 1
            assert exc.problems
            for problem in exc.problems:
                assert problem.file in HALL_FILES and PROBLEM.match(str(problem)), str(problem)
        (hall_copy / name).write_text(originals[name], "utf-8")
    assert refused > 100 and loaded > 5


ODD_VALUES: list[Any] = [2**63, -2**63 - 1, 16**5000, float("inf"), float("-inf"), [[[[]]]], {"a": {"b": {}}},
                         [{"x": 1}], "\ud800", "\n\r\t", tomllib.loads("d = 2027-02-03")["d"],
                         tomllib.loads("t = 07:32:00")["t"], tomllib.loads("t = 1979-05-27T07:32:00Z")["t"]]


def leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += leaf_paths(value, path + (key,))
    elif isinstance(node, list) and node and isinstance(node[0], dict):
        out += leaf_paths(node[0], path + (0,))
    return out


def test_odd_values_at_every_key_give_config_errors_only(demo_dir: Path) -> None:
    docs = {name: tomllib.loads((demo_dir / name).read_text("utf-8")) for name in HALL_FILES}
    docs["staff.toml"]["staff"] = docs["staff.toml"]["staff"][:2]
    docs["services.toml"]["services"] = docs["services.toml"]["services"][:2]
    checked = 0
    for name in HALL_FILES:
        for path in leaf_paths(docs[name]):
            for value in ODD_VALUES:
                broken = {**docs, name: copy.deepcopy(docs[name])}
                node = broken[name]
                for step in path[:-1]:
                    node = node[step]
                node[path[-1]] = value
                try:
                    build_hall(demo_dir, broken)
                except ConfigError as exc:
                    assert all(p.file in HALL_FILES and PROBLEM.match(str(p)) for p in exc.problems), exc
                checked += 1
    assert checked > 600
