"""The durable command tracker: offline actions kept and sent in order, one command at a time, late
or missing answers, a broken state file."""

from __future__ import annotations

from config.i18n import t

from .conftest import Recorder, new_logic


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
