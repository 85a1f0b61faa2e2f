"""hall.toml [calendar]: the hall's own holidays and makeup working days, validated precisely."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

from config.errors import ConfigError
from config.loader import load_hall


def with_calendar(folder: Path, text: str) -> None:
    with (folder / "hall.toml").open("a", encoding="utf-8") as f:
        f.write("\n[calendar]\n" + text)


def problems_of(folder: Path) -> list[str]:
    try:
        load_hall(folder)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_no_calendar_means_empty_lists(demo_dir: Path) -> None:
    calendar = load_hall(demo_dir).hall.calendar
    assert calendar.holidays == () and calendar.workdays == () and calendar.covered_years == frozenset()


def test_quoted_and_toml_dates_are_read_sorted(hall_copy: Path) -> None:
    with_calendar(hall_copy, 'holidays = ["2027-01-03", 2027-01-01, " 2027-01-02 "]\nworkdays = [2027-02-06]\n')
    calendar = load_hall(hall_copy).hall.calendar
    assert calendar.holidays == (date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3))
    assert calendar.workdays == (date(2027, 2, 6),)
    assert calendar.covered_years == frozenset({2027})


def test_every_calendar_problem_is_precise(hall_copy: Path) -> None:
    with_calendar(hall_copy, 'holidays = ["2027-01-01", 2027-01-02, "2027-02-30", "2027-1-3", 5, "2027-01-01", '
                             '"2199-01-01", 2027-01-02T00:00:00, 07:30:00]\n'
                             'workdays = ["2027-01-02", "2027-02-08", "2027-02-06", 2027-02-06]\nholiday = []\n')
    assert problems_of(hall_copy) == [
        'hall.toml: calendar.holidays[2]: no such date "2027-02-30"',
        'hall.toml: calendar.holidays[3]: expected a date such as "2027-01-01", got string "2027-1-3"',
        'hall.toml: calendar.holidays[4]: expected a date such as "2027-01-01", got integer 5',
        "hall.toml: calendar.holidays[5]: 2027-01-01 is listed twice (also holidays[0])",
        "hall.toml: calendar.holidays[6]: year must be between 2000 and 2100, got 2199-01-01",
        'hall.toml: calendar.holidays[7]: expected a date such as "2027-01-01", got date/time 2027-01-02 00:00:00',
        'hall.toml: calendar.holidays[8]: expected a date such as "2027-01-01", got date/time 07:30:00',
        "hall.toml: calendar.workdays[3]: 2027-02-06 is listed twice (also workdays[2])",
        "hall.toml: calendar.workdays[0]: 2027-01-02 is also in holidays[1]; a day is either off or on",
        "hall.toml: calendar.workdays[1]: 2027-02-08 is a Monday; list only Saturdays and Sundays worked "
        "as makeup working days (调休上班)",
        'hall.toml: calendar.holiday: unknown key; did you mean "holidays"?',
    ]


def test_calendar_must_be_a_table_of_arrays(hall_copy: Path) -> None:
    with_calendar(hall_copy, 'holidays = "2027-01-01"\n')
    assert problems_of(hall_copy) == ['hall.toml: calendar.holidays: expected array, got string "2027-01-01"']


def test_cli_check_summarises_the_calendar(hall_copy: Path) -> None:
    with_calendar(hall_copy, 'holidays = ["2027-01-01", "2027-01-02"]\nworkdays = ["2027-02-06"]\n')
    out = subprocess.run([sys.executable, "-m", "config", "check", str(hall_copy)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "  calendar: 2 holidays, 1 makeup working days (years covered: 2027)" in out.stdout.splitlines()
    with_calendar(hall_copy, "")                                   # a second [calendar]: invalid TOML
    out = subprocess.run([sys.executable, "-m", "config", "check", str(hall_copy)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1 and out.stderr.startswith("hall.toml: invalid TOML: Cannot declare ('calendar',) twice")
