"""Broken hall folders: every problem is found, with its file, key path and a clear message."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from config.errors import ConfigError, Problem
from config.loader import build_hall, load_hall
from config.schema import HALL_FILES

GBK_STAFF = '[[staff]]\nstaff_no = "1"\nname = "张三"\n'.encode("gb18030")
ONLY_GOOD_TAGS = 'version = 1\n[[tags]]\ncode = "P01"\ntext = "服务热情"\nlevels = [3, 4, 5]\n'
NEW_CATEGORY = '[[categories]]\ncode = "{code}"\nname = "交通运输"\n\n[[categories]]'

# (id, file, regex, replacement, expected problems). The first match of the regex in the demo
# file is replaced; a replacement of None deletes the file, bytes replace the whole file.
CASES: list[tuple[str, str, str, str | bytes | None, list[str]]] = [
    ("missing-file", "tags.toml", "", None,
     ["tags.toml: missing file"]),
    ("toml-syntax", "windows.toml", r"\A", "number = = 1\n",
     ["windows.toml: invalid TOML: Invalid value (at line 1, column 10)"]),
    ("toml-table-twice", "hall.toml", r"\A", "[rating]\n[rating]\n",
     ["hall.toml: invalid TOML: Cannot declare ('rating',) twice (at line 2, column 8)"]),
    ("not-utf8", "staff.toml", "", GBK_STAFF,
     ["staff.toml: not UTF-8 text (line 3); save the file as UTF-8"]),
    ("missing-key", "staff.toml", r'pin_hash = ".*"\n', "",
     ["staff.toml: staff[0].pin_hash: missing required key"]),
    ("bool-is-not-int", "windows.toml", r"number = 1\n", "number = true\n",
     ["windows.toml: windows[0].number: expected integer, got boolean true"]),
    ("string-is-not-int", "services.toml", r"promised_min = 15", 'promised_min = "15"',
     ['services.toml: services[0].promised_min: expected integer, got string "15"']),
    ("float-is-not-int", "staff.toml", r"stars = 5", "stars = 4.5",
     ["staff.toml: staff[0].stars: expected integer, got number 4.5"]),
    ("code-needs-quotes", "hall.toml", r'region_code = "371002"', "region_code = 371002",
     ["hall.toml: hall.region_code: expected string, got integer 371002 (put it in quotes)"]),
    ("region-code-digits", "hall.toml", r'region_code = "371002"', 'region_code = "37100"',
     ['hall.toml: hall.region_code: must be 6 digits, got "37100"']),
    ("empty-name", "hall.toml", r'name = ".*"', 'name = "  "',
     ["hall.toml: hall.name: must not be empty"]),
    ("timezone", "hall.toml", r'"Asia/Shanghai"', '"Asia/Beijing"',
     ['hall.toml: hall.timezone: unknown time zone "Asia/Beijing"']),
    ("time-format", "hall.toml", r'"09:00"', '"9:00"',
     ['hall.toml: hall.sessions[0].start: must be a time "HH:MM" from 00:00 to 23:59, got "9:00"']),
    ("session-end-before-start", "hall.toml", r'end = "12:00"', 'end = "08:00"',
     ["hall.toml: hall.sessions[0].end: must be after start 09:00, got 08:00"]),
    ("sessions-overlap", "hall.toml", r'"13:30"', '"11:30"',
     ["hall.toml: hall.sessions[1].start: must not be before the previous session's end 12:00, got 11:30"]),
    ("out-of-range", "hall.toml", r"open_s = 60", "open_s = 200",
     ["hall.toml: rating.open_s: must be between 5 and 180, got 200"]),
    ("unknown-key-section", "hall.toml", r"wait_alert_min =", "wait_alert_mins =",
     ['hall.toml: thresholds.wait_alert_mins: unknown key; did you mean "wait_alert_min"?']),
    ("unknown-top-level-table", "hall.toml", r"\[rating\]", "[ratings]",
     ['hall.toml: ratings: unknown key; did you mean "rating"?']),
    ("unknown-key-typo", "windows.toml", r"categories =", "categorys =",
     ["windows.toml: windows[0].categories: missing required key",
      'windows.toml: windows[0].categorys: unknown key; did you mean "categories"?']),
    ("duplicate-window", "windows.toml", r"number = 2\n", "number = 1\n",
     ["windows.toml: windows[1].number: duplicate window number 1 (also windows[0])"]),
    ("unknown-category", "windows.toml", r'categories = \["A"\]', 'categories = ["A", "Z"]',
     ['windows.toml: windows[2].categories: unknown category "Z"']),
    ("category-twice", "windows.toml", r'categories = \["A"\]', 'categories = ["A", "A"]',
     ['windows.toml: windows[2].categories: category "A" listed twice']),
    ("no-categories", "windows.toml", r'categories = \["A"\]', "categories = []",
     ["windows.toml: windows[2].categories: must not be empty"]),
    ("category-not-string", "windows.toml", r'categories = \["A"\]', 'categories = ["A", 1]',
     ["windows.toml: windows[2].categories[1]: expected string, got integer 1"]),
    ("keypad-address-range", "windows.toml", r"address = 1,", "address = 33,",
     ["windows.toml: windows[0].keypad.address: must be between 1 and 32, got 33"]),
    ("keypad-baud", "windows.toml", r"address = 1, baud = 9600", "address = 1, baud = 4800",
     ["windows.toml: windows[0].keypad.baud: must be one of 9600, 19200, 38400, got 4800"]),
    ("keypad-address-twice", "windows.toml", r"address = 2,", "address = 1,",
     ['windows.toml: windows[1].keypad.address: address 1 on port "sim://keypad" is already used by '
      "windows[0].keypad"]),
    ("keypad-bus-baud", "windows.toml", r"address = 2, baud = 9600", "address = 2, baud = 19200",
     ["windows.toml: windows[1].keypad.baud: windows[0].keypad uses 9600 on the same port, got 19200"]),
    ("printer-port-twice", "windows.toml", r'"sim://printer-2"', '"sim://printer-1"',
     ['windows.toml: windows[1].printer.port: port "sim://printer-1" is already used by windows[0].printer']),
    ("printer-on-keypad-bus", "windows.toml", r'"sim://printer-2"', '"sim://keypad"',
     ['windows.toml: windows[1].printer.port: port "sim://keypad" is already used by windows[0].keypad']),
    ("keypad-port-missing", "windows.toml", r'keypad = \{ port = "sim://keypad", ', "keypad = { ",
     ["windows.toml: windows[0].keypad.port: missing required key"]),
    ("empty-windows", "windows.toml", r"(?s)\[\[windows\]\].*", "windows = []\n",
     ["windows.toml: windows: must not be empty"]),
    ("category-code-format", "services.toml", r"\[\[categories\]\]", NEW_CATEGORY.format(code="abc"),
     ['services.toml: categories[0].code: must be 1 or 2 uppercase letters A-Z, got "abc"']),
    ("category-code-twice", "services.toml", r"\[\[categories\]\]", NEW_CATEGORY.format(code="B"),
     ['services.toml: categories[2].code: duplicate category code "B" (also categories[0])']),
    ("category-unserved", "services.toml", r"\[\[categories\]\]", NEW_CATEGORY.format(code="J"),
     ['services.toml: categories[0].code: no window serves category "J"']),
    ("service-unknown-category", "services.toml", r'category = "A"', 'category = "Q"',
     ['services.toml: services[0].category: unknown category "Q"']),
    ("service-code-twice", "services.toml", r'code = "SB-0102"', 'code = "SB-0101"',
     ['services.toml: services[1].code: duplicate service code "SB-0101" (also services[0])']),
    ("promised-zero", "services.toml", r"promised_min = 15", "promised_min = 0",
     ["services.toml: services[0].promised_min: must be between 1 and 1440, got 0"]),
    ("staff-no-twice", "staff.toml", r'staff_no = "HC2102"', 'staff_no = "HC2101"',
     ['staff.toml: staff[1].staff_no: duplicate staff number "HC2101" (also staff[0])']),
    ("staff-no-too-long", "staff.toml", r'staff_no = "HC2101"', 'staff_no = "HC21010001"',
     ['staff.toml: staff[0].staff_no: must be 1 to 8 printable ASCII characters without spaces, '
      'got "HC21010001"']),
    ("staff-no-not-ascii", "staff.toml", r'staff_no = "HC2101"', 'staff_no = "窗口01"',
     ['staff.toml: staff[0].staff_no: must be 1 to 8 printable ASCII characters without spaces, '
      'got "窗口01"']),
    ("photo-missing", "staff.toml", r'"photos/HC2101.png"', '"photos/nobody.png"',
     ['staff.toml: staff[0].photo: file not found: "photos/nobody.png"']),
    ("photo-absolute", "staff.toml", r'"photos/HC2101.png"', '"/tmp/HC2101.png"',
     ['staff.toml: staff[0].photo: must be a path relative to the hall folder, got "/tmp/HC2101.png"']),
    ("pin-hash", "staff.toml", r'pin_hash = ".*"', 'pin_hash = "1234"',
     ["staff.toml: staff[0].pin_hash: not a PIN hash (expected scrypt$n$r$p$salt$hash); "
      "make one with: python -m config hash-pin"]),
    ("stars-range", "staff.toml", r"stars = 5", "stars = 6",
     ["staff.toml: staff[0].stars: must be between 0 and 5, got 6"]),
    ("name-too-long-for-keypad", "staff.toml", r'name = "王𬀩"', f'name = "{"王" * 111}"',
     ["staff.toml: staff[0].name: name and department take 238 bytes in GB18030, the keypad shows at most 237"]),
    ("tag-removed-not-after-added", "tags.toml", r"added_in = 1\nremoved_in = 2", "added_in = 2\nremoved_in = 2",
     ["tags.toml: tags[6].removed_in: must be after added_in 2, got 2"]),
    ("tag-from-the-future", "tags.toml", r"version = 2", "version = 1",
     ["tags.toml: tags[6].removed_in: must not be after the current version 1, got 2",
      "tags.toml: tags[7].added_in: must not be after the current version 1, got 2"]),
    ("tag-level-range", "tags.toml", r"levels = \[1, 2\]", "levels = [1, 6]",
     ["tags.toml: tags[0].levels: levels must be between 1 and 5, got 6"]),
    ("tag-code-twice", "tags.toml", r'code = "N02"', 'code = "N01"',
     ['tags.toml: tags[1].code: duplicate tag code "N01" (also tags[0])']),
    ("bad-levels-need-a-tag", "tags.toml", "", ONLY_GOOD_TAGS.encode(),
     ["tags.toml: tags: no current tag for level 1; a bad rating needs at least one",
      "tags.toml: tags: no current tag for level 2; a bad rating needs at least one"]),
    ("tags-not-tables", "tags.toml", r"(?s)\[\[tags\]\].*", 'tags = ["服务态度差"]\n',
     ['tags.toml: tags[0]: expected table, got string "服务态度差"']),
]


def break_hall(folder: Path, file: str, pattern: str, replacement: str | bytes | None) -> None:
    path = folder / file
    if replacement is None:
        path.unlink()
    elif isinstance(replacement, bytes):
        path.write_bytes(replacement)
    else:
        text, count = re.subn(pattern, lambda _: replacement, path.read_text("utf-8"), count=1)
        assert count == 1, f"{pattern!r} not found in {file}"
        path.write_text(text, "utf-8")


def problems_of(folder: Path) -> list[str]:
    try:
        load_hall(folder)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize(("file", "pattern", "replacement", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_broken_hall(hall_copy: Path, file: str, pattern: str, replacement: str | bytes | None,
                     expected: list[str]) -> None:
    break_hall(hall_copy, file, pattern, replacement)
    assert problems_of(hall_copy) == expected


def test_every_problem_in_every_file_is_reported_in_file_order(hall_copy: Path) -> None:
    break_hall(hall_copy, "tags.toml", r"version = 2", "version = 0")
    break_hall(hall_copy, "staff.toml", r"stars = 5", "stars = true")
    break_hall(hall_copy, "staff.toml", r'staff_no = "HC2127"', 'staff_no = "HC2101"')
    break_hall(hall_copy, "windows.toml", r'categories = \["A"\]', 'categories = ["Z"]')  # not judged:
    break_hall(hall_copy, "hall.toml", r"screen_dpi = 160", "screen_dpi = 10\nbogus = 1")
    break_hall(hall_copy, "services.toml", "", None)                                     # no categories
    with pytest.raises(ConfigError) as info:
        load_hall(hall_copy)
    assert [str(p) for p in info.value.problems] == [
        "hall.toml: hall.screen_dpi: must be between 72 and 640, got 10",
        "hall.toml: hall.bogus: unknown key",
        "services.toml: missing file",
        "staff.toml: staff[0].stars: expected integer, got boolean true",
        'staff.toml: staff[26].staff_no: duplicate staff number "HC2101" (also staff[0])',
        "tags.toml: version: must be at least 1, got 0",
    ]
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    assert info.value.problems[0] == Problem("hall.toml", "hall.screen_dpi", "must be between 72 and 640, got 10")


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_hall(tmp_path / "nowhere")
    assert str(info.value) == f"{tmp_path / 'nowhere'}: no such folder"


def test_empty_folder_lists_every_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{name}: missing file" for name in HALL_FILES]


def test_optional_sections_and_keys_take_schema_defaults(hall_copy: Path) -> None:
    break_hall(hall_copy, "hall.toml", r"(?s)\[thresholds\].*", "")
    break_hall(hall_copy, "hall.toml", r'timezone = .*\n', "")
    break_hall(hall_copy, "windows.toml", r", baud = 9600 \}", " }")
    cfg = load_hall(hall_copy)
    assert cfg.hall.timezone == "Asia/Shanghai"
    assert cfg.hall.thresholds.recall_cap == 5 and cfg.hall.assessment.base_score == 100
    assert cfg.window(1).keypad is not None and cfg.window(1).keypad.baud == 9600


def test_one_session_is_enough(hall_copy: Path) -> None:
    break_hall(hall_copy, "hall.toml", r'\[\[hall.sessions\]\]\nstart = "13:30"\nend = "17:30"', "")
    assert len(load_hall(hall_copy).hall.sessions) == 1


def test_integers_are_accepted_for_numbers(hall_copy: Path) -> None:
    break_hall(hall_copy, "hall.toml", r"deduct_per_bad = 2.0", "deduct_per_bad = 3")
    deduct = load_hall(hall_copy).hall.assessment.deduct_per_bad
    assert deduct == 3.0 and isinstance(deduct, float)


def test_utf8_bom_is_accepted(hall_copy: Path) -> None:
    path = hall_copy / "windows.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_hall(hall_copy).windows) == 16


# -- robustness: any wrong value gives a ConfigError, never another exception ------------------

WRONG_VALUES: list[Any] = [True, 0, -1, 10**30, 1.5, float("nan"), "", "x\x00y", "Asia", "a" * 5000,
                           [], [1, "a"], {}, {"x": 1}]


def demo_docs(demo_dir: Path) -> dict[str, Any]:
    return {name: tomllib.loads((demo_dir / name).read_text("utf-8")) for name in HALL_FILES}


def leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Key paths to every value in a TOML document, following only the first item of arrays."""
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += leaf_paths(value, path + (key,))
    elif isinstance(node, list) and node and isinstance(node[0], dict):
        out += leaf_paths(node[0], path + (0,))
    return out


def test_any_wrong_value_or_missing_key_is_a_config_error(demo_dir: Path) -> None:
    docs = demo_docs(demo_dir)
    docs["staff.toml"]["staff"] = docs["staff.toml"]["staff"][:2]      # keep it quick
    docs["services.toml"]["services"] = docs["services.toml"]["services"][:2]
    build_hall(demo_dir, docs)
    checked = 0
    for name in HALL_FILES:
        for path in leaf_paths(docs[name]):
            for value in [*WRONG_VALUES, KeyError]:     # KeyError: delete the key
                broken = {**docs, name: copy.deepcopy(docs[name])}
                node = broken[name]
                for step in path[:-1]:
                    node = node[step]
                if value is KeyError:
                    del node[path[-1]]
                else:
                    node[path[-1]] = value
                try:
                    build_hall(demo_dir, broken)
                except ConfigError as exc:
                    assert exc.problems and all(p.file for p in exc.problems)
                checked += 1
    assert checked > 500
