"""The wire's one vocabulary: every handled type is named in it, the enums are the same bytes on
the wire as the plain strings and numbers of older builds, and the reply body is built once."""

from __future__ import annotations

import msgpack

from config.i18n import TEXTS
from config.reserved_tags import RESERVED_TAGS
from hall_server.assembly import hall_handlers
from hall_server.core.writer import Applied
from hallnet import messages
from hallnet.messages import Envelope
from hallnet.vocabulary import (
    KEYPAD, REASON_PENDING, WIRE_TYPES, Channel, Key, Msg, NodeKind, node_id, node_kind, reply_body,
)


def test_every_handled_type_is_a_named_message_type() -> None:
    assert set(hall_handlers()) <= {m.value for m in Msg}
    assert set(hall_handlers()) | {m.value for m in WIRE_TYPES} == {m.value for m in Msg}


def test_the_enums_are_the_old_bytes_on_the_wire() -> None:
    assert msgpack.packb([Msg.QUEUE_TAKE, Channel.KIOSK, NodeKind.KIOSK]) == msgpack.packb(["queue.take", 4, "kiosk"])
    env = messages.decode(messages.encode(Envelope(type=Msg.RATING_SUBMIT, node="kiosk-1", seq=1, body={"channel": Channel.QR})))
    assert env.type == "rating.submit" and env.body == {"channel": 3}


def test_channels_are_the_gbt_39046_codes_with_their_texts() -> None:
    assert [int(c) for c in Channel] == [1, 2, 3, 4, 5, 6, 7]
    assert all(f"channel.{int(c)}" in TEXTS for c in Channel)


def test_reserved_tags_and_state_keys() -> None:
    assert (REASON_PENDING, KEYPAD) == RESERVED_TAGS == ("REASON_PENDING", "KEYPAD")
    assert (Key.window(3), Key.rating(3), Key.slips(3), Key.queue("A")) == ("window/3", "rating/3", "slips/3", "queue/A")
    assert (Key.CALLS, Key.FLOOR, Key.MGR) == ("calls", "floor", "mgr/")


def test_the_reply_body_is_built_in_one_place() -> None:
    env = Envelope(type=Msg.AUDIT_NOTE, node="kiosk-1", seq=1)
    refused = Applied(env, ok=False, error="wrong_pin", message="no", details={"tries_left": 2})
    assert refused.reply_body() == reply_body(env.id, ok=False, error="wrong_pin", message="no",
                                              details={"tries_left": 2})
    assert messages.reply(env, "server", ok=True, result={"n": 1}).body == Applied(env, ok=True, result={"n": 1}).reply_body()
    assert messages.busy_body(env.id, 250)["retry_after_ms"] == 250


def test_a_node_id_is_its_kind_and_its_own_part() -> None:
    assert node_id(NodeKind.KIOSK, 3) == "kiosk-3" and node_id(NodeKind.MANAGER, "boss") == "manager-boss"
    assert node_kind(node_id(NodeKind.TERMINAL, 12)) == NodeKind.TERMINAL
