"""What a take costs and what it publishes: the queue's `last_called` stays right without a scan of
every ticket, and a ticket takes a bounded number of SQL statements (counted, not timed)."""

from __future__ import annotations

from hall_server.domain.floor import last_called, queue_view

from .conftest import Driver


def _queue(hall: Driver, category: str) -> dict:
    return hall.hub.state.get(f"queue/{category}")


def test_a_take_keeps_the_last_called_number_that_a_call_set(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    assert _queue(hall, "A")["last_called"] is None
    called = hall.ok("queue.call_next", {}, "terminal-1")
    assert _queue(hall, "A")["last_called"] == called["ticket"]
    hall.advance(5)
    taken = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    value = _queue(hall, "A")
    assert value["last_called"] == called["ticket"] and value["waiting"] == 1
    assert value == queue_view(hall.hub.db, hall.hub.config, "A")        # what a full recount says
    assert taken["waiting_before"] == 0 and taken["ahead"] == 0


def test_a_call_back_publishes_its_number_as_the_last_called(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    first = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.ok("queue.park", {}, "terminal-1")
    hall.advance(5)
    second = hall.ok("queue.call_next", {}, "terminal-1")
    assert _queue(hall, "A")["last_called"] == second["ticket"]
    hall.ok("queue.no_show", {}, "terminal-1")
    hall.advance(5)
    hall.ok("queue.call_back", {"ticket_id": first["ticket_id"]}, "terminal-1")
    assert _queue(hall, "A")["last_called"] == first["ticket"] == last_called(hall.hub.db, "A")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    assert _queue(hall, "A") == queue_view(hall.hub.db, hall.hub.config, "A")


def test_a_take_counts_those_before_it_and_ahead_like_a_recount(hall: Driver) -> None:
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.take", {"category": "A", "priority": "elderly"}, "dispenser-1")
    normal = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    assert (normal["waiting_before"], normal["ahead"]) == (2, 2)
    elderly = hall.ok("queue.take", {"category": "A", "priority": "green"}, "dispenser-1")
    assert (elderly["waiting_before"], elderly["ahead"]) == (1, 1)   # only the earlier priority one
    assert _queue(hall, "A") == queue_view(hall.hub.db, hall.hub.config, "A")
    assert _queue(hall, "A")["priority_waiting"] == 2 and _queue(hall, "A")["waiting"] == 4


def test_a_ticket_takes_a_bounded_number_of_sql_statements(hall: Driver) -> None:
    for _ in range(5):
        hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    statements: list[str] = []
    hall.hub.db.conn.set_trace_callback(statements.append)
    try:
        hall.ok("queue.take", {"category": "B"}, "dispenser-1")
    finally:
        hall.hub.db.conn.set_trace_callback(None)
    # 39 before issue 12's ticket path work; 21 after it (a batch of one: BEGIN … COMMIT)
    assert len(statements) <= 22, "\n".join(statements)
    assert not any("sqlite_utils_query" in s for s in statements)
