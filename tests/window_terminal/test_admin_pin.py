"""A PIN a manager reset (issue 14): the sign-in with the one-time PIN is refused
`pin_change_required`; the terminal keeps the one-time PIN in memory and sends what the clerk
types next as `new_pin` with it, on the same sign-in screen."""

from __future__ import annotations

from config.i18n import t

from .conftest import Recorder, new_logic


def test_the_terminal_asks_for_a_new_pin_and_sends_it_with_the_one_time_pin(demo, tmp_path, clock) -> None:
    sender = Recorder()
    lg = new_logic(demo, tmp_path, clock, sender)
    lg.on_connection(True)
    for key in "2103":
        lg.key(key)
    lg.key("enter")
    for key in "135790":
        lg.key(key)
    lg.key("enter")
    msg_id, type_, body = sender.last
    assert type_ == "window.sign_in" and body == {"staff_no": "HC2103", "pin": "135790"}
    lg.on_reply(msg_id, {"ok": False, "error": "pin_change_required", "message": "", "details": {}})
    assert lg.message == t("err.pin_change_required") and lg.si_field == "pin" and lg.si_pin == ""
    for key in "8642":
        lg.key(key)
    lg.key("enter")
    msg_id, _type, body = sender.last
    assert body == {"staff_no": "HC2103", "pin": "135790", "new_pin": "8642"}
    lg.on_reply(msg_id, {"ok": False, "error": "bad_new_pin", "message": "", "details": {}})
    assert lg.message == t("err.bad_new_pin") and lg.si_one_time == "135790"     # still asking
    for key in "97531":
        lg.key(key)
    lg.key("enter")
    msg_id, _type, body = sender.last
    assert body == {"staff_no": "HC2103", "pin": "135790", "new_pin": "97531"}
    lg.on_reply(msg_id, {"ok": True, "result": {"window": 3, "staff_no": "HC2103", "late": False, "already": False}})
    assert lg.si_one_time == "" and lg.screen() == "main"
