"""hall.toml [hours]: the hall's sessions per weekday (上午 / 下午), validated precisely."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from config.errors import ConfigError
from config.loader import load_hall
from config.schema import MORNING, AFTERNOON, Session, half_of


def with_hours(folder: Path, text: str) -> None:
    with (folder / "hall.toml").open("a", encoding="utf-8") as f:
        f.write("\n[hours]\n" + text)


def problems_of(folder: Path) -> list[str]:
    try:
        load_hall(folder)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def test_no_hours_means_hall_sessions_every_weekday(demo_dir: Path) -> None:
    hall = load_hall(demo_dir).hall
    assert hall.hours.weekdays == (None,) * 7
    assert all(hall.hours.for_weekday(i, hall.sessions) == hall.sessions for i in range(7))


def test_weekdays_are_read(hall_copy: Path) -> None:
    with_hours(hall_copy, 'friday = ["09:00-12:00", " 13:30-16:30 "]\nsaturday = ["09:00-12:00"]\nmonday = []\n')
    hours = load_hall(hall_copy).hall.hours
    assert hours.weekdays[4] == (Session(time(9), time(12)), Session(time(13, 30), time(16, 30)))
    assert hours.weekdays[5] == (Session(time(9), time(12)),)
    assert hours.weekdays[0] == () and hours.weekdays[1] is None


def test_every_hours_problem_is_precise(hall_copy: Path) -> None:
    with_hours(hall_copy, 'monday = ["9:00-12:00"]\ntuesday = ["12:00-09:00"]\n'
                          'wednesday = ["13:00-17:00", "09:00-12:00"]\nthursday = ["08:00-10:00", "10:00-12:00", "13:00-17:00"]\n'
                          'friday = "09:00-12:00"\nsaturday = [900]\nholiday = []\n')
    assert problems_of(hall_copy) == [
        'hall.toml: hours.monday[0]: must be a session "HH:MM-HH:MM" such as "09:00-12:00", got string "9:00-12:00"',
        'hall.toml: hours.tuesday[0]: the end must be after the start, got "12:00-09:00"',
        'hall.toml: hours.wednesday[1]: must not start before the previous session\'s end 17:00, got "09:00-12:00"',
        "hall.toml: hours.thursday: at most 2 sessions a day (上午 and 下午), got 3",
        "hall.toml: hours.friday: expected array, got string \"09:00-12:00\"",
        'hall.toml: hours.saturday[0]: must be a session "HH:MM-HH:MM" such as "09:00-12:00", got integer 900',
        'hall.toml: hours.holiday: unknown key; did you mean "monday"?',
    ]


def test_three_hall_sessions_are_refused(hall_copy: Path) -> None:
    with (hall_copy / "hall.toml").open("a", encoding="utf-8") as f:
        f.write("")
    text = (hall_copy / "hall.toml").read_text("utf-8")
    text = text.replace('[[hall.sessions]]\nstart = "13:30"\nend = "17:30"\n',
                        '[[hall.sessions]]\nstart = "13:30"\nend = "17:30"\n\n[[hall.sessions]]\nstart = "18:00"\nend = "20:00"\n')
    (hall_copy / "hall.toml").write_text(text, "utf-8")
    assert problems_of(hall_copy) == [
        "hall.toml: hall.sessions: at most 2 sessions a day (上午 and 下午; the gap between them is the lunch break)"]


def test_halves() -> None:
    two = (Session(time(9), time(12)), Session(time(13, 30), time(17, 30)))
    assert [half_of(two, i) for i in range(2)] == [MORNING, AFTERNOON]
    assert half_of((Session(time(14), time(17)),), 0) == AFTERNOON
    assert half_of((Session(time(8, 30), time(11, 30)),), 0) == MORNING
