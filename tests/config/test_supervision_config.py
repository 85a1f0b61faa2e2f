"""hall.toml [patrol] and [notify] (issue 15): defaults, the demo's values, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.errors import ConfigError
from config.loader import load_hall
from config.schema import DEFAULT_PATROL_FINDINGS


def _problems(folder: Path) -> list[str]:
    try:
        load_hall(folder)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def _append(folder: Path, text: str) -> None:
    """Replace the demo's [patrol] and [notify] sections (they stand before [network]) with `text`."""
    hall = folder / "hall.toml"
    body = hall.read_text("utf-8")
    hall.write_text(body[: body.index("[patrol]")] + text + "\n" + body[body.index("[network]"):], "utf-8")


def test_demo_and_defaults(hall_copy: Path) -> None:
    config = load_hall(hall_copy)
    assert [f.name for f in config.hall.patrol.findings][:3] == ["离岗", "空岗", "玩手机"]
    assert config.hall.notify.channels() == ()
    _append(hall_copy, "")
    config = load_hall(hall_copy)
    assert config.hall.patrol.findings == DEFAULT_PATROL_FINDINGS and config.hall.patrol.due_workdays == 5


def test_bad_patrol_and_notify_keys_are_named(hall_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALL_TEST_NO_SUCH_SECRET", raising=False)
    _append(hall_copy, """[patrol]
findings = [
  { code = "away", name = "离岗", points = 2 },
  { code = "away", name = "离岗2", points = 2 },
  { code = "Bad Code", name = "x", points = 200 },
]
[notify]
wecom_webhook = "ftp://x"
dingtalk_webhook = "https://oapi.dingtalk.com/robot/send?access_token=t"
dingtalk_secret_env = "HALL_TEST_NO_SUCH_SECRET"
smtp_host = "mail.example.cn"
smtp_to = ["duty@example.cn", "not-an-address"]
events = ["bad_rating", "fire"]
""")
    assert _problems(hall_copy) == [
        'hall.toml: patrol.findings[1].code: "away" is also findings[0].code',
        'hall.toml: patrol.findings[2].code: must be lowercase letters, digits or _ (at most 32), got "Bad Code"',
        "hall.toml: patrol.findings[2].points: must be between 0 and 100, got 200.0",
        'hall.toml: notify.smtp_to[1]: expected an e-mail address, got string "not-an-address"',
        'hall.toml: notify.events[1]: must be one of bad_rating, overdue, lockout, got string "fire"',
        "hall.toml: notify.smtp_from: required when smtp_host and smtp_to are set",
        'hall.toml: notify.wecom_webhook: must be "" or an http(s):// address, got "ftp://x"',
        "hall.toml: notify.dingtalk_secret_env: environment variable HALL_TEST_NO_SUCH_SECRET is not set",
    ]


def test_a_secret_from_the_environment(hall_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_TEST_DING_SECRET", "SECabc")
    _append(hall_copy, """[notify]
dingtalk_webhook = "https://oapi.dingtalk.com/robot/send?access_token=t"
dingtalk_secret_env = "HALL_TEST_DING_SECRET"
""")
    notify = load_hall(hall_copy).hall.notify
    assert notify.dingtalk_secret == "SECabc" and notify.channels() == ("dingtalk",)
