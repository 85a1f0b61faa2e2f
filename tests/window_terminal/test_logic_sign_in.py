"""Signing in and out at the terminal: the pad, the PIN and its tries, a restart, the server signing
the window out."""

from __future__ import annotations

from config.i18n import t

from .conftest import Recorder, new_logic
from .logic_steps import PIN, signed_in


def test_sign_in_with_the_pad_completes_the_staff_no_and_never_keeps_the_pin(hub_server, tmp_path) -> None:
    lg = hub_server.attach(new_logic(hub_server.hub.config, tmp_path, hub_server.clock))
    assert lg.screen() == "sign_in"
    for key in "2103":
        lg.pad(key)
    assert lg.view().si_hint == "张丽娟"               # the typed digits are recognised as HC2103
    lg.pad("enter")
    assert lg.si_field == "pin"
    for key in "1234":
        lg.pad(key)
    assert lg.view().si_pin == "●●●●"
    lg.pad("enter")
    v = lg.view()
    assert v.screen == "main" and "张丽娟" in v.staff_line and "HC2103" in v.staff_line
    assert hub_server.hub.state.snapshot()[1]["window/3"]["staff"]["staff_no"] == "HC2103"
    assert "1234" not in (tmp_path / "terminal-3.state.json").read_text()
    # and out again
    assert lg.key("f12")
    assert lg.screen() == "sign_in" and lg.message == t("term.signed_out")


def test_prefix_key_and_letters_type_a_full_staff_no(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    assert lg.view().si_prefixes == ["HC"]
    lg.pad("HC")
    for key in "2101":
        lg.pad(key)
    assert lg.si_staff_no == "HC2101" and lg.view().si_hint == "王𬀩"
    lg.pad("back")
    assert lg.si_staff_no == "HC210"
    lg.pad("clear")
    lg.key("h")
    lg.key("c")
    assert lg.si_staff_no == "HC"


def test_wrong_pin_tells_the_tries_left_then_the_lock(hub_server, tmp_path) -> None:
    lg = hub_server.attach(new_logic(hub_server.hub.config, tmp_path, hub_server.clock))
    for attempt in range(5):
        for key in "2103":
            lg.key(key)
        lg.key("enter")
        for key in "9999":
            lg.key(key)
        lg.key("enter")
        assert lg.screen() == "sign_in" and lg.message_kind == "error"
        assert lg.si_pin == ""
        if attempt < 4:
            assert lg.message == t("err.wrong_pin_left", n=4 - attempt)
        lg.pad("clear")
    assert lg.message == t("err.account_locked", n=5)
    assert "锁定" in lg.message
    # the right PIN does not help while locked
    for key in "2103":
        lg.key(key)
    lg.key("enter")
    for key in PIN:
        lg.key(key)
    lg.key("enter")
    assert lg.screen() == "sign_in" and "锁定" in lg.message


def test_sign_in_survives_a_restart(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    lg.set_job_no("WIN-42")
    again = new_logic(hub_server.hub.config, tmp_path, hub_server.clock)   # nothing from the server yet
    v = again.view()
    assert v.screen == "main" and "张丽娟" in v.staff_line and v.job_no == "WIN-42"
    assert not v.online and v.banner == t("term.offline_banner")
    hub_server.attach(again)                          # the server confirms
    assert again.screen() == "main"


def test_the_server_signing_this_window_out_is_shown(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    hub_server.clock.advance(10)
    lg.on_state("window/3", {**hub_server.hub.state.snapshot()[1]["window/3"], "staff": None, "state": "closed"})
    assert lg.screen() == "sign_in" and lg.message == t("term.signed_out_by_server")


def test_a_stale_window_state_right_after_sign_in_does_not_sign_out(hub_server, tmp_path) -> None:
    hub_server.reply_first = True                     # the answer overtakes the deltas
    lg = hub_server.attach(new_logic(hub_server.hub.config, tmp_path, hub_server.clock))
    lg.on_state("window/3", {"window": 3, "state": "closed", "staff": None})
    for key in "2103":
        lg.key(key)
    lg.key("enter")
    for key in PIN:
        lg.key(key)
    lg.key("enter")
    lg.on_state("window/3", {"window": 3, "state": "closed", "staff": None})   # published before the sign-in
    assert lg.screen() == "main"
