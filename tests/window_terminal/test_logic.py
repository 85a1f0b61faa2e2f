"""The terminal's logic without a window: against a real in-process hub (the domain's true answers
and state deltas), and against a recorder for the timing cases (late answers, offline, restarts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.i18n import TEXTS, t
from window_terminal.keymap import MAIN_KEYS, SHORTCUTS
from window_terminal.replies import KNOWN_ERRORS
from window_terminal.state import PAUSE_REASONS, fmt_duration

from .conftest import HubServer, Recorder, new_logic

PIN = "1234"


def signed_in(srv: HubServer, folder: Path, staff_no: str = "HC2103", window: int = 3):
    lg = srv.attach(new_logic(srv.hub.config, folder, srv.clock, window=window))
    for key in staff_no[-4:]:
        lg.key(key)
    lg.key("enter")
    for key in PIN:
        lg.key(key)
    lg.key("enter")
    assert lg.screen() == "main", lg.message
    return lg


def take(srv: HubServer, category: str = "A", **kw) -> dict:
    return srv.other("queue.take", {"category": category, **kw}, "dispenser-1")


# --- sign in / out ----------------------------------------------------------------------------

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


# --- the queue --------------------------------------------------------------------------------

def test_call_recall_no_show_with_counts_and_waits(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    assert lg.view().queues[0]["code"] == "A"
    take(hub_server)
    take(hub_server)
    assert lg.view().queues[0]["waiting"] == "2"
    hub_server.clock.advance(125)
    assert lg.key("f1")
    v = lg.view()
    assert v.ticket == "A001" and v.state_text == t("term.state.calling")
    assert t("term.waited", t="2分") in v.ticket_info
    assert v.queues[0]["waiting"] == "1"
    assert v.btn["recall"].label.startswith("重呼 0/5") and v.btn["call_next"].enabled is False
    assert v.btn["call_next"].reason == t("term.reason_has_ticket")
    for n in range(1, 6):
        assert lg.key("f2")
        assert lg.view().recall_text == t("term.recalls", n=n, cap=5)
    assert lg.key("f2")                               # past the cap: the server makes it a no-show
    assert lg.message == t("term.recall_cap_no_show", ticket="A001")
    assert lg.view().ticket == "—" and lg.win_state() == "idle"
    lg.key("f1")
    assert lg.view().ticket == "A002"
    lg.key("f3")
    assert lg.message == t("term.no_show_done", ticket="A002")
    lg.key("f1")
    assert lg.message == t("err.queue_empty") and lg.message_kind == "error"


def test_park_and_call_back(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    for _ in range(3):
        take(hub_server)
    lg.key("f1")
    lg.key("f7")                                      # serving when parked: the 办件 resumes on call back
    lg.key("f4")
    assert [p["ticket"] for p in lg.parked] == ["A001"]
    lg.key("f1")
    lg.key("f4")
    assert lg.view().btn["call_back"].enabled
    lg.key("f5")                                      # two parked: choose
    assert lg.screen() == "call_back"
    assert [r["text"] for r in lg.view().parked] == ["1.  A001", "2.  A002"]
    assert lg.key("2")
    assert lg.screen() == "main" and lg.view().ticket == "A002" and lg.win_state() == "calling"
    lg.key("f3")
    lg.key("f5")                                      # one parked: straight back
    assert lg.view().ticket == "A001" and lg.win_state() == "serving"
    assert lg.parked == []


def test_transfer_to_a_window_or_a_category(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    take(hub_server)
    take(hub_server)
    lg.key("f1")
    lg.key("f6")
    v = lg.view()
    assert v.screen == "transfer" and 3 not in [w["number"] for w in v.transfer_windows]
    lg.transfer_to_window(4)
    assert lg.screen() == "main" and lg.message == t("term.transferred", ticket="A001", to="4号窗口")
    lg.key("f1")
    lg.key("f6")
    lg.transfer_to_category("H")
    assert lg.message == t("term.transferred", ticket="A002", to="H 综合受理")
    assert lg.view().ticket == "—"


# --- the case ---------------------------------------------------------------------------------

def test_finish_opens_the_rating_and_shows_only_whether_it_was_given(hub_server, tmp_path) -> None:
    finished = []
    lg = signed_in(hub_server, tmp_path)
    lg.on_finished = finished.append
    take(hub_server)
    lg.key("f1")
    hub_server.clock.advance(30)
    lg.key("f7")
    assert lg.win_state() == "serving"
    assert not lg.view().btn["finish"].enabled and lg.view().btn["finish"].reason == t("term.need_service")
    lg.set_search("shbzqs")                           # 社会保障卡申: pinyin initials, 卡 read as qiǎ
    assert [s["code"] for s in lg.view().services] == ["SB-0103"]
    lg.choose_first()
    lg.set_job_no("  WIN-2026-0001 \n")
    hub_server.clock.advance(12 * 60)
    assert t("term.overdue_now") in lg.view().service_line          # 承诺10分钟
    assert lg.key("f8")
    case = lg.last_case
    assert case["job_no"] == "WIN-2026-0001" and case["service"] == "SB-0103" and case["overdue"]
    assert finished and finished[0]["job"] == case["job"]
    state = hub_server.hub.state.snapshot()[1]
    assert state["rating/3"]["job"] == case["job"]
    v = lg.view()
    assert v.rating_line.startswith("评价器已请群众评价") and v.job_no == "" and v.service_line == t("term.no_service")
    # the citizen rates at the kiosk
    hub_server.clock.advance(5)
    hub_server.other("rating.submit", {"level": 2, "tags": ["N01"]}, "kiosk-3")
    v = lg.view()
    assert v.rating_line.startswith(t("term.rating_done") + "（上一件 ")
    shown = json.dumps([v.rating_line, v.message, v.last_case_line, v.day_lines], ensure_ascii=False)
    assert "不满意" not in shown and "level" not in shown        # R6: never the level
    day = {d["label"]: d["value"] for d in v.day_lines}
    assert day[t("term.day.served")] == "1" and day[t("term.day.overdue")] == "1"
    assert day[t("term.day.rated")] == "1" and day[t("term.day.rate")] == "100%"
    assert day[t("term.day.mean")] == "12分"


def test_finish_without_a_job_no_lets_the_server_make_one(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    take(hub_server)
    lg.key("f1")
    lg.choose_service("SB-0101")
    lg.key("f8")                                      # finishing a called ticket starts it first
    assert lg.last_case["job_no_source"] == "generated" and lg.last_case["job_no"].startswith("371002")
    hub_server.clock.advance(61)
    lg.tick()
    assert lg.view().rating_line.startswith(t("term.rating_closed") + "（上一件 ")


def test_a_job_no_already_used_is_refused_and_kept(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    take(hub_server)
    take(hub_server)
    for _ in range(2):
        lg.key("f1")
        lg.choose_service("SB-0101")
        lg.set_job_no("DUP-1")
        lg.key("f8")
    assert lg.message == t("err.job_no_taken")
    assert lg.view().job_no == "DUP-1" and lg.view().ticket == "A002"


# --- pause ------------------------------------------------------------------------------------

def test_pause_with_a_reason_shows_the_time_then_resume(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    lg.key("f9")
    v = lg.view()
    assert v.screen == "pause" and [r["key"] for r in v.pause_reasons] == list(PAUSE_REASONS)
    assert lg.key("1")
    assert lg.screen() == "paused"
    assert hub_server.hub.state.snapshot()[1]["window/3"]["pause_reason"] == "午休"
    hub_server.clock.advance(23 * 60 + 5)
    v = lg.view()
    assert v.paused_line == t("term.paused_line", reason="午休") and v.paused_elapsed == "23分"
    assert not v.btn["call_next"].enabled
    assert lg.key("f9")                                # F9 resumes when paused
    assert lg.screen() == "main" and lg.message == t("term.resumed", t="23分")
    lg.key("f9")
    lg.set_pause_other("去窗口7协助")
    lg.pause_with("other")
    assert hub_server.hub.state.snapshot()[1]["window/3"]["pause_reason"] == "其他：去窗口7协助"


def test_pause_needs_a_free_window(hub_server, tmp_path) -> None:
    lg = signed_in(hub_server, tmp_path)
    take(hub_server)
    lg.key("f1")
    assert lg.key("f9") is False
    assert lg.message == t("term.reason_has_ticket") and lg.screen() == "main"


# --- offline, slow answers, restarts ------------------------------------------------------

def test_offline_calling_needs_the_server_and_typing_is_kept(demo, tmp_path, clock) -> None:
    rec = Recorder()
    lg = new_logic(demo, tmp_path, clock, rec)
    lg.store.set("session", {"staff_no": "HC2103", "name": "张丽娟", "in_ms": clock.now})
    lg.on_state("window/3", {"window": 3, "state": "serving", "staff": {"staff_no": "HC2103"}, "ticket": "A001",
                             "ticket_id": 1, "since_ms": clock.now})
    v = lg.view()
    assert not v.online and v.banner
    for name in ("call_next", "recall", "no_show", "park", "transfer", "start"):
        assert not v.btn[name].enabled and v.btn[name].reason == t("term.reason_offline"), name
    assert v.btn["finish"].reason == t("term.need_service")          # 办结 works offline: only the 事项 is missing
    assert v.btn["pause"].reason == v.btn["sign_out"].reason == t("term.reason_has_ticket")
    assert v.btn["my_day"].enabled and v.btn["search"].enabled
    assert lg.key("f8") is False and rec.sent == []
    lg.set_search("异地")
    lg.choose_first()
    lg.set_job_no("SCAN-0001")
    again = new_logic(demo, tmp_path, clock, rec)         # a restart keeps what was typed
    assert again.view().job_no == "SCAN-0001" and again.draft["service"] == "YB-0102"
    again.on_connection(True)
    again.on_state("window/3", {"window": 3, "state": "serving", "staff": {"staff_no": "HC2103"}, "ticket": "A001",
                                "ticket_id": 1, "since_ms": clock.now})
    assert again.key("f8")
    assert rec.last[1:] == ("job.finish", {"service_code": "YB-0102", "job_no": "SCAN-0001"})


def test_finish_pause_and_sign_out_work_offline_and_are_sent_in_order(demo, tmp_path, clock) -> None:
    rec = Recorder()
    lg = new_logic(demo, tmp_path, clock, rec)
    lg.store.set("session", {"staff_no": "HC2103", "name": "张丽娟", "in_ms": clock.now})
    lg.on_connection(True)
    lg.on_state("window/3", {"window": 3, "state": "serving", "staff": {"staff_no": "HC2103"}, "ticket": "A001",
                             "ticket_id": 1, "since_ms": clock.now})
    lg.on_connection(False)
    lg.set_search("异地")
    lg.choose_first()
    clock.advance(60)
    done = clock.now
    assert lg.key("f8")                                     # 办结 offline
    assert rec.last[1:] == ("job.finish", {"service_code": "YB-0102", "done_ms": done})
    v = lg.view()
    assert lg.win_state() == "idle" and v.ticket == "—" and lg.draft["service"] == ""
    assert "A001" in v.banner and t("term.btn.finish") in v.banner
    assert not v.btn["call_next"].enabled                  # calling needs the server
    lg.pause_with("lunch")
    assert rec.last[1] == "window.pause" and rec.last[2]["done_ms"] == clock.now
    assert lg.screen() == "paused"
    again = new_logic(demo, tmp_path, clock, rec)          # a restart keeps what waits
    assert len(again.queued_offline()) == 2 and again.screen() == "paused"
    again.on_connection(True)
    stale = {"window": 3, "state": "serving", "staff": {"staff_no": "HC2103"}, "ticket": "A001", "ticket_id": 1,
             "since_ms": clock.now}
    again.on_state("window/3", stale)                      # the snapshot before the outbox arrives
    assert again.screen() == "paused" and again.ticket_no() is None
    assert t("term.offline_sending", n=2, items="").split("：")[0] in again.view().banner
    again.on_reply("m1", {"ok": True, "result": {"job": "J1", "job_no": "X1", "handle_ms": 60_000,
                                                  "rating_expires_ms": clock.now + 30_000}})
    again.on_state("window/3", {"window": 3, "state": "paused", "staff": {"staff_no": "HC2103"},
                                "pause_reason": "午休", "since_ms": done})
    again.on_reply("m2", {"ok": True, "result": {"reason": "午休"}})
    assert again.pending == {} and again.screen() == "paused" and again.last_case["job_no"] == "X1"
    assert again.view().banner == ""


def test_one_command_at_a_time_and_a_late_answer_still_counts(demo, tmp_path, clock) -> None:
    rec = Recorder()
    lg = new_logic(demo, tmp_path, clock, rec)
    lg.store.set("session", {"staff_no": "HC2103", "name": "张丽娟", "in_ms": clock.now})
    lg.on_connection(True)
    lg.on_state("window/3", {"window": 3, "state": "idle", "staff": {"staff_no": "HC2103"}})
    assert lg.key("f1")
    assert lg.view().btn["call_next"].reason == t("term.reason_busy")
    assert lg.key("f1") is False and len(rec.sent) == 1
    clock.advance(6)
    lg.tick()
    assert lg.message == t("term.queued_note")
    assert lg.view().btn["pause"].reason == t("term.reason_queued")
    # the terminal restarts before the answer comes; the outbox delivers; the answer is applied
    again = new_logic(demo, tmp_path, clock, rec)
    again.on_connection(True)
    again.on_reply(rec.last[0], {"ok": True, "result": {"ticket_id": 9, "ticket": "A009", "category": "A",
                                                         "priority": None, "wait_ms": 60_000}})
    assert again.view().ticket == "A009" and not again.pending
    assert again.win_state() == "calling"               # from the answer, before the window state says so
    again.on_state("window/3", {"window": 3, "state": "calling", "staff": {"staff_no": "HC2103"}, "ticket": "A009",
                                "ticket_id": 9, "since_ms": clock.now})
    assert again.view().btn["recall"].enabled
    assert t("term.waited", t="1分") in again.view().ticket_info


def test_a_broken_state_file_is_set_aside(demo, tmp_path, clock) -> None:
    (tmp_path / "terminal-3.state.json").write_text("{not json")
    lg = new_logic(demo, tmp_path, clock, Recorder())
    assert lg.screen() == "sign_in"
    assert (tmp_path / "terminal-3.state.json.bad").exists()


# --- keys, language, texts -----------------------------------------------------------------

def test_every_frequent_action_has_a_key_shown_on_its_button(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    btn = lg.buttons()
    for key, action in MAIN_KEYS.items():
        assert f"[{key.upper()}]" in btn[action].label, action
    for action, key in SHORTCUTS.items():
        assert f"[{key}]" in btn[action].label


def test_ctrl_e_switches_the_language(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    assert lg.view().btn["lang"].label.startswith("English")
    assert lg.key("e", ctrl=True)
    v = lg.view()
    assert v.lang == "en" and v.title == "Window 3 · 社保医保窗口" and v.btn["call_next"].label == "Call next  [F1]"
    assert lg.key("e", ctrl=True) and lg.view().lang == "zh"


def test_typing_in_a_text_field_is_not_taken_for_shortcuts(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    lg.store.set("session", {"staff_no": "HC2103", "name": "", "in_ms": 0})
    lg.do_pause()
    assert lg.key("1", typing=True) is False and lg.screen() == "pause"
    assert lg.key("escape") and lg.screen() == "main"


@pytest.mark.parametrize("code", sorted(KNOWN_ERRORS))
def test_every_refusal_is_translated(code: str) -> None:
    if code == "wrong_pin":
        assert "err.wrong_pin_left" in TEXTS
    assert f"err.{code}" in TEXTS


def test_term_texts_are_complete() -> None:
    terms = [k for k in TEXTS if k.startswith(("term.", "err."))]
    assert len(terms) > 80
    for key in terms:
        assert TEXTS[key]["zh"] and TEXTS[key]["en"]


def test_durations() -> None:
    assert fmt_duration(None, "zh") == "—"
    assert fmt_duration(65_000, "zh") == "1分"              # durations read as durations (最久 24分)
    assert fmt_duration(3_725_000, "zh") == "1小时2分"
    assert fmt_duration(3_600_000, "en") == "1 h"
    assert fmt_duration(45_000, "zh") == "45秒" and fmt_duration(45_000, "en") == "45 s"
    assert fmt_duration(-5, "zh") == "0秒"


def test_an_answer_nobody_waits_for_is_ignored(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    lg.on_reply("unknown", {"ok": True, "result": {}})
    assert lg.message == "" and lg.screen() == "sign_in"


def test_connected_but_never_answered_stops_blocking_after_a_minute(demo, tmp_path, clock) -> None:
    rec = Recorder()
    lg = new_logic(demo, tmp_path, clock, rec)
    lg.store.set("session", {"staff_no": "HC2103", "name": "张丽娟", "in_ms": clock.now})
    lg.on_connection(True)
    lg.on_state("window/3", {"window": 3, "state": "idle", "staff": {"staff_no": "HC2103"}})
    lg.key("f1")
    clock.advance(61)
    lg.tick()
    assert not lg.pending and lg.message == t("term.no_answer")
    assert lg.view().btn["call_next"].enabled


def test_parked_tickets_of_another_day_are_forgotten(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    lg.store.set("parked", [{"ticket_id": 1, "ticket": "A001", "at_ms": clock.now, "day": "2026-11-20"},
                            {"ticket_id": 2, "ticket": "A002", "at_ms": clock.now, "day": lg.today()}])
    assert [p["ticket"] for p in lg.parked] == ["A002"]
