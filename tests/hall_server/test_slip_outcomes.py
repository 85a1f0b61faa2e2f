"""Slips whose outcome the gateway could not report (issue #11: "a slip that fails to print … the
clerk must see it and be able to reprint"): a print stuck at "printing" fails as 打印超时 after
hall.toml `[printing] stuck_after_s`, its late result is still recorded as reported; a print the
gateway cannot confirm is `unconfirmed`, not failed and not printed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from config.schema import HallConfig, Printer, PrintingPolicy
from hall_server.core.hub import Hub

from .conftest import Driver, at


@pytest.fixture
def hall(tmp_path: Path, config: HallConfig):
    windows = tuple(dataclasses.replace(w, printer=Printer(port="/dev/ttyUSB-printer-1", baud=9600))
                    if w.number == 1 else w for w in config.windows)
    hall_ = dataclasses.replace(config.hall, printing=PrintingPolicy(stuck_after_s=30))
    hub = Hub(tmp_path / "hall.db", dataclasses.replace(config, windows=windows, hall=hall_))
    d = Driver(hub, at(9, 0))
    d.sign_in(1, "1001")
    yield d
    hub.close()


def tick(hall: Driver) -> int:
    return hall.ok("system.tick", {}, "system-1")["stuck_slips"]


def audit_kinds(hall: Driver) -> list[str]:
    return [r[0] for r in hall.hub.db.execute("SELECT kind FROM audit WHERE kind LIKE 'slip.%' ORDER BY id")]


def test_a_print_fetched_and_never_reported_fails_as_a_timeout(hall: Driver) -> None:
    fin = hall.serve(1)
    print_id = hall.hub.state.get("slips/1")["pending"][0]
    hall.advance(120)
    assert tick(hall) == 0                               # never fetched: no gateway yet, it waits
    assert hall.hub.state.get("window/1")["slip"]["state"] == "printing"
    hall.ok("slip.fetch", {"print_id": print_id}, "gateway-1")
    hall.advance(29)
    assert tick(hall) == 0
    hall.advance(2)                                      # 31 s after the fetch: the gateway died mid-job
    assert tick(hall) == 1
    slip = hall.hub.state.get("window/1")["slip"]
    assert (slip["state"], slip["error"], slip["job_no"]) == ("failed", "timeout", fin["job_no"])
    assert hall.hub.state.get("slips/1") is None          # not retried silently
    hall.refused("slip_not_pending", "slip.fetch", {"print_id": print_id}, "gateway-1")
    assert tick(hall) == 0
    # the gateway comes back and reports the truth: it was printed after all
    late = hall.ok("slip.result", {"print_id": print_id, "ok": True}, "gateway-1")
    assert late == {"print_id": print_id, "state": "printed", "already": False}
    assert hall.hub.state.get("window/1")["slip"]["state"] == "printed"
    assert hall.ok("slip.result", {"print_id": print_id, "ok": False, "error": "no_paper"}, "gateway-1") == {
        "print_id": print_id, "state": "printed", "already": True}
    assert audit_kinds(hall) == ["slip.timeout", "slip.late_result"]


def test_the_clerk_reprints_a_timed_out_slip_and_a_late_failure_is_recorded(hall: Driver) -> None:
    hall.serve(1)
    first = hall.hub.state.get("slips/1")["pending"][0]
    hall.ok("slip.fetch", {"print_id": first}, "gateway-1")
    hall.advance(60)
    assert tick(hall) == 1
    again = hall.ok("slip.reprint", {}, "terminal-1")
    assert not again["already"] and hall.hub.state.get("slips/1")["pending"] == [again["print_id"]]
    late = hall.ok("slip.result", {"print_id": first, "ok": False, "error": "offline"}, "gateway-1")
    assert late["state"] == "failed" and not late["already"]
    row = hall.hub.db.execute("SELECT state, error FROM slips WHERE id = ?", [first]).fetchone()
    assert tuple(row) == ("failed", "offline")
    assert hall.hub.state.get("window/1")["slip"]["print_id"] == again["print_id"]   # the latest print


def test_an_unconfirmed_print_is_neither_printed_nor_failed_and_is_not_retried(hall: Driver) -> None:
    fin = hall.serve(1)
    print_id = hall.hub.state.get("slips/1")["pending"][0]
    hall.ok("slip.fetch", {"print_id": print_id}, "gateway-1")
    r = hall.ok("slip.result", {"print_id": print_id, "ok": False, "error": "interrupted"}, "gateway-1")
    assert r == {"print_id": print_id, "state": "unconfirmed", "already": False}
    slip = hall.hub.state.get("window/1")["slip"]
    assert (slip["state"], slip["error"], slip["job_no"]) == ("unconfirmed", "interrupted", fin["job_no"])
    assert hall.hub.state.get("slips/1") is None
    hall.advance(3600)
    assert tick(hall) == 0
    assert hall.ok("slip.reprint", {}, "terminal-1")["job_no"] == fin["job_no"]
    assert audit_kinds(hall) == ["slip.unconfirmed", "slip.reprint"]
