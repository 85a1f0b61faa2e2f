"""Slips printed by the devices gateway (issue #11): the QR link only in `slip.fetch`'s reply to a
gateway; print status on `window/<n>` without it; a failed print retried by 补打 only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from config.schema import HallConfig, Printer
from hall_server.core import qr_token
from hall_server.core.hub import Hub

from .conftest import Driver, at


@pytest.fixture
def hall(tmp_path: Path, config: HallConfig):
    windows = tuple(dataclasses.replace(w, printer=Printer(port="/dev/ttyUSB-printer-1", baud=9600))
                    if w.number == 1 else w for w in config.windows)
    hub = Hub(tmp_path / "hall.db", dataclasses.replace(config, windows=windows))
    d = Driver(hub, at(9, 0))
    d.sign_in(1, "1001")
    d.sign_in(2, "1002")
    yield d
    hub.close()


def all_state_bytes(hub: Hub) -> bytes:
    return b"".join(r[0].encode() + r[1] for r in hub.db.execute("SELECT key, value FROM state").fetchall())


def test_a_finish_queues_a_print_the_gateway_alone_fetches_with_the_link(hall: Driver) -> None:
    fin = hall.serve(1)
    pending = hall.hub.state.get("slips/1")
    assert pending == {"window": 1, "pending": [pending["pending"][0]]}
    print_id = pending["pending"][0]
    slip = hall.hub.state.get("window/1")["slip"]
    assert slip["state"] == "printing" and slip["print_id"] == print_id and slip["job_no"] == fin["job_no"]
    hall.refused("forbidden", "slip.fetch", {"print_id": print_id}, "terminal-1")
    hall.refused("forbidden", "slip.fetch", {"print_id": print_id}, "kiosk-1")
    got = hall.ok("slip.fetch", {"print_id": print_id}, "gateway-1")
    assert got["job_no"] == fin["job_no"] and got["service_name"] == "社保卡申领" and not got["reprint"]
    assert qr_token.verify(hall.hub.secret, got["qr_path"][3:], hall.now / 1000) == fin["job"]
    # the token is in no state key (they are public: /api/state, every node's snapshot)
    token = got["qr_path"][3:].encode()
    assert token not in all_state_bytes(hall.hub) and b"/r/" not in all_state_bytes(hall.hub)
    assert hall.ok("slip.result", {"print_id": print_id, "ok": True}, "gateway-1")["state"] == "printed"
    assert hall.hub.state.get("slips/1") is None
    assert hall.hub.state.get("window/1")["slip"]["state"] == "printed"


def test_a_failed_print_shows_on_the_window_and_only_a_reprint_prints_again(hall: Driver) -> None:
    fin = hall.serve(1)
    first = hall.hub.state.get("slips/1")["pending"][0]
    hall.ok("slip.result", {"print_id": first, "ok": False, "error": "no_paper"}, "gateway-1")
    w = hall.hub.state.get("window/1")
    assert (w["slip"]["state"], w["slip"]["error"], w["slip"]["job_no"]) == ("failed", "no_paper", fin["job_no"])
    assert hall.hub.state.get("slips/1") is None                        # nothing retried silently
    hall.refused("slip_not_pending", "slip.fetch", {"print_id": first}, "gateway-1")
    again = hall.ok("slip.result", {"print_id": first, "ok": True}, "gateway-1")
    assert again == {"print_id": first, "state": "failed", "already": True}
    r = hall.ok("slip.reprint", {}, "terminal-1")
    assert r["job_no"] == fin["job_no"] and not r["already"] and "qr_path" not in r
    assert hall.ok("slip.reprint", {}, "terminal-1") == {**r, "already": True}   # one print waiting per 办件
    assert hall.hub.state.get("slips/1")["pending"] == [r["print_id"]]
    assert hall.hub.state.get("window/1")["slip"] | {"at_ms": 0} == {
        "print_id": r["print_id"], "state": "printing", "error": None, "job_no": fin["job_no"], "reprint": True,
        "at_ms": 0}
    got = hall.ok("slip.fetch", {"print_id": r["print_id"]}, "gateway-1")
    assert got["reprint"] and qr_token.verify(hall.hub.secret, got["qr_path"][3:], hall.now / 1000) == fin["job"]
    hall.ok("slip.result", {"print_id": r["print_id"], "ok": True}, "gateway-1")
    assert hall.hub.state.get("window/1")["slip"]["state"] == "printed"


def test_reprint_names_one_of_todays_jobs_at_this_window(hall: Driver) -> None:
    hall.refused("nothing_to_reprint", "slip.reprint", {}, "terminal-1")
    first = hall.serve(1)
    hall.serve(1)
    r = hall.ok("slip.reprint", {"job": first["job"]}, "terminal-1")
    assert r["job_no"] == first["job_no"]
    other = hall.serve(2)
    hall.refused("unknown_job", "slip.reprint", {"job": other["job"]}, "terminal-1")   # another window's
    hall.refused("no_printer", "slip.reprint", {}, "terminal-2")
    hall.refused("forbidden", "slip.reprint", {}, "gateway-1")
    hall.refused("forbidden", "slip.reprint", {"window": 2}, "terminal-1")
    hall.advance(86_400)
    hall.refused("unknown_job", "slip.reprint", {"job": first["job"]}, "terminal-1")   # yesterday's


def test_a_window_without_a_printer_queues_nothing(hall: Driver) -> None:
    hall.serve(2)
    assert hall.hub.state.get("slips/2") is None and hall.hub.state.get("window/2")["slip"] is None
    assert hall.hub.db.execute("SELECT COUNT(*) FROM slips").fetchone()[0] == 0


def test_the_result_body_is_checked(hall: Driver) -> None:
    hall.serve(1)
    print_id = hall.hub.state.get("slips/1")["pending"][0]
    hall.refused("bad_request", "slip.result", {"print_id": print_id}, "gateway-1")
    hall.refused("bad_request", "slip.result", {"print_id": print_id, "ok": True, "x": 1}, "gateway-1")
    hall.refused("unknown_slip", "slip.result", {"print_id": 999, "ok": True}, "gateway-1")
    hall.ok("slip.result", {"print_id": print_id, "ok": False, "error": "on fire"}, "gateway-1")
    assert hall.hub.state.get("window/1")["slip"]["error"] == "error"       # an unknown reason: a category

