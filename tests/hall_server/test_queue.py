"""R9: tickets by category, priority, call next, recall cap, no-show, park/call back, transfer, timeline."""

from hall_server.domain.tickets import timeline

from .conftest import Driver, at


def test_ticket_numbers_per_category_and_day(hall: Driver) -> None:
    a1 = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    a2 = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    b1 = hall.ok("queue.take", {"category": "B"}, "dispenser-1")
    assert (a1["ticket"], a2["ticket"], b1["ticket"]) == ("A001", "A002", "B001")
    assert a2["waiting_before"] == 1
    nxt = hall.ok("queue.take", {"category": "A"}, "dispenser-1", now=at(9, 0, day=hall_day_after()))
    assert nxt["ticket"] == "A001"
    hall.refused("unknown_category", "queue.take", {"category": "Z"}, "dispenser-1")
    hall.refused("bad_request", "queue.take", {"category": "A", "priority": "vip"}, "dispenser-1")


def hall_day_after():
    from .conftest import DAY
    from datetime import timedelta
    return DAY + timedelta(days=1)


def test_call_next_priority_first_then_first_come_and_only_own_categories(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.sign_in(3, "1003")
    hall.ok("queue.take", {"category": "B"}, "dispenser-1")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.advance(1)
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.advance(1)
    p = hall.ok("queue.take", {"category": "A", "priority": "elderly"}, "dispenser-1")
    assert p["waiting_before"] == 0
    first = hall.ok("queue.call_next", {}, "terminal-1")
    assert first["ticket"] == p["ticket"] and first["priority"] == "elderly"
    hall.refused("window_busy", "queue.call_next", {}, "terminal-1")
    hall.ok("queue.no_show", {}, "terminal-1")
    assert hall.ok("queue.call_next", {}, "terminal-1")["ticket"] == "A001"
    # window 3 serves B only
    assert hall.ok("queue.call_next", {}, "terminal-3")["ticket"] == "B001"
    hall.ok("queue.no_show", {}, "terminal-3")
    hall.refused("queue_empty", "queue.call_next", {}, "terminal-3")


def test_call_needs_signed_in_unpaused_staff(hall: Driver) -> None:
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.refused("not_signed_in", "queue.call_next", {}, "terminal-1")
    hall.sign_in(1, "1001")
    hall.ok("window.pause", {"reason": "业务咨询"}, "terminal-1")
    hall.refused("paused", "queue.call_next", {}, "terminal-1")
    hall.ok("window.resume", {}, "terminal-1")
    assert hall.ok("queue.call_next", {}, "terminal-1")["ticket"] == "A001"


def test_recall_is_capped_then_no_show(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    t = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    for n in range(1, 6):
        r = hall.ok("queue.recall", {}, "terminal-1")
        assert r["recalls"] == n and not r["no_show"]
    r = hall.ok("queue.recall", {}, "terminal-1")
    assert r["no_show"]
    assert hall.hub.state.get("window/1")["ticket"] is None
    kinds = [e["kind"] for e in timeline(hall.hub.db, t["ticket_id"])]
    assert kinds == ["taken", "called"] + ["recalled"] * 5 + ["no_show"]


def test_park_and_call_back_resumes_the_job(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    t = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    job = hall.ok("job.start", {}, "terminal-1")["job"]
    hall.ok("queue.park", {}, "terminal-1")
    assert hall.hub.state.get("window/1")["state"] == "idle"
    assert hall.ok("queue.call_next", {}, "terminal-1")["ticket"] == "A002"
    hall.refused("window_busy", "queue.call_back", {"ticket_id": t["ticket_id"]}, "terminal-1")
    hall.ok("queue.no_show", {}, "terminal-1")
    back = hall.ok("queue.call_back", {"ticket_id": t["ticket_id"]}, "terminal-1")
    assert back["status"] == "serving"
    assert hall.hub.state.get("window/1")["job"] == job
    fin = hall.ok("job.finish", {"service_code": "S001"}, "terminal-1")
    assert fin["job"] == job


def test_call_back_only_at_the_parking_window(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.sign_in(2, "1002")
    t = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.ok("queue.park", {}, "terminal-1")
    hall.refused("ticket_not_here", "queue.call_back", {"ticket_id": t["ticket_id"]}, "terminal-2")
    hall.refused("unknown_ticket", "queue.call_back", {"ticket_id": 999}, "terminal-1")


def test_transfer_to_window_and_to_category(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.sign_in(3, "1003")
    hall.sign_in(4, "1004")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.ok("job.start", {}, "terminal-1")
    r = hall.ok("queue.transfer", {"to_window": 3}, "terminal-1")
    assert r["to_window"] == 3
    # window 3 serves only B, but the ticket was sent to it
    got = hall.ok("queue.call_next", {}, "terminal-3")
    assert got["ticket"] == "A001"
    r = hall.ok("queue.transfer", {"to_category": "C"}, "terminal-3")
    assert r["category"] == "C"
    assert hall.ok("queue.call_next", {}, "terminal-4")["ticket"] == "A001"
    hall.refused("bad_request", "queue.transfer", {"to_window": 4, "to_category": "A"}, "terminal-4")
    hall.refused("unknown_window", "queue.transfer", {"to_window": 99}, "terminal-4")
    jobs = hall.hub.db.execute("SELECT status FROM jobs").fetchall()
    assert jobs == [("transferred",)]


def test_queue_state_published(hall: Driver) -> None:
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.take", {"category": "A", "priority": "green"}, "dispenser-1")
    q = hall.hub.state.get("queue/A")
    assert q["waiting"] == 2 and q["priority_waiting"] == 1
    hall.sign_in(1, "1001")
    hall.ok("queue.call_next", {}, "terminal-1")
    assert hall.hub.state.get("queue/A")["waiting"] == 1
    call = hall.hub.state.get("calls")["recent"][0]
    assert {k: v for k, v in call.items() if k != "id"} == {"ticket": "A002", "window": 1, "at_ms": hall.now,
                                                            "kind": "called", "recall": False}
    assert isinstance(call["id"], int)          # one id per call: a screen announces each once
    assert hall.hub.state.get("window/1")["state"] == "calling"


def test_old_tickets_expire_at_a_new_day(hall: Driver) -> None:
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    out = hall.ok("system.tick", {}, "system-1", now=at(9, 0, day=hall_day_after()))
    assert out["expired_tickets"] == 1
    assert hall.hub.state.get("queue/A")["waiting"] == 0


def test_terminal_bound_to_its_window(hall: Driver) -> None:
    hall.refused("forbidden", "window.sign_in", {"staff_no": "1001", "pin": "1234", "window": 2}, "terminal-1")
    hall.refused("forbidden", "queue.call_next", {}, "kiosk-1")
    hall.refused("unknown_window", "window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-77")


def test_floor_summary_follows_the_queue_and_is_quiet_when_unchanged(hall: Driver) -> None:
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    f = hall.hub.state.get("floor")
    assert f["waiting"] == 1 and f["waiting_over_limit"] == 0 and f["windows_closed"] == 4
    hall.ok("system.tick", {}, "system-1", now=hall.now + 31 * 60_000)
    assert hall.hub.state.get("floor")["waiting_over_limit"] == 1
    seq = hall.hub.state.seq
    hall.ok("system.tick", {}, "system-1", now=hall.now + 1000)
    assert hall.hub.state.seq == seq         # nothing changed: no delta


def test_priority_tickets_only_from_a_dispenser_or_staff(hall: Driver) -> None:
    """Issue #11: 500 anonymous web 'elderly' tickets jumped the queue. The domain decides."""
    for node in ("dispenser-1", "terminal-1", "manager-boss", "manager-api"):
        assert hall.ok("queue.take", {"category": "A", "priority": "green"}, node)["priority"] == "green"
    for node in ("web", "gateway-1"):
        a = hall.refused("priority_not_allowed", "queue.take", {"category": "A", "priority": "elderly"}, node)
        assert a.details == {"priority": "elderly"}
    assert hall.ok("queue.take", {"category": "A"}, "web")["priority"] is None
    assert hall.hub.db.execute("SELECT COUNT(*) FROM tickets WHERE priority > 0").fetchone()[0] == 4
    hall.refused("forbidden", "queue.take", {"category": "A", "priority": "elderly"}, "qr-web")


def test_each_ticket_has_an_unguessable_public_id_for_its_own_status(hall: Driver) -> None:
    from hall_server.domain.tickets import public_status

    a = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    b = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    p = hall.ok("queue.take", {"category": "A", "priority": "elderly"}, "dispenser-1")
    assert len({a["public_id"], b["public_id"], p["public_id"]}) == 3 and len(a["public_id"]) == 20
    db, config = hall.hub.db, hall.hub.config
    assert public_status(db, config, b["public_id"])["ahead"] == 2          # the priority ticket goes first
    assert public_status(db, config, p["public_id"])["ahead"] == 0
    hall.sign_in(1, "1001")
    hall.ok("queue.call_next", {}, "terminal-1")
    assert public_status(db, config, p["public_id"]) == {"ticket": "A003", "category": "A", "category_name": "社保医保",
                                                         "status": "called", "ahead": None, "window": 1,
                                                         "wait_min_minutes": None, "wait_max_minutes": None}


def test_migration_45_gives_earlier_tickets_a_public_id(hall: Driver) -> None:
    from hall_server.core.migrations import HALL
    from hall_server.core.store import migrate

    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.take", {"category": "B"}, "dispenser-1")
    db = hall.hub.db
    db.execute("DROP INDEX tickets_pub")                         # the database as it was before migration 45
    db.execute("ALTER TABLE tickets DROP COLUMN pub")
    db.execute("DELETE FROM _sqlite_migrations WHERE name LIKE '0045 %'")
    assert migrate(db, HALL) == [45]
    pubs = [r[0] for r in db.execute("SELECT pub FROM tickets").fetchall()]
    assert len(set(pubs)) == 2 and all(len(p) == 20 and int(p, 16) >= 0 for p in pubs)
