"""The citizen's estimated wait: the pure function (no history, some history, no open window) and
its inputs read from a real hall store (open windows of the category, today's handling times)."""

from __future__ import annotations

from hall_server.domain.tickets import public_status
from hall_server.domain.wait_estimate import MIN_SAMPLES, HandleTimes, estimate, handle_times
from tests.hall_server.conftest import Driver

MIN = 60_000


def test_no_history_falls_back_to_the_promised_times_then_the_default() -> None:
    promised = handle_times([], [10, 20, 30], default_min=10)
    assert promised == HandleTimes(10 * MIN, 20 * MIN, "promised")      # median 承诺时限 slow, half of it quick
    assert handle_times([4 * MIN] * (MIN_SAMPLES - 1), [10, 20, 30], 10).source == "promised"   # too few today
    assert handle_times([], [], default_min=8) == HandleTimes(4 * MIN, 8 * MIN, "default")
    # 4 ahead, 2 windows: at least 4 × 10 / 2 = 20 min, at most 5 × 20 / 2 = 50 min
    assert (estimate(4, 2, promised).min_minutes, estimate(4, 2, promised).max_minutes) == (20, 50)


def test_some_history_uses_todays_quartiles() -> None:
    handle = handle_times([2 * MIN, 4 * MIN, 6 * MIN, 8 * MIN, 10 * MIN], [40], default_min=10)
    assert handle == HandleTimes(4 * MIN, 8 * MIN, "today")
    e = estimate(3, 1, handle)
    assert (e.min_minutes, e.max_minutes, e.ahead, e.windows, e.source) == (12, 32, 3, 1, "today")
    # more windows, shorter wait; nobody ahead: called within one handling at most, never "0–0"
    assert estimate(3, 3, handle).max_minutes == 11
    assert (estimate(0, 2, handle).min_minutes, estimate(0, 2, handle).max_minutes) == (0, 4)
    quick = HandleTimes(10_000, 20_000, "today")
    assert (estimate(0, 5, quick).min_minutes, estimate(0, 5, quick).max_minutes) == (0, 1)


def test_no_open_window_gives_no_estimate() -> None:
    e = estimate(5, 0, handle_times([], [15], 10))
    assert e.min_minutes is None and e.max_minutes is None and e.ahead == 5 and e.windows == 0


def test_the_estimate_reads_open_windows_and_todays_handling(hall: Driver) -> None:
    """The test hall: windows 1 and 2 serve category A. Closed windows give no estimate; each window
    signed in shortens it; a paused one does not count; finished 办件 replace the 承诺时限."""
    first = [hall.ok("queue.take", {"category": "A"}, "dispenser-1") for _ in range(4)]
    assert first[3]["ahead"] == first[3]["waiting_before"] == 3
    assert first[3]["wait_min_minutes"] is None and first[3]["wait_max_minutes"] is None
    assert first[3]["status_path"] == "/t/" + first[3]["public_id"]
    db, config = hall.hub.db, hall.hub.config
    pub = first[3]["public_id"]
    hall.sign_in(1, "1001")
    one = public_status(db, config, pub)
    assert one["ahead"] == 3 and one["wait_min_minutes"] is not None
    hall.sign_in(2, "1002")
    two = public_status(db, config, pub)
    assert two["wait_max_minutes"] < one["wait_max_minutes"]
    hall.ok("window.pause", {"reason": "break"}, "terminal-2")
    assert public_status(db, config, pub)["wait_max_minutes"] == one["wait_max_minutes"]
    for _ in range(MIN_SAMPLES):        # three A tickets served in 2 minutes each: today's times take over
        hall.ok("queue.call_next", {}, "terminal-1")
        hall.ok("job.start", {}, "terminal-1")
        hall.now += 2 * MIN
        hall.ok("job.finish", {"service_code": "S001"}, "terminal-1")
    now = public_status(db, config, pub)
    assert now["ahead"] == 0 and (now["wait_min_minutes"], now["wait_max_minutes"]) == (0, 2)


def test_the_take_result_fits_its_wire_type(hall: Driver) -> None:
    """`hallnet.bodies.QueueTaken` is what the dispenser reads: the server's result fits it exactly."""
    import pytest

    from hallnet.bodies import BadBody, queue_taken

    hall.sign_in(1, "1001")
    taken = queue_taken(hall.ok("queue.take", {"category": "A"}, "dispenser-1"))
    assert taken.ticket == "A001" and taken.people_ahead == 0 and taken.status_path == f"/t/{taken.public_id}"
    assert taken.wait_min_minutes == 0 and taken.wait_max_minutes is not None and taken.status_url is None
    with pytest.raises(BadBody) as bad:
        queue_taken({"ticket": "A001", "ahead": "many"})
    assert bad.value.field == "ahead"


def test_the_status_url_uses_the_halls_public_url(tmp_path, config) -> None:
    from dataclasses import replace

    from hall_server.core.hub import Hub
    from tests.hall_server.conftest import at

    hub = Hub(tmp_path / "hall.db", replace(config, hall=replace(config.hall, public_url="https://zwfw.example.gov.cn")))
    try:
        r = Driver(hub, at(9, 0)).ok("queue.take", {"category": "C"}, "dispenser-1")
        assert r["status_url"] == f"https://zwfw.example.gov.cn/t/{r['public_id']}"
    finally:
        hub.close()


def test_the_take_says_the_same_ahead_as_the_status_page(hall: Driver) -> None:
    """A ticket sent to one window (转移) waits for that window only: not ahead of the category's queue."""
    hall.sign_in(1, "1001")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.ok("queue.transfer", {"to_window": 2}, "terminal-1")          # A001 now waits for window 2 only
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    mine = hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    assert mine["waiting_before"] == 2                                  # the old count (kept for older readers)
    assert mine["ahead"] == public_status(hall.hub.db, hall.hub.config, mine["public_id"])["ahead"] == 1
