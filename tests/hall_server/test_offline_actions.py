"""Actions a terminal took while the hall server was unreachable are recorded at the time the clerk
took them — within the terminal's offline gap only (hall_server.domain.offline)."""

from __future__ import annotations

from tests.hall_server.conftest import Driver


def _serving(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.ok("job.start", {}, "terminal-1")


def _gone(hall: Driver, node: str = "terminal-1") -> int:
    hall.ok("node.presence", {"node": node, "alive": False}, "server")
    return hall.now


def _back(hall: Driver, node: str = "terminal-1") -> None:
    hall.ok("node.presence", {"node": node, "alive": True}, "server")


def test_a_finish_done_offline_counts_from_when_the_clerk_did_it(hall: Driver) -> None:
    hall.ok("node.presence", {"node": "terminal-1", "alive": True}, "server")
    _serving(hall)
    started = hall.now
    hall.advance(4 * 60)
    down = _gone(hall)
    hall.advance(60)
    done = hall.now                                  # the clerk finished here, offline
    hall.advance(40 * 60)
    _back(hall)
    hall.advance(2)
    r = hall.ok("job.finish", {"service_code": "S001", "done_ms": done}, "terminal-1")
    assert r["handle_ms"] == done - started == 5 * 60_000
    assert not r["overdue"]
    job = hall.hub.db.execute("SELECT finished_ms FROM jobs WHERE pub = ?", [r["job"]]).fetchone()
    assert job[0] == done and down < done
    assert hall.hub.state.get("node/terminal-1")["down_ms"] == down


def test_a_connected_terminal_cannot_antedate(hall: Driver) -> None:
    hall.ok("node.presence", {"node": "terminal-1", "alive": True}, "server")
    _serving(hall)
    started = hall.now
    hall.advance(50 * 60)
    r = hall.ok("job.finish", {"service_code": "S001", "done_ms": started + 60_000}, "terminal-1")
    assert r["handle_ms"] == 50 * 60_000                 # the server's time: the claim is outside any gap


def test_a_claim_outside_the_gap_or_in_the_future_is_the_servers_time(hall: Driver) -> None:
    hall.ok("node.presence", {"node": "terminal-1", "alive": True}, "server")
    _serving(hall)
    hall.advance(10 * 60)
    down = _gone(hall)
    hall.advance(5 * 60)
    _back(hall)
    hall.advance(60)
    way_before = down - 9 * 60_000                      # before the gap began (less the slack)
    hall.ok("job.finish", {"service_code": "S001", "done_ms": way_before}, "terminal-1")
    job = hall.hub.db.execute("SELECT finished_ms FROM jobs ORDER BY id DESC LIMIT 1").fetchone()
    assert job[0] == hall.now
    hall.ok("window.pause", {"reason": "午休", "done_ms": hall.now + 60_000}, "terminal-1")   # from the future
    row = hall.hub.db.execute("SELECT start_ms FROM pauses ORDER BY id DESC LIMIT 1").fetchone()
    assert row[0] == hall.now


def test_pause_resume_and_sign_out_done_offline_keep_their_times(hall: Driver) -> None:
    hall.ok("node.presence", {"node": "terminal-1", "alive": True}, "server")
    hall.sign_in(1, "1001")
    hall.advance(30 * 60)
    _gone(hall)
    hall.advance(30)
    paused = hall.now
    hall.advance(10 * 60)
    resumed = hall.now
    hall.advance(5 * 60)
    out = hall.now
    hall.advance(20 * 60)
    _back(hall)
    hall.ok("window.pause", {"reason": "午休", "done_ms": paused}, "terminal-1")
    r = hall.ok("window.resume", {"done_ms": resumed}, "terminal-1")
    assert r["paused_ms"] == resumed - paused
    hall.ok("window.sign_out", {"done_ms": out}, "terminal-1")
    row = hall.hub.db.execute("SELECT start_ms, end_ms FROM pauses ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(row) == (paused, resumed)
    session = hall.hub.db.execute("SELECT out_ms FROM staff_sessions ORDER BY id DESC LIMIT 1").fetchone()
    assert session[0] == out
