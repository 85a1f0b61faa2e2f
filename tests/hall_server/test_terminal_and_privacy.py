"""R6 privacy of the published state, structured refusals, what window/<n> tells the terminal,
"my day" (`staff.today`), the slip's signed QR link, keypad 差评 without tags (`REASON_PENDING`), and
late evaluator ratings (`pressed_ms`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from hall_server.core import qr_token
from hall_server.domain import export, jobs
from hall_server.domain.staff import LOCK_MS, MAX_PIN_FAILURES, TODAY_HOLD_MS
from hall_server.core.hub import Hub

from .conftest import Driver, at

PHONE, TEXT = "13812345678", "窗口人员态度恶劣"


def _watch(hub: Hub) -> list[tuple[int, str, Any]]:
    seen: list[tuple[int, str, Any]] = []
    hub.delta_sinks.append(seen.extend)
    return seen


# --- R6: nothing a node receives tells a rating's level or the rater ---------------------------

def test_published_keys_carry_no_level_and_no_rater_data(hall: Driver) -> None:
    seen = _watch(hall.hub)
    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.ok("rating.submit", {"level": 1, "tags": ["N01"], "phone": PHONE, "text": TEXT}, "kiosk-1")
    hall.serve(1)
    hall.ok("rating.submit", {"level": 5, "tags": ["P01"]}, "kiosk-1")
    hall.ok("system.tick", {}, "system-1")
    public = [(k, v) for _, k, v in seen if not k.startswith("mgr/")]
    assert {k for k, _ in public} >= {"floor", "window/1", "rating/1", "queue/A", "calls"}
    blob = json.dumps(public, ensure_ascii=False)
    for secret in (PHONE, TEXT, "N01", "P01", "level", "bad_today", "rated_today", "open_cases", "case_id"):
        assert secret not in blob, secret
    floor = hall.hub.state.get("floor")
    assert set(floor) == {"day", "windows_open", "windows_paused", "windows_closed", "waiting",
                          "waiting_over_limit", "served_today"}
    mgr = hall.hub.state.get("mgr/floor")
    assert (mgr["rated_today"], mgr["bad_today"], mgr["open_cases"]) == (2, 1, 1)


def test_a_good_and_a_bad_rating_change_the_same_keys(hall: Driver) -> None:
    """The set of keys a rating changes must not depend on its level (a terminal sees which keys move)."""
    hall.sign_in(1, "1001")
    keys = []
    for level, tags in ((5, []), (1, ["N01"])):
        hall.serve(1)
        seen = _watch(hall.hub)
        hall.ok("rating.submit", {"level": level, "tags": tags}, "kiosk-1")
        hall.hub.delta_sinks.clear()
        keys.append(sorted(k for _, k, _ in seen))
    assert keys[0] == keys[1]


# --- structured refusals -----------------------------------------------------------------------

def test_wrong_pin_tells_tries_left_then_the_lock_end(hall: Driver) -> None:
    for left in range(MAX_PIN_FAILURES - 1, 0, -1):
        a = hall.refused("wrong_pin", "window.sign_in", {"staff_no": "1001", "pin": "0000"})
        assert a.details == {"tries_left": left} and "tries left" in a.message
    a = hall.refused("account_locked", "window.sign_in", {"staff_no": "1001", "pin": "0000"})
    assert a.details == {"locked_until_ms": hall.now + LOCK_MS}
    again = hall.refused("account_locked", "window.sign_in", {"staff_no": "1001", "pin": "1234"}, now=hall.now + 1000)
    assert again.details == a.details
    assert again.reply_body()["details"] == a.details
    # an unknown 工号 is answered the same way (it does not tell which 工号 exist)
    assert hall.refused("wrong_pin", "window.sign_in", {"staff_no": "9999", "pin": "0"}).details == {
        "tries_left": MAX_PIN_FAILURES - 1}


def test_other_refusals_carry_their_facts(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    assert hall.refused("already_signed_in", "window.sign_in", {"staff_no": "1001", "pin": "1234"},
                        "terminal-2").details == {"window": 1}
    assert hall.refused("queue_empty", "queue.call_next").details == {"window": 1}
    assert hall.refused("bad_request", "window.pause", {"reason": " "}).details == {"field": "reason"}
    hall.serve(1)
    a = hall.refused("bad_request", "rating.submit", {"level": 5, "phone": "not a phone"}, "kiosk-1")
    assert a.details == {"field": "phone"}
    assert hall.refused("tag_required", "rating.submit", {"level": 2}, "kiosk-1").details == {"level": 2}
    a = hall.refused("unknown_tag", "rating.submit", {"level": 2, "tags": ["P01"]}, "kiosk-1")
    assert a.details == {"tag": "P01", "level": 2}


# --- window/<n> for the terminal ------------------------------------------------------------------

def test_window_state_has_the_ticket_details_and_parked_list(hall: Driver) -> None:
    hall.sign_in(2, "1002")
    taken = hall.ok("queue.take", {"category": "B", "priority": "elderly"}, "dispenser-1")
    hall.advance(120)
    hall.ok("queue.call_next", {}, "terminal-2")
    w = hall.hub.state.get("window/2")
    assert (w["ticket"], w["category"], w["priority"], w["recalls"], w["taken_ms"]) == (
        taken["ticket"], "B", "elderly", 0, taken["taken_ms"])
    hall.ok("queue.recall", {}, "terminal-2")
    assert hall.hub.state.get("window/2")["recalls"] == 1
    hall.ok("queue.park", {}, "terminal-2")
    w = hall.hub.state.get("window/2")
    assert w["parked"] == [{"ticket_id": taken["ticket_id"], "ticket": taken["ticket"]}]
    assert (w["ticket"], w["category"], w["recalls"], w["taken_ms"]) == (None, None, 0, None)
    hall.ok("queue.call_back", {"ticket_id": taken["ticket_id"]}, "terminal-2")
    assert hall.hub.state.get("window/2")["parked"] == []
    hall.ok("queue.park", {}, "terminal-2")
    hall.ok("system.tick", {}, "system-1", now=at(9, 0, day=hall_day_after()))   # a new day: parked expires
    assert hall.hub.state.get("window/2")["parked"] == []


def hall_day_after():
    from datetime import date
    return date(2026, 11, 24)


def test_last_rating_is_rated_or_expired_never_the_level(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    assert hall.hub.state.get("window/1")["last_rating"] is None
    hall.serve(1)
    assert hall.hub.state.get("window/1")["last_rating"] is None          # open: the citizen may rate
    hall.ok("rating.submit", {"level": 1, "tags": ["N01"]}, "kiosk-1")
    assert hall.hub.state.get("window/1")["last_rating"] == "rated"
    fin = hall.serve(1)
    assert hall.hub.state.get("window/1")["last_rating"] is None
    hall.ok("system.tick", {}, "system-1", now=fin["rating_expires_ms"] + 1)
    assert hall.hub.state.get("window/1")["last_rating"] == "expired"      # the QR slip may still rate
    tok = signed_link(hall.hub, fin["job"])["qr_path"].removeprefix("/r/")
    assert qr_token.verify(hall.hub.secret, tok, hall.now / 1000) == fin["job"]
    hall.ok("rating.submit", {"job": fin["job"], "level": 4}, "qr-web")
    assert hall.hub.state.get("window/1")["last_rating"] == "rated"


# --- "my day" ---------------------------------------------------------------------------------------

def test_my_day_holds_back_the_ratings_of_recent_jobs(hall: Driver) -> None:
    hall.refused("not_signed_in", "staff.today")
    hall.sign_in(1, "1001")
    hall.serve(1, minutes=10)                                    # 10 min, 15 promised
    hall.ok("rating.submit", {"level": 5}, "kiosk-1")
    hall.serve(1, minutes=20, service="S001")                    # overdue
    hall.ok("rating.submit", {"level": 1, "tags": ["N01"]}, "kiosk-1")
    d = hall.ok("staff.today")
    assert (d["staff_no"], d["served"], d["overdue"], d["mean_handle_ms"]) == ("1001", 2, 1, 15 * 60_000)
    # the last 办件 finished just now: its 差评 is not visible yet; the first one's was 20 min ago
    assert (d["rated"], d["participation"], d["good_rate"], d["held_back"]) == (1, 1.0, 1.0, 1)
    hall.advance(TODAY_HOLD_MS / 1000)
    d = hall.ok("staff.today")
    assert (d["rated"], d["participation"], d["good_rate"], d["held_back"]) == (2, 1.0, 0.5, 0)
    hall.refused("forbidden", "staff.today", {}, "kiosk-1")
    hall.refused("forbidden", "staff.today", {"window": 2}, "terminal-1")
    hall.sign_in(2, "1002")
    assert hall.ok("staff.today", {}, "terminal-2")["served"] == 0   # each terminal: its own staff member


# --- the slip's QR link ----------------------------------------------------------------------------

def signed_link(hub: Hub, pub: str) -> dict[str, Any]:
    """The QR link the hub signs for the slip printer (`slip.fetch`), as a test holding the secret does."""
    return jobs.link(hub.secret, hub.config, jobs.by_pub(hub.db, pub))


def test_finish_and_rating_state_carry_no_qr_link(hall: Driver) -> None:
    """Changed by issue #11: the link is a rating credential; the terminal and state never get it."""
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    assert "qr_path" not in fin and "qr_url" not in fin
    r = hall.hub.state.get("rating/1")
    assert "qr_path" not in r and "qr_url" not in r
    link = signed_link(hall.hub, fin["job"])
    assert link["qr_path"].startswith("/r/") and link["qr_url"] is None
    pub = qr_token.verify(hall.hub.secret, link["qr_path"][3:], hall.now / 1000)
    assert pub == fin["job"]
    assert (hall.hub.db_path.parent / "secret.key").exists()


def test_public_url_gives_the_full_link(tmp_path: Path, config) -> None:
    config = dataclasses.replace(config, hall=dataclasses.replace(config.hall, public_url="http://192.168.1.10:8080"))
    hub = Hub(tmp_path / "hall.db", config)
    try:
        d = Driver(hub, at(9, 0))
        d.sign_in(1, "1001")
        fin = d.serve(1)
        link = signed_link(hub, fin["job"])
        assert link["qr_url"] == "http://192.168.1.10:8080" + link["qr_path"]
        assert "qr_url" not in hub.state.get("rating/1")
    finally:
        hub.close()


# --- keypad 差评 -------------------------------------------------------------------------------------

def test_keypad_bad_rating_without_tags_is_kept_with_the_pending_reason(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.refused("tag_required", "rating.submit", {"level": 1}, "kiosk-1")            # a kiosk can ask why
    hall.refused("unknown_tag", "rating.submit", {"level": 1, "tags": ["KEYPAD"]}, "kiosk-1")
    r = hall.ok("rating.submit", {"window": 1, "level": 2}, "gateway-1")              # the keypad cannot
    assert r["case_id"] is not None
    row = hall.hub.db.execute("SELECT channel, tags FROM ratings WHERE id = ?", [r["rating_id"]]).fetchone()
    assert row == (5, '["REASON_PENDING"]')          # 原因待回访, shared with the walked-away kiosk 差评
    rec = export.pending(hall.hub.db, hall.hub.config, 0, 10)[0]
    assert rec["reasons"] == ["REASON_PENDING"] and rec["channel"] == 5
    hall.serve(1)
    hall.refused("unknown_tag", "rating.submit", {"window": 1, "level": 1, "tags": ["KEYPAD"]}, "gateway-1")
    assert hall.ok("rating.submit", {"window": 1, "level": 1, "tags": ["N02"]}, "gateway-1")["case_id"]
    hall.serve(1)
    assert hall.ok("rating.submit", {"window": 1, "level": 4}, "gateway-1")["case_id"] is None


# --- late evaluator ratings --------------------------------------------------------------------------

def test_late_press_within_the_open_window_counts_within_bounds(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    finished = fin["rating_expires_ms"] - 60_000
    hall.advance(7 * 86_400 + 30)                              # a week later, just past the QR deadline
    hall.ok("system.tick", {}, "system-1")
    assert hall.hub.db.execute("SELECT rating FROM jobs").fetchone()[0] == "unrated"
    r = hall.ok("rating.submit", {"level": 4, "pressed_ms": finished + 50_000}, "kiosk-1")  # < 7 days ago
    assert r["job"] == fin["job"]
    assert hall.hub.state.get("window/1")["last_rating"] == "rated"


def test_late_press_bounds(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    finished = fin["rating_expires_ms"] - 60_000
    hall.advance(120)
    hall.ok("system.tick", {}, "system-1")
    before = {"job": fin["job"], "level": 4}
    hall.refused("rating_expired", "rating.submit", {**before, "pressed_ms": finished - 1}, "kiosk-1")
    hall.refused("rating_expired", "rating.submit", {**before, "pressed_ms": fin["rating_expires_ms"] + 1}, "kiosk-1")
    hall.advance(7 * 86_400 + 3600)                            # more than the QR validity after the press
    hall.refused("rating_expired", "rating.submit", {**before, "pressed_ms": finished + 10_000}, "kiosk-1")


def test_press_ahead_of_the_server_clock_is_bounded(hall: Driver) -> None:
    from hall_server.domain.ratings import MAX_CLOCK_AHEAD_MS, pressed_in_time

    job = {"finished_ms": 1_000_000, "rating_expires_ms": 1_060_000}

    class Ctx:
        config = hall.hub.config
        now_ms = 1_000_000

    assert pressed_in_time(Ctx, job, 1_000_000 + MAX_CLOCK_AHEAD_MS)          # type: ignore[arg-type]
    assert not pressed_in_time(Ctx, job, 1_000_000 + MAX_CLOCK_AHEAD_MS + 1)  # type: ignore[arg-type]
    assert MAX_CLOCK_AHEAD_MS == 5_000
