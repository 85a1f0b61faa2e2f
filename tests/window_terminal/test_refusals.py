"""Refusals are read from the reply's `error` code and `details`, never from its message: the
message is for the logs and may be in any language or wording."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.i18n import t

from .conftest import Clock, Recorder, new_logic


def _refuse_sign_in(demo, folder: Path, clock: Clock, lang: str, error: str, message: str,
                    details: object) -> str:
    sender = Recorder()
    lg = new_logic(demo, folder, clock, sender, lang=lang)
    lg.on_connection(True)
    for key in "2103":
        lg.key(key)
    lg.key("enter")
    for key in "9999":
        lg.key(key)
    lg.key("enter")
    msg_id, type_, _body = sender.last
    assert type_ == "window.sign_in"
    lg.on_reply(msg_id, {"ok": False, "error": error, "message": message, "details": details})
    assert lg.message_kind == "error" and lg.screen() == "sign_in"
    return lg.message


@pytest.mark.parametrize("message", [
    "Authentication failed.",                  # English, no number, no "tries"
    "工号或密码错误",                             # Chinese
    "wrong 工号 or PIN (4 tries left)",          # a number in the text that is not the truth
    "",
])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tries_left_come_from_details_whatever_the_message(demo, tmp_path, clock, message: str, lang: str) -> None:
    shown = _refuse_sign_in(demo, tmp_path, clock, lang, "wrong_pin", message, {"tries_left": 2})
    assert shown == t("err.wrong_pin_left", lang, n=2)


def test_the_lock_length_comes_from_locked_until(demo, tmp_path, clock) -> None:
    until = clock.now + 3 * 60_000 - 500         # 2.99 minutes left: shown as 3
    shown = _refuse_sign_in(demo, tmp_path, clock, "zh", "account_locked", "Access denied.",
                            {"locked_until_ms": until})
    assert shown == t("err.account_locked", n=3)


def test_signed_in_elsewhere_names_the_window_from_details(demo, tmp_path, clock) -> None:
    shown = _refuse_sign_in(demo, tmp_path, clock, "zh", "already_signed_in", "HC2103 is at window 9",
                            {"window": 2})
    assert shown == t("err.already_signed_in_at", window=2) and "2号窗口" in shown
    assert _refuse_sign_in(demo, tmp_path / "b", clock, "zh", "already_signed_in", "", {}) == t("err.already_signed_in")


@pytest.mark.parametrize("details", [{}, None, "3", {"tries_left": "3"}, {"tries_left": True}])
def test_a_wrong_pin_without_usable_details_says_wrong_pin(demo, tmp_path, clock, details: object) -> None:
    shown = _refuse_sign_in(demo, tmp_path, clock, "zh", "wrong_pin", "(3 tries left)", details)
    assert shown == t("err.wrong_pin")


def test_no_regex_reads_refusal_text() -> None:
    root = Path(__file__).resolve().parents[2] / "window_terminal"
    for path in root.glob("*.py"):
        if path.name == "shots.py":          # its stand-in server writes the server's messages
            continue
        source = path.read_text(encoding="utf-8")
        assert "tries left" not in source and "locked for" not in source, path
