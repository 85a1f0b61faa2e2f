"""The ticket dispenser's logic without a window."""

from __future__ import annotations

import pytest

from kiosk.dispenser_logic import Dispenser, Screen


@pytest.fixture
def printed() -> list:
    return []


@pytest.fixture
def d(demo, clock, outbox, printed) -> Dispenser:
    x = Dispenser(demo, outbox, clock=clock, print_ticket=printed.append, ticket_s=10, hold_s=2)
    x.on_connection(True)
    x.on_state("queue/A", {"category": "A", "waiting": 4, "priority_waiting": 1})
    return x


def reply(d: Dispenser, n: int = 5, ok: bool = True, ticket: str = "A005", priority=None) -> None:
    ref = next(iter(d.pending))
    if ok:
        d.on_reply(ref, {"ok": True, "result": {"ticket": ticket, "category": ticket[0], "priority": priority,
                                                "waiting_before": n, "taken_ms": 1_800_000_000_000}})
    else:
        d.on_reply(ref, {"ok": False, "error": "bad_request", "message": "no such category"})


def test_categories_with_waiting_counts(d, demo) -> None:
    v = d.view()
    assert [c.code for c in v.categories] == [c.code for c in demo.categories]
    a = v.categories[0]
    assert (a.name, a.waiting, a.priority_waiting) == ("社保医保", 4, 1)
    assert v.categories[1].waiting == 0 and v.enabled and v.banner == ""


def test_a_tap_takes_one_ticket_prints_and_shows_it(d, outbox, printed, clock) -> None:
    assert d.tap_category("A")
    assert not d.tap_category("A") and not d.tap_category("B")      # repeated taps ignored
    assert outbox.sent == [("queue.take", {"category": "A"})]
    assert d.view().screen == Screen.WAIT and not d.view().enabled
    reply(d, 4)
    v = d.view()
    assert v.screen == Screen.TICKET
    assert (v.ticket.number, v.ticket.category, v.ticket.waiting_ahead) == ("A005", "社保医保", 4)
    assert v.ticket.time.strftime("%Y-%m-%d %H:%M") == "2027-01-15 16:00"   # hall time, Asia/Shanghai
    assert printed == [v.ticket]
    clock.advance(10)
    d.tick()
    assert d.view().screen == Screen.HOME


def test_a_refused_take_says_why(d) -> None:
    d.tap_category("A")
    reply(d, ok=False)
    v = d.view()
    assert v.screen == Screen.HOME and "no such category" in v.message


def test_a_slow_answer_is_said(d, clock) -> None:
    d.tap_category("A")
    clock.advance(6)
    d.tick()
    assert "稍候" in d.view().message
    reply(d)
    assert d.view().screen == Screen.TICKET


def test_offline_nothing_is_sent(d, outbox) -> None:
    d.on_connection(False)
    v = d.view()
    assert not v.enabled and "未连接" in v.banner
    assert not d.tap_category("A")
    assert outbox.sent == []


def test_priority_needs_a_held_confirmation(d, outbox) -> None:
    d.open_priority()
    assert d.view().screen == Screen.PRIORITY
    assert not d.confirm_priority(5.0) and "选择" in d.view().message       # no category yet
    d.choose_kind("green")
    d.choose_category("C")
    assert not d.confirm_priority(0.3) and "长按" in d.view().message       # a quick tap
    assert outbox.sent == []
    assert d.confirm_priority(2.5)
    assert outbox.sent == [("queue.take", {"category": "C", "priority": "green"})]
    reply(d, 0, ticket="C001", priority="green")
    assert d.view().ticket.priority == "green"


def test_priority_screen_times_out_and_cancels(d, clock) -> None:
    d.open_priority()
    d.cancel()
    assert d.view().screen == Screen.HOME
    d.open_priority()
    clock.advance(61)
    d.tick()
    assert d.view().screen == Screen.HOME


def test_unknown_replies_and_categories_are_ignored(d, outbox) -> None:
    d.on_reply("nobody", {"ok": True, "result": {}})
    assert d.view().screen == Screen.HOME
    assert not d.tap_category("Z")
    d.on_state("queue/A", None)
    assert d.view().categories[0].waiting == 0


def test_the_ticket_says_the_people_ahead_and_the_wait_and_links_its_status_page(demo, clock, outbox, printed) -> None:
    d = Dispenser(demo, outbox, clock=clock, print_ticket=printed.append, qr_base="http://hall.example:8080/")
    d.on_connection(True)
    d.tap_category("A")
    d.on_reply(next(iter(d.pending)), {"ok": True, "result": {
        "ticket": "A012", "public_id": "0123456789abcdef0123", "category": "A", "priority": None,
        "waiting_before": 3, "taken_ms": 1_800_000_000_000, "ahead": 3, "wait_min_minutes": 6,
        "wait_max_minutes": 20, "status_path": "/t/0123456789abcdef0123", "status_url": None, "ticket_id": 12}})
    tk = d.view().ticket
    assert (tk.waiting_ahead, tk.wait_text) == (3, "预计等待 6–20 分钟")
    assert tk.status_url == "http://hall.example:8080/t/0123456789abcdef0123" and printed == [tk]
    # the hall's public_url wins; no open window: said so; an older server (no estimate): no wait line
    d.cancel()
    d.tap_category("A")
    d.on_reply(next(iter(d.pending)), {"ok": True, "result": {
        "ticket": "A013", "category": "A", "taken_ms": 1_800_000_000_000, "waiting_before": 4, "ahead": 4,
        "wait_min_minutes": None, "wait_max_minutes": None, "status_path": "/t/x", "status_url": "https://g.cn/t/x"}})
    tk = d.view().ticket
    assert tk.status_url == "https://g.cn/t/x" and "暂无窗口" in tk.wait_text
    d.cancel()
    d.tap_category("A")
    d.on_reply(next(iter(d.pending)), {"ok": True, "result": {"ticket": "A014", "category": "A", "waiting_before": 5,
                                                             "taken_ms": 1_800_000_000_000}})
    tk = d.view().ticket
    assert (tk.number, tk.waiting_ahead, tk.wait_text, tk.status_url) == ("A014", 5, "", None)
    d.cancel()
    d.tap_category("A")                    # a result that does not fit still gives the number
    d.on_reply(next(iter(d.pending)), {"ok": True, "result": {"ticket": "A015", "category": "A", "ahead": "many"}})
    assert d.view().ticket.number == "A015" and d.view().ticket.wait_text == ""
