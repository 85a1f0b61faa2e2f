"""The key registry: revoked, replaced and deleted keys are never accepted again, under any name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import zmq.auth

from hallnet import messages as m
from hallnet.keys import KeyFileError, KeyRegistry, new_node_key, parse_user_id, revoke_node_key, user_id


def _public(path: Path) -> bytes:
    return zmq.auth.load_certificate(str(path))[0]


def test_a_revoked_key_is_refused_even_under_another_name(tmp_path: Path) -> None:
    issued = new_node_key(tmp_path, "kiosk-1")
    key = _public(issued / "kiosk-1.key")
    registry = KeyRegistry(tmp_path / "keys" / "nodes")
    assert registry.node_for(key) == "kiosk-1" and registry.accepts("kiosk-1", key)
    fp = revoke_node_key(tmp_path, "kiosk-1")
    assert registry.refresh() is True
    assert registry.node_for(key) is None and not registry.accepts("kiosk-1", key)
    assert (tmp_path / "keys" / "revoked" / f"{fp}.key").exists()
    assert not (tmp_path / "keys" / "issued" / "kiosk-1.key_secret").exists()
    shutil.copyfile(tmp_path / "keys" / "revoked" / f"{fp}.key", tmp_path / "keys" / "nodes" / "kiosk-9.key")
    assert KeyRegistry(tmp_path / "keys" / "nodes").node_for(key) is None      # also after a restart
    with pytest.raises(KeyFileError):
        revoke_node_key(tmp_path, "kiosk-1")


def test_a_replaced_key_and_a_deleted_key_stay_refused(tmp_path: Path) -> None:
    old = _public(new_node_key(tmp_path, "kiosk-2") / "kiosk-2.key")
    registry = KeyRegistry(tmp_path / "keys" / "nodes")
    new = _public(new_node_key(tmp_path, "kiosk-2") / "kiosk-2.key")
    registry.refresh()
    assert registry.node_for(old) is None and registry.node_for(new) == "kiosk-2"
    three = tmp_path / "keys" / "nodes" / "kiosk-3.key"
    new_node_key(tmp_path, "kiosk-3")
    registry.refresh()
    kept = three.read_bytes()
    key3 = _public(three)
    three.unlink()
    assert registry.refresh() is True                   # a watching registry remembers it
    three.write_bytes(kept)
    registry.refresh()
    assert registry.node_for(key3) is None
    assert KeyRegistry(tmp_path / "keys" / "nodes").node_for(key3) is None


def test_user_id_carries_the_node_and_its_key() -> None:
    assert parse_user_id(user_id("kiosk-1", b"abc.-:+=^!/*?&<>()[]{}@%$#")) == ("kiosk-1", b"abc.-:+=^!/*?&<>()[]{}@%$#")
    assert parse_user_id("") == ("", b"")


def test_error_and_busy_bodies() -> None:
    assert m.error_code(m.MessageTooLarge("x")) == m.E_TOO_LARGE
    assert m.error_code(m.WrongVersion("x")) == m.E_WRONG_VERSION
    assert m.error_code(m.MalformedMessage("x")) == m.E_MALFORMED
    assert m.busy_body("r1", 250) == {"ref": "r1", "ok": False, "retry": True, "error": "busy",
                                      "message": "over quota; not stored", "retry_after_ms": 250}
    assert m.MAX_MESSAGE_BYTES < m.MAX_FRAME_BYTES
    with pytest.raises(m.MessageTooLarge):
        m.encode_plain(m.REPLY, "server", {"x": "y" * m.MAX_MESSAGE_BYTES})
