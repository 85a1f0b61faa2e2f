"""办件 (jobs): started from a called ticket, finished with 事项 and 办件编号, overdue, waits."""

from hall_server.domain.common import rows

from .conftest import Driver


def test_finish_with_window_job_no_generated_and_duplicate(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    a = hall.serve(1, job_no="WIN-0001", minutes=3)
    assert a["job_no"] == "WIN-0001" and a["job_no_source"] == "window" and not a["overdue"]
    assert a["handle_ms"] == 180_000
    b = hall.serve(1, minutes=16)          # S001 promises 15 minutes
    assert b["job_no_source"] == "generated" and b["job_no"].startswith("11010520261123") and b["overdue"]
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.ok("job.start", {}, "terminal-1")
    hall.refused("job_no_taken", "job.finish", {"service_code": "S001", "job_no": "WIN-0001"}, "terminal-1")
    hall.refused("unknown_service", "job.finish", {"service_code": "NOPE"}, "terminal-1")
    assert len({a["job"], b["job"]}) == 2 and len(a["job"]) == 20


def test_finish_needs_a_job_and_start_needs_a_ticket(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.refused("no_current_ticket", "job.start", {}, "terminal-1")
    hall.refused("not_serving", "job.finish", {"service_code": "S001"}, "terminal-1")
    hall.refused("forbidden", "job.finish", {"service_code": "S001", "window": 1}, "kiosk-1")
    hall.refused("bad_request", "job.finish", {"service_code": "S001"}, "bizsys-1")   # names no window


def test_wait_and_handling_recorded(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.advance(600)
    hall.ok("queue.call_next", {}, "terminal-1")
    hall.advance(60)
    hall.ok("job.start", {}, "terminal-1")
    hall.advance(300)
    hall.ok("job.finish", {"service_code": "S002"}, "terminal-1")
    j = rows(hall.hub.db, "SELECT wait_ms, handle_ms, promised_min, department, status FROM jobs")[0]
    assert j == {"wait_ms": 600_000, "handle_ms": 300_000, "promised_min": 20, "department": "医保局",
                 "status": "finished"}
    w = hall.hub.state.get("window/1")
    assert w["state"] == "idle" and w["rating"] == "open"
