"""R1–R6: one rating per 办件 across channels, expiry, tags, staff never rate, append-only."""

import sqlite3
from pathlib import Path

import pytest

from hall_server.core.hub import Hub
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


# --- 原因待回访: the walked-away kiosk 差评 and the keypad share one reserved reason ------------------

def test_a_walked_away_kiosk_bad_rating_is_kept_with_the_pending_reason(hall: Driver) -> None:
    """The citizen chose 非常不满意 in time and left the reasons screen: the kiosk sends the reserved
    tag with the tap's time, after the evaluator's window closed; the rating counts and opens a case."""
    from config.reserved_tags import PENDING_REASON_TAG
    from hall_server.domain import cases, ratings

    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    pressed = hall.now + 20_000                              # tapped 20 s into the 60 s window
    hall.advance(20 + 180)                                   # the reasons screen gave up 180 s later
    hall.ok("system.tick", {}, "system-1")                   # the evaluator's window closed meanwhile
    hall.refused("tag_required", "rating.submit", {"job": fin["job"], "level": 1, "pressed_ms": pressed}, "kiosk-1")
    r = hall.ok("rating.submit", {"job": fin["job"], "level": 1, "tags": [PENDING_REASON_TAG],
                                  "pressed_ms": pressed}, "kiosk-1")
    assert r["case_id"] is not None and r["job"] == fin["job"]
    row = hall.hub.db.execute("SELECT channel, level, tags FROM ratings").fetchone()
    assert row == (4, 1, '["REASON_PENDING"]')
    case = cases.view(hall.hub.db, cases.get(hall.hub.db, r["case_id"]))
    assert case["reason_pending"] and case["status"] == "open"
    assert ratings.tag_text(hall.hub.config, PENDING_REASON_TAG) == "原因待回访"
    assert ratings.tag_text(hall.hub.config, PENDING_REASON_TAG, "en") == "Reason to be asked in the call-back"


def test_the_pending_reason_is_reserved_for_a_bad_rating_from_an_evaluator(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    fin = hall.serve(1)
    for body, node in (({"level": 4, "tags": ["REASON_PENDING"]}, "kiosk-1"),            # not a 差评
                       ({"level": 1, "tags": ["REASON_PENDING", "N01"]}, "kiosk-1"),     # it stands alone
                       ({"level": 1, "tags": ["KEYPAD"]}, "kiosk-1"),                    # the old code: never again
                       ({"job": fin["job"], "level": 1, "tags": ["REASON_PENDING"], "channel": 3}, "web"),
                       ({"job": fin["job"], "level": 1, "tags": ["REASON_PENDING"]}, "qr-1")):   # they can ask
        hall.refused("unknown_tag", "rating.submit", body, node)
    assert hall.hub.db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0


def test_the_keypad_uses_the_same_pending_reason(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    hall.serve(1)
    r = hall.ok("rating.submit", {"window": 1, "level": 2}, "gateway-1")
    assert hall.hub.db.execute("SELECT tags FROM ratings").fetchone() == ('["REASON_PENDING"]',)
    hall.serve(1)
    r2 = hall.ok("rating.submit", {"window": 1, "level": 1, "tags": ["REASON_PENDING"]}, "gateway-1")
    assert r["case_id"] and r2["case_id"]


def test_old_keypad_records_stay_readable_with_their_text(hall: Driver) -> None:
    from config.reserved_tags import reason_pending
    from hall_server.domain import cases, ratings
    from hall_server.domain.common import rows

    hall.sign_in(1, "1001")
    hall.serve(1)
    r = hall.ok("rating.submit", {"window": 1, "level": 2}, "gateway-1")
    # a record as the keypad path wrote it before REASON_PENDING (ratings are append-only: a copy)
    hall.hub.db.execute("INSERT INTO ratings (job_id, round, level, channel, tags, tag_version, text, phone, "
                        "is_default, at_ms, node, window, staff_no, service_code) SELECT job_id, 2, level, channel, "
                        "'[\"KEYPAD\"]', tag_version, text, phone, is_default, at_ms, node, window, staff_no, "
                        "service_code FROM ratings WHERE id = ?", [r["rating_id"]])
    old = rows(hall.hub.db, "SELECT * FROM ratings WHERE tags = '[\"KEYPAD\"]'")[0]
    assert ratings.view(old)["tags"] == ["KEYPAD"] and ratings.view(old)["reason_pending"]
    assert ratings.tag_text(hall.hub.config, "KEYPAD") == "按键评价，原因待回访"
    assert ratings.tag_text(hall.hub.config, "N01") == "服务态度差" and ratings.tag_text(None, "N01") == "N01"
    assert reason_pending(["KEYPAD"]) and not reason_pending(["N01"])
    assert cases.view(hall.hub.db, cases.get(hall.hub.db, r["case_id"]))["reason_pending"]


# --- rating.link: the evaluator's QR link, never in public state ----------------------------------

def test_the_kiosk_gets_the_signed_link_of_its_own_window_s_rating(hall: Driver) -> None:
    from hall_server.core import qr_token

    hall.sign_in(1, "1001")
    hall.sign_in(2, "1002")
    fin = hall.serve(1)
    other = hall.serve(2)
    before = [hall.hub.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
              for table in ("audit", "ratings", "cases", "state")] + [hall.hub.state.seq]
    link = hall.ok("rating.link", {"job": fin["job"]}, "kiosk-1")
    assert link["job"] == fin["job"] and link["qr_path"].startswith("/r/") and link["qr_url"] is None
    assert qr_token.verify(hall.hub.secret, link["qr_path"][3:], hall.now / 1000) == fin["job"]
    hall.refused("wrong_window", "rating.link", {"job": fin["job"]}, "kiosk-2")        # another window's 办件
    hall.refused("forbidden", "rating.link", {"job": fin["job"]}, "terminal-1")       # staff never get it
    for node in ("gateway-1", "web", "dispenser-1", "bizsys-1", "manager-1"):
        hall.refused("forbidden", "rating.link", {"job": fin["job"]}, node)
    hall.refused("unknown_job", "rating.link", {"job": "0123456789abcdef0123"}, "kiosk-1")
    hall.refused("bad_request", "rating.link", {"job": fin["job"], "window": 1}, "kiosk-1")
    hall.refused("bad_request", "rating.link", {}, "kiosk-1")
    hall.refused("forbidden", "rating.link", {"job": other["job"]}, "kiosk")          # a kiosk bound to no window
    # a read: nothing written but the writer's own `applied` row per message
    after = [hall.hub.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
             for table in ("audit", "ratings", "cases", "state")] + [hall.hub.state.seq]
    assert after == before


def test_the_link_follows_the_qr_validity_and_stops_once_rated(hall: Driver) -> None:
    hall.sign_in(1, "1001")
    first = hall.serve(1, minutes=0.1)
    second = hall.serve(1, minutes=0.1)                      # the first falls back to its QR slip
    assert hall.ok("rating.link", {"job": first["job"]}, "kiosk-1")["job"] == first["job"]
    hall.ok("rating.submit", {"level": 5}, "kiosk-1")          # the second is rated
    hall.refused("already_rated", "rating.link", {"job": second["job"]}, "kiosk-1")
    hall.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.ok("queue.call_next", {}, "terminal-1")
    started = hall.ok("job.start", {}, "terminal-1")
    hall.refused("not_finished", "rating.link", {"job": started["job"]}, "kiosk-1")
    hall.advance(7 * 86_400 + 1)
    hall.refused("rating_expired", "rating.link", {"job": first["job"]}, "kiosk-1")     # lazily
    hall.ok("system.tick", {}, "system-1")
    hall.refused("rating_expired", "rating.link", {"job": first["job"]}, "kiosk-1")     # 未评价
