"""The evaluator's logic on a real bus: the server opens a rating, the kiosk submits, the server
records exactly one; during a hall-server outage the rating waits in the outbox (across a kiosk
restart) and is delivered once the server is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hall_server.core import qr_token
from hall_server.domain.common import rows
from kiosk.dispenser_logic import Dispenser
from kiosk.drafts import DraftStore
from kiosk.dispenser_logic import Screen as DScreen
from kiosk.evaluator_logic import Evaluator, Screen
from kiosk.net import rated_jobs_in
from tests.kiosk.hall import Hall, Inbox, wait


@pytest.fixture
def hall(tmp_path: Path):
    h = Hall(tmp_path).start_bus()
    yield h
    h.close()


def kiosk(hall: Hall, outbox: Path, window: int = 3, **kw):
    inbox = Inbox()
    client = hall.client(f"kiosk-{window}", outbox, on_change=inbox.change, on_connection=inbox.connection,
                         on_reply=inbox.reply)
    ev = Evaluator(hall.config, window, client.send, qr_base="http://hall.test:8080", **kw)
    ev.mark_sent(rated_jobs_in(client.outbox))
    return client, ev, inbox


def until(inbox: Inbox, ev, pred, timeout_s: float = 10.0) -> bool:
    def check() -> bool:
        inbox.drain(ev)
        ev.tick()
        return pred()
    return wait(check, timeout_s)


def test_rating_opened_submitted_and_recorded_once(hall: Hall, tmp_path: Path) -> None:
    client, ev, inbox = kiosk(hall, tmp_path / "kiosk-3-outbox.db")
    assert until(inbox, ev, lambda: ev.connected)
    done = hall.finish_job()
    assert until(inbox, ev, lambda: ev.view().screen == Screen.RATE)
    assert until(inbox, ev, lambda: ev.view().qr_url is not None)      # the rating.link reply (issue 11)
    v = ev.view()
    assert v.qr_url.startswith("http://hall.test:8080/r/") and done["job"] not in v.qr_url   # signed, not the bare id
    assert qr_token.verify(hall.hub.secret, v.qr_url.rsplit("/", 1)[1], time.time()) == done["job"]
    assert "qr_path" not in done and "qr_path" not in client.get("rating/3")   # issue #11: no token in state
    assert v.staff.name == "张丽娟" and 55 <= v.countdown_s <= 60
    assert ev.tap_level(4) and not ev.tap_level(4)
    ev.toggle_tag("P02")
    assert ev.submit() and not ev.submit()
    assert ev.view().screen == Screen.THANKS
    assert wait(lambda: client.pending_count() == 0)
    # the server closed the opportunity; the kiosk went back to the identity screen
    assert until(inbox, ev, lambda: client.get("rating/3") is None)
    rows = hall.ratings_of(done["job"])
    assert len(rows) == 1
    assert (rows[0]["level"], rows[0]["channel"], rows[0]["tags"]) == (4, 4, '["P02"]')
    # the identity screen shows who is serving, from window/3
    ev.tick()
    assert ev.view().staff.staff_no == "HC2103"


def test_bad_rating_with_reasons_reaches_the_server(hall: Hall, tmp_path: Path) -> None:
    client, ev, inbox = kiosk(hall, tmp_path / "kiosk-3-outbox.db")
    done = hall.finish_job()
    assert until(inbox, ev, lambda: ev.view().screen == Screen.RATE)
    ev.tap_level(1)
    ev.toggle_tag("N02")
    ev.open_phone()
    for d in "13912345678":
        ev.phone_key(d)
    ev.phone_done()
    assert ev.submit()
    assert wait(lambda: client.pending_count() == 0)
    rows = hall.ratings_of(done["job"])
    assert len(rows) == 1 and rows[0]["level"] == 1 and rows[0]["phone"] == "13912345678"


def test_outage_the_rating_waits_in_the_outbox_across_a_kiosk_restart(hall: Hall, tmp_path: Path) -> None:
    outbox = tmp_path / "kiosk-3-outbox.db"
    client, ev, inbox = kiosk(hall, outbox)
    done = hall.finish_job()
    assert until(inbox, ev, lambda: ev.view().screen == Screen.RATE and ev.view().qr_url is not None)
    hall.stop_bus()
    assert until(inbox, ev, lambda: not ev.connected, 5)
    assert "未连接" in ev.view().banner
    assert ev.tap_level(5) and ev.submit()
    assert ev.view().screen == Screen.THANKS          # shown after the outbox has it
    assert client.pending_count() == 1
    client.stop()                                      # the kiosk restarts while the server is away
    hall.clients.remove(client)
    client2, ev2, inbox2 = kiosk(hall, outbox)
    assert ev2.sent_jobs == {done["job"]}              # it will not ask again for this 办件
    assert client2.pending_count() == 1
    hall.start_bus()
    assert until(inbox2, ev2, lambda: ev2.connected and client2.pending_count() == 0, 15)
    rows = hall.ratings_of(done["job"])
    assert len(rows) == 1 and rows[0]["level"] == 5
    assert until(inbox2, ev2, lambda: ev2.view().screen == Screen.IDENTITY)


def test_the_dispenser_takes_a_ticket_on_the_bus(hall: Hall, tmp_path: Path) -> None:
    printed = []
    inbox = Inbox()
    d: Dispenser | None = None

    def reply(ref, body):
        inbox.q.put(("reply", ref, body))

    client = hall.client("dispenser-1", tmp_path / "d.db", on_change=inbox.change, on_connection=inbox.connection,
                         on_reply=reply)
    d = Dispenser(hall.config, client.send, print_ticket=printed.append)

    def drain() -> None:
        while not inbox.q.empty():
            kind, a, b = inbox.q.get()
            if kind == "reply":
                d.on_reply(a, b)
            elif kind == "state":
                d.on_state(a, b)
            else:
                d.on_connection(a)

    assert wait(lambda: (drain(), d.connected)[1])
    assert d.tap_category("B")
    assert wait(lambda: (drain(), d.view().screen == DScreen.TICKET)[1])
    assert d.view().ticket.number == "B001" and printed[0].waiting_ahead == 0
    assert wait(lambda: (drain(), d.view().categories[1].waiting == 1)[1])


# --- issue 11: the QR link only for the window's own kiosk; the walked-away 差评 -------------------

def test_the_link_goes_only_to_the_kiosk_of_the_window(hall: Hall, tmp_path: Path) -> None:
    client, ev, inbox = kiosk(hall, tmp_path / "kiosk-3-outbox.db")
    done = hall.finish_job()
    assert until(inbox, ev, lambda: ev.view().qr_url is not None)
    state = client.get("rating/3")
    assert state["job"] == done["job"]
    other = hall.client("kiosk-2", tmp_path / "kiosk-2.db")
    term = hall.client("terminal-3")
    assert wait(lambda: other.connected and term.connected)
    r = client.call("rating.link", {"job": done["job"]})
    assert r["ok"] and r["result"]["job"] == done["job"]
    assert qr_token.verify(hall.hub.secret, r["result"]["qr_path"][3:], time.time()) == done["job"]
    assert "http://hall.test:8080" + r["result"]["qr_path"] == ev.view().qr_url
    refused = other.call("rating.link", {"job": done["job"]})                # window 2 asks for window 3's 办件
    assert not refused["ok"] and refused["error"] == "wrong_window" and "result" not in refused
    refused = term.call("rating.link", {"job": done["job"]})                 # the staff side never gets it
    assert not refused["ok"] and refused["error"] == "forbidden" and "result" not in refused
    refused = client.call("rating.link", {"job": "00000000000000000000"})
    assert not refused["ok"] and refused["error"] == "unknown_job"


def test_a_walked_away_bad_rating_arrives_with_the_pending_reason_and_opens_a_case(hall: Hall, tmp_path: Path) -> None:
    offset = [0.0]
    client, ev, inbox = kiosk(hall, tmp_path / "kiosk-3-outbox.db", clock=lambda: time.monotonic() + offset[0])
    done = hall.finish_job()
    assert until(inbox, ev, lambda: ev.view().screen == Screen.RATE)
    tapped_ms = int(time.time() * 1000)
    assert ev.tap_level(1)                              # 非常不满意, then the citizen walks away
    offset[0] += 60 + ev.reasons_s                      # the reasons screen gives up
    ev.tick()
    assert ev.view().screen == Screen.THANKS
    assert wait(lambda: client.pending_count() == 0)
    (r,) = hall.ratings_of(done["job"])
    assert (r["level"], r["channel"], r["tags"]) == (1, 4, '["REASON_PENDING"]')
    assert abs(ev.sent[-1]["pressed_ms"] - tapped_ms) < 1_000          # the tap's time, not the timeout's
    (case,) = rows(hall.hub.reader(), "SELECT * FROM cases WHERE rating_id = ?", [r["id"]])
    assert case["kind"] == "bad_rating" and case["status"] == "open"
    # the keypad's tagless 差评 gets the same reserved reason
    gateway, term4 = hall.client("gateway-1"), hall.client("terminal-4")
    assert wait(lambda: gateway.connected and term4.connected)
    assert term4.call("window.sign_in", {"staff_no": "HC2104", "pin": "1234"})["ok"]
    assert gateway.call("queue.take", {"category": "A"})["ok"]
    assert term4.call("queue.call_next", {})["ok"]
    done2 = term4.call("job.finish", {"service_code": "SB-0101"})["result"]
    assert gateway.call("rating.submit", {"window": 4, "level": 2})["ok"]
    assert hall.ratings_of(done2["job"])[0]["tags"] == '["REASON_PENDING"]'


def test_a_bad_level_tapped_before_a_kiosk_restart_is_delivered_once(hall: Hall, tmp_path: Path) -> None:
    outbox, kept = tmp_path / "kiosk-3-outbox.db", tmp_path / "kiosk-3-drafts.db"
    client, ev, inbox = kiosk(hall, outbox, drafts=DraftStore(kept))
    done = hall.finish_job()
    assert until(inbox, ev, lambda: ev.view().screen == Screen.RATE)
    assert ev.tap_level(2)
    client.stop()                                       # the kiosk process dies on the reasons screen
    hall.clients.remove(client)
    ev.drafts.close()
    client2, ev2, inbox2 = kiosk(hall, outbox, drafts=DraftStore(kept))
    assert ev2.resume_kept() == 1 and ev2.resume_kept() == 0
    assert until(inbox2, ev2, lambda: ev2.connected and client2.pending_count() == 0, 15)
    (r,) = hall.ratings_of(done["job"])
    assert (r["level"], r["tags"]) == (2, '["REASON_PENDING"]')
    assert rows(hall.hub.reader(), "SELECT kind FROM cases WHERE rating_id = ?", [r["id"]]) == [{"kind": "bad_rating"}]
    ev2.on_state("rating/3", {"job": done["job"], "expires_ms": int(time.time() * 1000) + 30_000})
    assert ev2.view().screen == Screen.IDENTITY         # the restarted kiosk does not ask again
    ev2.drafts.close()

