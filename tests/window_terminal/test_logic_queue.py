"""The queue from the terminal: call, recall, no-show, park and call back, transfer; parked tickets
are the day's."""

from __future__ import annotations

from config.i18n import t

from .conftest import Recorder, new_logic
from .logic_steps import signed_in, take


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


def test_parked_tickets_of_another_day_are_forgotten(demo, tmp_path, clock) -> None:
    lg = new_logic(demo, tmp_path, clock, Recorder())
    lg.store.set("parked", [{"ticket_id": 1, "ticket": "A001", "at_ms": clock.now, "day": "2026-11-20"},
                            {"ticket_id": 2, "ticket": "A002", "at_ms": clock.now, "day": lg.today()}])
    assert [p["ticket"] for p in lg.parked] == ["A002"]
