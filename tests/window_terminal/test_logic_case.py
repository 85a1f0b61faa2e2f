"""The case (办件) and pauses: finishing opens the rating (only whether it was given is shown), job
numbers, pause and resume."""

from __future__ import annotations

import json

from config.i18n import t
from window_terminal.state import PAUSE_REASONS

from .logic_steps import signed_in, take


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
