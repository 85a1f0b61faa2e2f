"""hall.public_url (full QR links on printed slips), the [export] section (R11 upward export) and
the reserved tag code KEYPAD: defaults, accepted values, clear problems."""

from __future__ import annotations

from pathlib import Path

from config.loader import load_hall
from config.schema import ExportPolicy
from tests.config.test_loader_errors import break_hall, problems_of

AFTER_DPI = r"screen_dpi = 160"


def test_defaults_are_relative_links_and_no_export(hall_copy: Path) -> None:
    hall = load_hall(hall_copy).hall
    assert hall.public_url == "" and hall.export == ExportPolicy(sink="", every_s=60)


def test_public_url_and_export_are_read(hall_copy: Path) -> None:
    break_hall(hall_copy, "hall.toml", AFTER_DPI, 'screen_dpi = 160\npublic_url = "http://192.168.1.10:8080/"')
    with open(hall_copy / "hall.toml", "a", encoding="utf-8") as f:
        f.write('\n[export]\nsink = "folder:/srv/province"\nevery_s = 30\n')
    hall = load_hall(hall_copy).hall
    assert hall.public_url == "http://192.168.1.10:8080"          # no trailing slash: + "/r/<token>"
    assert hall.export == ExportPolicy(sink="folder:/srv/province", every_s=30)


def test_http_sink_is_accepted(hall_copy: Path) -> None:
    with open(hall_copy / "hall.toml", "a", encoding="utf-8") as f:
        f.write('\n[export]\nsink = "https://province.example/ratings"\n')
    assert load_hall(hall_copy).hall.export.sink == "https://province.example/ratings"


def test_bad_values_are_clear_problems(hall_copy: Path) -> None:
    break_hall(hall_copy, "hall.toml", AFTER_DPI, 'screen_dpi = 160\npublic_url = "192.168.1.10:8080"')
    with open(hall_copy / "hall.toml", "a", encoding="utf-8") as f:
        f.write('\n[export]\nsink = "ftp://x"\nevery_s = 0\nevry = 1\n')
    assert problems_of(hall_copy) == [
        'hall.toml: export.sink: must be "", "folder:PATH" or an http(s):// address, got "ftp://x"',
        "hall.toml: export.every_s: must be between 1 and 86400, got 0",
        'hall.toml: hall.public_url: must be "" or an address such as "http://192.168.1.10:8080", '
        'got "192.168.1.10:8080"',
        'hall.toml: export.evry: unknown key; did you mean "every_s"?',
    ]


def test_keypad_tag_code_is_reserved(hall_copy: Path) -> None:
    with open(hall_copy / "tags.toml", "a", encoding="utf-8") as f:
        f.write('\n[[tags]]\ncode = "KEYPAD"\ntext = "按键"\nlevels = [1]\n')
    problems = problems_of(hall_copy)
    assert len(problems) == 1 and "KEYPAD" in problems[0] and "reserved" in problems[0]
