"""R1–R6: one rating per 办件 across channels, expiry, tags, staff never rate, append-only."""

import sqlite3
from pathlib import Path

import pytest

from hall_server.hub import Hub
from hallnet.messages import Envelope

from .conftest import Driver, at, make_config


def test_kiosk_rates_the_window_s_open_job(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    opened = hall.hub.state.get("rating/1")
    assert opened["job"] == fin["job"] and opened["staff_name"] == "张三"
    assert hall.hub.state.get("window/1")["rating"] == "open"
    r = hall.ok("rating.submit", {"level": 5, "tags": ["P01"], "efficiency": 5}, "kiosk-1")
    assert r["round"] == 1 and r["case_id"] is None
    assert hall.hub.state.get("rating/1") is None
    w = hall.hub.state.get("window/1")
    assert w["rating"] is None and "level" not in str(w)
    row = hall.hub.db.execute("SELECT channel, level, staff_no, window FROM ratings").fetchone()
    assert row == (4, 5, "1001", 1)


def test_rating_an_unfinished_job_is_refused(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    job = hall.ok("job.start", {}, "terminal-1")["job"]
    hall.refused("not_finished", "rating.submit", {"job": job, "level": 5}, "kiosk-1")
    hall.refused("not_finished", "rating.submit", {"job": job, "level": 5, "channel": 3}, "web")
    hall.refused("rating_expired", "rating.submit", {"level": 5}, "kiosk-1")   # nothing open at window 1


def test_rating_another_window_s_job_is_refused(hall: Driver) -> None:
    hall.sign_in(2, "1002")
    fin = hall.serve(2)
    hall.refused("wrong_window", "rating.submit", {"job": fin["job"], "level": 5}, "kiosk-1")
    hall.refused("wrong_window", "rating.submit", {"window": 1, "handle": hall.hub.state.get("rating/2")["handle"],
                                                  "level": 5}, "gateway-1")
    hall.refused("forbidden", "rating.submit", {"window": 2, "level": 5}, "kiosk-1")
    assert hall.ok("rating.submit", {"window": 2, "level": 4}, "gateway-1")["round"] == 1
    assert hall.hub.db.execute("SELECT channel FROM ratings").fetchall() == [(5,)]


def test_two_channels_at_the_same_moment_exactly_one_wins(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    batch = [
        Envelope(type="rating.submit", node="kiosk-1", seq=1, body={"level": 5}),
        Envelope(type="rating.submit", node="gateway-1", seq=1, body={"window": 1, "level": 3}),
        Envelope(type="rating.submit", node="web", seq=1, body={"job": fin["job"], "level": 4, "channel": 3}),
    ]
    outcomes = hall.hub.apply(batch, now_ms=hall.now)
    assert [o.ok for o in outcomes] == [True, False, False]
    assert {o.error for o in outcomes[1:]} == {"already_rated"}
    assert hall.hub.db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 1
    # a resent message gets the same answer (idempotent), not a second rating
    again = hall.hub.apply([batch[1]], now_ms=hall.now)[0]
    assert again.duplicate and again.error == "already_rated"
    # repeated presses on the same kiosk are ignored
    hall.refused("already_rated", "rating.submit", {"job": fin["job"], "level": 1, "tags": ["N01"]}, "kiosk-1")


def test_staff_credentials_can_never_rate(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    for node in ("terminal-1", "bizsys-1", "system-1", "dispenser-1", "manager-1"):
        hall.refused("forbidden", "rating.submit", {"job": fin["job"], "level": 5, "channel": 3}, node)
    assert hall.hub.db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0


def test_bad_rating_needs_a_current_tag_and_opens_a_case(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.refused("tag_required", "rating.submit", {"level": 2}, "kiosk-1")
    hall.refused("tag_required", "rating.submit", {"level": 1, "tags": []}, "kiosk-1")
    hall.refused("unknown_tag", "rating.submit", {"level": 1, "tags": ["N07"]}, "kiosk-1")   # removed in v2
    hall.refused("unknown_tag", "rating.submit", {"level": 1, "tags": ["P01"]}, "kiosk-1")   # not for level 1
    r = hall.ok("rating.submit", {"level": 1, "tags": ["N01", "N02"], "phone": "13812345678", "text": "态度差"},
                "kiosk-1")
    assert r["case_id"] is not None
    assert hall.hub.state.get("mgr/floor")["open_cases"] == 1
    assert "open_cases" not in hall.hub.state.get("floor")      # R6: not in the published key


def test_levels_and_fields_are_validated(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.serve(1)
    for body in ({"level": 0}, {"level": 6}, {"level": "5"}, {"level": True}, {"level": 5, "phone": "x' OR 1=1"},
                 {"level": 5, "text": "长" * 501}, {"level": 5, "skill": 9}, {"level": 5, "bogus": 1},
                 {"level": 5, "tags": "P01"}):
        hall.refused("bad_request", "rating.submit", body, "kiosk-1")
    hall.refused("channel_not_allowed", "rating.submit", {"level": 5, "channel": 3}, "kiosk-1")


def test_rating_after_expiry_leaves_the_job_unrated(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    hall.advance(61)
    hall.refused("rating_expired", "rating.submit", {"level": 5}, "kiosk-1")   # lazily, without a tick
    out = hall.ok("system.tick", {}, "system-1")
    assert out["evaluator_closed"] == 1
    assert hall.hub.state.get("rating/1") is None
    # the QR slip still works within qr_valid_days
    hall.ok("rating.submit", {"job": fin["job"], "level": 4, "channel": 3}, "web")


def test_qr_expiry_leaves_unrated_and_no_default_by_default(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    hall.advance(7 * 86400 + 1)
    hall.refused("rating_expired", "rating.submit", {"job": fin["job"], "level": 5, "channel": 3}, "web")
    out = hall.ok("system.tick", {}, "system-1")
    assert out["unrated"] == 1 and out["defaults"] == 0
    assert hall.hub.db.execute("SELECT rating FROM jobs").fetchone() == ("unrated",)
    assert hall.hub.db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0


def test_default_rating_policy_is_flagged_and_never_active(tmp_path: Path, pin_hash: str) -> None:
    from hall_server.domain import figures

    hub = Hub(tmp_path / "d.db", make_config(pin_hash, default_rating=True))
    hall = Driver(hub, at(9, 0))
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    hall.advance(7 * 86400 + 1)
    assert hall.ok("system.tick", {}, "system-1")["defaults"] == 1
    assert hub.db.execute("SELECT is_default, level, channel FROM ratings").fetchone() == (1, 5, 0)
    hall.refused("already_rated", "rating.submit", {"job": fin["job"], "level": 5, "channel": 3}, "web")
    rep = figures.report(hub.db, hub.config, "2026-11-01", "2026-11-30", "window")
    row = rep[0]
    assert row["finished"] == 1 and row["rated"] == 0 and row["defaults"] == 1 and row["participation_rate"] == 0
    hub.close()


def test_followup_once_after_rectification(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    case_id = hall.ok("rating.submit", {"level": 2, "tags": ["N02"]}, "kiosk-1")["case_id"]
    body = {"job": fin["job"], "level": 4, "channel": 2}
    hall.refused("followup_not_allowed", "rating.followup", body, "web")
    hall.ok("case.callback", {"case_id": case_id, "note": "已回访"}, "web")
    hall.refused("followup_not_allowed", "rating.followup", body, "web")
    hall.ok("case.rectify", {"case_id": case_id, "note": "已整改"}, "web")
    r = hall.ok("rating.followup", body, "web")
    assert r["round"] == 2
    hall.refused("already_rated", "rating.followup", body, "web")
    hall.refused("forbidden", "rating.followup", body, "terminal-1")
    assert hall.hub.db.execute("SELECT status FROM cases").fetchone() == ("closed",)


def test_ratings_and_audit_are_append_only(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.ok("rating.submit", {"level": 5}, "kiosk-1")
    for sql in ("UPDATE ratings SET level = 1", "DELETE FROM ratings", "DELETE FROM audit",
                "UPDATE ticket_events SET kind = 'x'", "DELETE FROM ticket_events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            hall.hub.db.execute(sql)


def test_new_finish_moves_the_previous_open_rating_to_its_qr_slip(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    first = hall.serve(1, minutes=0.1)
    second = hall.serve(1, minutes=0.1)
    assert hall.hub.state.get("rating/1")["job"] == second["job"]
    hall.refused("rating_expired", "rating.submit", {"job": first["job"], "level": 5}, "kiosk-1")
    hall.ok("rating.submit", {"job": first["job"], "level": 5, "channel": 3}, "web")
    hall.ok("rating.submit", {"level": 4}, "kiosk-1")


def test_private_fields_masked(hall: Driver) -> None:
    from hall_server.domain import ratings
    from hall_server.domain.common import rows

    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.ok("rating.submit", {"level": 1, "tags": ["N01"], "phone": "13812345678", "text": "太慢"}, "kiosk-1")
    r = rows(hall.hub.db, "SELECT * FROM ratings")[0]
    assert ratings.view(r)["phone"] == "138****5678" and ratings.view(r)["text"] == "***"
    assert ratings.view(r, reveal_private=True)["phone"] == "13812345678"


def test_a_press_in_time_delivered_late_still_counts(hall: Driver) -> None:
    """The kiosk's outbox held the rating while the server was down: the press time decides."""
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    pressed = hall.now + 30_000
    hall.advance(2 * 3600)                               # delivered two hours later
    hall.ok("system.tick", {}, "system-1")               # the evaluator's opportunity was closed meanwhile
    hall.refused("rating_expired", "rating.submit", {"level": 5}, "kiosk-1")
    hall.refused("rating_expired", "rating.submit", {"level": 5, "pressed_ms": fin["rating_expires_ms"] + 1},
                 "kiosk-1")
    hall.refused("rating_expired", "rating.submit", {"job": fin["job"], "level": 5,
                                                      "pressed_ms": hall.now + 10 * 60_000}, "kiosk-1")  # future
    r = hall.ok("rating.submit", {"level": 4, "pressed_ms": pressed}, "kiosk-1")
    assert r["job"] == fin["job"]


def test_late_press_finds_the_job_open_at_press_time(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    first = hall.serve(1, minutes=0.1)
    pressed = hall.now + 5_000
    second = hall.serve(1, minutes=1)
    r = hall.ok("rating.submit", {"window": 1, "level": 3, "pressed_ms": pressed}, "gateway-1")
    assert r["job"] == first["job"]
    assert hall.hub.state.get("rating/1")["job"] == second["job"]
