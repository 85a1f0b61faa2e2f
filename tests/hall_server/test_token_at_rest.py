"""Issue #11: no usable rating token rests in the hall's store. The writer's dedupe table keeps the
replies of `slip.fetch` and `rating.link` without their link; a resent message (the same node and
message id) still gets a working one, rebuilt from the 办件's row and the hall secret."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import msgpack
import pytest

from config.schema import HallConfig, Printer
from hall_server.core import qr_token
from hall_server.core.hub import Hub
from hall_server.domain import token_replies
from hallnet.messages import Envelope

from .conftest import Driver, at


@pytest.fixture
def hall(tmp_path: Path, config: HallConfig):
    windows = tuple(dataclasses.replace(w, printer=Printer(port="/dev/ttyUSB-printer-1", baud=9600))
                    if w.number == 1 else w for w in config.windows)
    hub = Hub(tmp_path / "hall.db", dataclasses.replace(config, windows=windows))
    d = Driver(hub, at(9, 0))
    d.sign_in(1, "1001")
    yield d
    hub.close()


def token_parts(secret: bytes, config: HallConfig, db: sqlite3.Connection, job_pub: str) -> list[bytes]:
    """The 办件's token signed again here, and its two halves (each alone would be a leak too)."""
    finished_ms = db.execute("SELECT finished_ms FROM jobs WHERE pub = ?", [job_pub]).fetchone()[0]
    token = qr_token.qr_path(secret, job_pub, finished_ms, config.hall.rating.qr_valid_days)[3:]
    payload, _, mac = token.partition(".")
    return [token.encode(), payload.encode(), mac.encode()]


def holders(db_path: Path, needles: list[bytes]) -> list[str]:
    """Every table.column of the store whose text or blob (msgpack decoded too) holds a needle."""
    db = sqlite3.connect(db_path)
    found = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
        for values in db.execute(f'SELECT * FROM "{table}"'):
            for col, v in zip(cols, values):
                raw = v.encode() if isinstance(v, str) else v if isinstance(v, bytes) else b""
                texts = [raw]
                if isinstance(v, bytes):
                    try:
                        texts.append(repr(msgpack.unpackb(v, raw=False)).encode())
                    except Exception:
                        pass
                if any(n in t for n in needles for t in texts) or any(b"/r/" in t for t in texts):
                    found.append(f"{table}.{col}")
    db.close()
    return found


def test_no_token_rests_in_any_table_and_a_resend_gets_a_working_link(hall: Driver) -> None:
    hub = hall.hub
    fin = hall.serve(1)
    print_id = hub.state.get("slips/1")["pending"][0]
    fetch = Envelope(type="slip.fetch", node="gateway-1", seq=1, body={"print_id": print_id})
    link = Envelope(type="rating.link", node="kiosk-1", seq=1, body={"job": fin["job"]})
    (got,) = hub.apply([fetch], hall.now)
    (shown,) = hub.apply([link], hall.now)
    assert got.ok and shown.ok
    assert qr_token.verify(hub.secret, got.result["qr_path"][3:], hall.now / 1000) == fin["job"]
    assert shown.result["qr_path"] == got.result["qr_path"]
    hall.ok("slip.result", {"print_id": print_id, "ok": True}, "gateway-1")

    needles = token_parts(hub.secret, hub.config, hub.db.conn, fin["job"])
    assert needles[0] == got.result["qr_path"][3:].encode()
    assert holders(hub.db_path, needles) == []                          # applied, state, audit, every table

    # the replies were lost: both nodes send the same messages again (same node, same id)
    hall.advance(30)
    (again_fetch,) = hub.apply([fetch], hall.now)
    (again_link,) = hub.apply([link], hall.now)
    assert again_fetch.duplicate and again_link.duplicate
    assert again_fetch.result == got.result and again_link.result == shown.result   # the same link, whole
    assert token_replies.REDACTED not in again_fetch.result
    assert qr_token.verify(hub.secret, again_link.result["qr_path"][3:], hall.now / 1000) == fin["job"]
    assert holders(hub.db_path, needles) == []
    # a resend applies nothing again: the print stays printed, no second fetch recorded
    assert hub.db.execute("SELECT state FROM slips WHERE id = ?", [print_id]).fetchone()[0] == "printed"
    # the same message id from another node is another message (refused: a terminal may not fetch)
    (other,) = hub.apply([dataclasses.replace(fetch, node="terminal-1")], hall.now)
    assert not other.ok and other.error == "forbidden"


def test_a_resend_in_the_same_batch_and_a_public_url_link(tmp_path: Path, config: HallConfig) -> None:
    config = dataclasses.replace(config, hall=dataclasses.replace(config.hall, public_url="http://hall.test"))
    hub = Hub(tmp_path / "hall.db", config)
    try:
        d = Driver(hub, at(9, 0))
        d.sign_in(1, "1001")
        fin = d.serve(1)
        link = Envelope(type="rating.link", node="kiosk-1", seq=1, body={"job": fin["job"]})
        first, second = hub.apply([link, link], d.now)
        assert second.duplicate and second.result == first.result
        assert first.result["qr_url"] == "http://hall.test" + first.result["qr_path"]
        stored = msgpack.unpackb(hub.db.execute("SELECT result FROM applied WHERE id = ?", [link.id]).fetchone()[0])
        assert stored == {"job": fin["job"], "qr_path": None, "qr_url": None, token_replies.REDACTED: True}
        (later,) = hub.apply([link], d.now)
        assert later.result == first.result
    finally:
        hub.close()


def test_replies_without_a_link_are_kept_as_they_are() -> None:
    plain = {"job": "abcdef123456", "job_no": "X"}
    assert token_replies.redact(plain) is plain
    none = {"job": "abcdef123456", "qr_path": None, "qr_url": None}       # a hub without a secret
    assert token_replies.redact(none) is none
    assert token_replies.redact({"qr_path": "/r/x.y", "n": 1}) == {"qr_path": None, "qr_url": None, "n": 1}
