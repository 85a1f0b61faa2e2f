"""PIN hashes: round trip, and stored values that are not hashes."""

from __future__ import annotations

import pytest

from config.pins import BadPinHash, hash_pin, parse_pin_hash, verify_pin


def test_round_trip() -> None:
    stored = hash_pin("1234")
    assert verify_pin("1234", stored)
    assert not verify_pin("1235", stored)
    assert not verify_pin("", stored)


def test_salted_and_self_describing() -> None:
    assert hash_pin("1234") != hash_pin("1234")
    stored = hash_pin("1234", salt=b"0123456789abcdef")
    assert stored == hash_pin("1234", salt=b"0123456789abcdef")
    n, r, p, salt, digest = parse_pin_hash(stored)
    assert (n, r, p, salt, len(digest)) == (2**14, 8, 1, b"0123456789abcdef", 32)


def test_non_ascii_pin() -> None:
    assert verify_pin("密码𠇔", hash_pin("密码𠇔"))


@pytest.mark.parametrize("stored", [
    "",
    "1234",
    "bcrypt$16384$8$1$00$" + "00" * 32,
    "scrypt$16384$8$1$00",
    "scrypt$x$8$1$00$" + "00" * 32,
    "scrypt$16384$8$1$zz$" + "00" * 32,
    "scrypt$1000$8$1$00$" + "00" * 32,          # n not a power of two
    "scrypt$16384$0$1$00$" + "00" * 32,         # r out of range
    "scrypt$16384$8$1$$" + "00" * 32,           # no salt
    "scrypt$16384$8$1$00$" + "00" * 8,          # digest too short
])
def test_bad_hashes(stored: str) -> None:
    with pytest.raises(BadPinHash):
        parse_pin_hash(stored)
    with pytest.raises(BadPinHash):
        verify_pin("1234", stored)
