"""R10 staff: sign-in with PIN and lock-out, one window per person, pause/resume, 迟到/早退/离岗/空岗."""

from hall_server.domain.common import rows

from .conftest import Driver, at


def attendance(hall: Driver) -> list[tuple]:
    return [(r["kind"], r["window"], r["staff_no"]) for r in rows(hall.hub.db, "SELECT * FROM attendance ORDER BY id")]


def test_sign_in_with_pin_and_state(hall: Driver) -> None:
    r = hall.ok("window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-2", now=at(8, 50))
    assert r == {"window": 2, "staff_no": "1002", "late": False, "already": False}
    w = hall.hub.state.get("window/2")
    assert w["state"] == "idle" and w["staff"]["name"] == "李𠀀"


def test_five_wrong_pins_lock_for_five_minutes(hall: Driver) -> None:
    for left in (4, 3, 2, 1):
        a = hall.refused("wrong_pin", "window.sign_in", {"staff_no": "1001", "pin": "0000"}, "terminal-1")
        assert f"{left} tries left" in a.message
    hall.refused("account_locked", "window.sign_in", {"staff_no": "1001", "pin": "0000"}, "terminal-1")
    hall.refused("account_locked", "window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1")
    hall.advance(4 * 60 + 59)
    hall.refused("account_locked", "window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1")
    hall.advance(2)
    hall.ok("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1")
    kinds = [r["kind"] for r in rows(hall.hub.db, "SELECT kind FROM audit WHERE subject = '1001'")]
    assert kinds.count("staff.wrong_pin") == 5 and "staff.locked" in kinds
    hall.refused("wrong_pin", "window.sign_in", {"staff_no": "9999", "pin": "1234"}, "terminal-2")


def test_one_window_per_person_and_one_person_per_window(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.refused("already_signed_in", "window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-2")
    hall.refused("window_occupied", "window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-1")
    assert hall.ok("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1")["already"]
    hall.ok("window.sign_out", {}, "terminal-1")
    hall.ok("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-2")
    assert hall.hub.db.execute("SELECT COUNT(*) FROM staff_sessions WHERE out_ms IS NULL").fetchone()[0] == 1


def test_late_and_early(hall: Driver) -> None:
    hall.ok("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1", now=at(9, 10))
    hall.ok("window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-2", now=at(8, 59))
    hall.ok("window.sign_out", {}, "terminal-2", now=at(11, 30))
    r = hall.ok("window.sign_out", {}, "terminal-1", now=at(12, 0))
    assert not r["early"]
    # moving windows within a session is not 迟到
    hall.ok("window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-3", now=at(11, 31))
    assert attendance(hall) == [("late", 1, "1001"), ("early", 2, "1002")]


def test_sign_out_refused_with_a_ticket(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.refused("window_busy", "window.sign_out", {}, "terminal-1")
    hall.refused("window_busy", "window.pause", {"reason": "午休"}, "terminal-1")


def test_pause_longer_than_limit_is_away(hall: Driver) -> None:
    for w in (1, 2, 3, 4):
        hall.sign_in(w, f"100{w}")
    hall.ok("window.pause", {"reason": "临时离开"}, "terminal-1", now=at(10, 0))
    assert hall.hub.state.get("window/1")["state"] == "paused"
    hall.refused("paused", "window.pause", {"reason": "x"}, "terminal-1")
    hall.ok("system.tick", {}, "system-1", now=at(10, 20))
    assert attendance(hall) == []
    out = hall.ok("system.tick", {}, "system-1", now=at(10, 31))
    assert out["away"] == 1
    hall.ok("system.tick", {}, "system-1", now=at(10, 40))
    hall.ok("window.resume", {}, "terminal-1", now=at(10, 45))
    hall.refused("not_paused", "window.resume", {}, "terminal-1")
    assert attendance(hall) == [("away", 1, "1001")]
    hall.refused("bad_request", "window.pause", {"reason": "  "}, "terminal-1")


def test_lunch_pause_outside_hours_is_not_away(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.ok("window.pause", {"reason": "午休"}, "terminal-1", now=at(11, 55))
    hall.ok("window.resume", {}, "terminal-1", now=at(13, 40))
    assert attendance(hall) == []


def test_unstaffed_window_in_hours_is_vacant_once_per_session(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.sign_in(2, "1002")
    hall.sign_in(3, "1003")
    hall.ok("system.tick", {}, "system-1", now=at(9, 20))
    assert attendance(hall) == []
    out = hall.ok("system.tick", {}, "system-1", now=at(9, 31))
    assert out["vacant"] == 1            # window 4
    hall.ok("system.tick", {}, "system-1", now=at(9, 50))
    assert attendance(hall) == [("vacant", 4, "")]
    hall.ok("window.sign_out", {}, "terminal-3", now=at(10, 0))
    hall.ok("system.tick", {}, "system-1", now=at(10, 31))
    assert ("vacant", 3, "") in attendance(hall)
    hall.ok("system.tick", {}, "system-1", now=at(12, 30))   # lunch: nothing
    assert len(attendance(hall)) == 3


def test_sessions_left_open_overnight_are_closed_by_the_tick(hall: Driver) -> None:
    from datetime import timedelta

    from .conftest import DAY

    hall.sign_in(1, "1001")
    hall.ok("window.pause", {"reason": "午休"}, "terminal-1", now=at(17, 0))
    out = hall.ok("system.tick", {}, "system-1", now=at(8, 0, day=DAY + timedelta(days=1)))
    assert out["auto_signed_out"] == 1
    assert hall.hub.state.get("window/1")["state"] == "closed"
    s = rows(hall.hub.db, "SELECT out_ms FROM staff_sessions")[0]
    assert s["out_ms"] == at(17, 30)
    r = hall.ok("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-2",
                now=at(9, 5, day=DAY + timedelta(days=1)))
    assert r["late"]
