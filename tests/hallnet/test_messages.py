from __future__ import annotations

import msgpack
import pytest

from hallnet import messages as m


def test_round_trip_keeps_every_field_and_rare_characters() -> None:
    env = m.Envelope(type="audit.note", node="kiosk-3", seq=42, body={"name": "王𬀩 𠇔", "n": [1, 2]})
    back = m.decode(m.encode(env))
    assert back == env
    assert back.node_kind == "kiosk"


@pytest.mark.parametrize(
    "frame, error",
    [
        (b"", m.MalformedMessage),
        (b"\xc1", m.MalformedMessage),
        (msgpack.packb({"a": 1}), m.MalformedMessage),
        (msgpack.packb([2, b"\x00" * 16, "t", "n", 1, 1, {}]), m.WrongVersion),
        (msgpack.packb([1, "0" * 16, "t", "n", 1, 1, {}]), m.MalformedMessage),
        (msgpack.packb([1, b"\x00" * 16, "Bad Type", "n", 1, 1, {}]), m.MalformedMessage),
        (msgpack.packb([1, b"\x00" * 16, "t", "", 1, 1, {}]), m.MalformedMessage),
        (msgpack.packb([1, b"\x00" * 16, "t", "n", 1.5, 1, {}]), m.MalformedMessage),
        (msgpack.packb([1, b"\x00" * 16, "t", "n", 1, True, {}]), m.MalformedMessage),
        (msgpack.packb([1, b"\x00" * 16, "t", "n", 2**64 - 1, 1, {}]), m.MalformedMessage),
        (msgpack.packb([1, b"\x00" * 16, "t", "n", 1, 1, "body"]), m.MalformedMessage),
        (msgpack.packb([1, b"\x00" * 16, "t", "n", 1, 1, {}]) + b"extra", m.MalformedMessage),
        (b"\x00" * (m.MAX_MESSAGE_BYTES + 1), m.MessageTooLarge),
        (msgpack.packb([1, b"\x00" * 16, "t", "n", 1, 1, {"s": b"\xff\xfe".decode("latin1")}])[:-3], m.MalformedMessage),
    ],
)
def test_every_malformed_frame_gets_its_named_error(frame: bytes, error: type) -> None:
    with pytest.raises(error):
        m.decode(frame)


def test_invalid_utf8_is_malformed_not_a_crash() -> None:
    raw = msgpack.packb([1, b"\x00" * 16, "t", "n", 1, 1, {}])
    broken = raw.replace(b"\xa1n", b"\xa1\xff")
    with pytest.raises(m.MalformedMessage):
        m.decode(broken)


def test_encode_refuses_an_oversized_body() -> None:
    with pytest.raises(m.MessageTooLarge):
        m.encode(m.Envelope(type="t", node="n", seq=1, body={"x": "字" * m.MAX_MESSAGE_BYTES}))


def test_reply_points_at_its_request() -> None:
    req = m.Envelope(type="audit.note", node="kiosk-1", seq=1)
    ok = m.reply(req, "server", ok=True, result={"a": 1})
    refused = m.reply(req, "server", ok=False, error="already_rated", message="x")
    assert ok.body == {"ref": req.id, "ok": True, "retry": False, "result": {"a": 1}}
    assert refused.body["error"] == "already_rated" and refused.body["ref"] == req.id
