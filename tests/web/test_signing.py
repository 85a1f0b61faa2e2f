"""One signing module (`hall_server.core.signing`): purposes keep tokens apart, and the QR links
already printed on slips (made by the code before this module) still verify."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from hall_server.core import qr_token
from hall_server.core.signing import BadSignature, Signer
from hall_server.web.users import User
from hall_server.web.limits import PublicLimits
from hall_server.web.pages.auth import csrf_for, make_cookie, read_cookie
from hall_server.web.pages.rater import keyed_hash

SECRET = b"k" * 32


def _old_qr_sign(secret: bytes, job_pub: str, expires_s: int) -> str:
    """The QR token exactly as the code before `hall_server.core.signing` wrote it."""
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")  # noqa: E731
    payload = f"r1:{job_pub}:{int(expires_s)}".encode("ascii")
    return f"{enc(payload)}.{enc(hmac.new(secret, payload, hashlib.sha256).digest())}"


def test_qr_token_is_byte_compatible_with_printed_slips() -> None:
    old = _old_qr_sign(SECRET, "a1b2c3d4e5f6a7b8c9d0", 1_800_000_000)
    assert qr_token.sign(SECRET, "a1b2c3d4e5f6a7b8c9d0", 1_800_000_000) == old
    assert qr_token.verify(SECRET, old, 1_700_000_000) == "a1b2c3d4e5f6a7b8c9d0"
    with pytest.raises(qr_token.TokenExpired):
        qr_token.verify(SECRET, old, 1_800_000_001)
    with pytest.raises(qr_token.TokenError):
        qr_token.verify(b"x" * 32, old, 1_700_000_000)


def test_keyed_hashes_and_csrf_unchanged() -> None:
    """Rater and address hashes stored before stay comparable; CSRF tokens of live sessions stay valid."""
    assert keyed_hash(SECRET, "rater", "abc") == hmac.new(SECRET, b"rater:abc", hashlib.sha256).hexdigest()[:32]
    assert keyed_hash(SECRET, "address", "10.0.0.1") != keyed_hash(SECRET, "rater", "10.0.0.1")
    assert csrf_for(SECRET, "00ff") == hmac.new(SECRET, b"csrf:00ff", hashlib.sha256).hexdigest()[:32]


def test_a_token_of_one_purpose_never_verifies_as_another() -> None:
    qr = qr_token.sign(SECRET, "a1b2c3d4e5f6a7b8c9d0", 1_800_000_000)
    session = make_cookie(SECRET, User("boss", "manager"), 1000)
    assert read_cookie(SECRET, qr, 1001) is None                       # a QR link is not a session
    with pytest.raises(qr_token.TokenError):
        qr_token.verify(SECRET, session, 1001)                         # a session is not a QR link
    # the same body signed for two purposes gives two tokens, neither accepted for the other
    a, b = Signer(SECRET, "session"), Signer(SECRET, "r1")
    body = "boss:manager:0:99999:00ff"
    assert a.sign(body) != b.sign(body)
    with pytest.raises(BadSignature):
        b.unsign(a.sign(body))
    # even a forged payload re-labelled with the other purpose keeps the wrong mac
    forged = base64.urlsafe_b64encode(b"r1:" + body.encode()).rstrip(b"=").decode() + "." + a.sign(body).split(".")[1]
    with pytest.raises(BadSignature):
        b.unsign(forged)
    assert Signer(SECRET, "rater").keyed_hash("x") != Signer(SECRET, "client").keyed_hash("x")


def test_client_cookie_is_not_a_rater_hash() -> None:
    limits = PublicLimits(SECRET)
    cookie = limits.new_cookie()
    ident, mac = cookie.split(".")
    assert limits.cookie_id(cookie) == ident
    assert mac != keyed_hash(SECRET, "rater", ident)[:24]
    assert limits.cookie_id(f"{ident}.{keyed_hash(SECRET, 'rater', ident)[:24]}") is None


@pytest.mark.parametrize("token", ["", "a", "a.b.c", "!!.!!", "x" * 500, "cjE6YQ.", ".AAAA"])
def test_malformed_tokens_are_bad_signatures(token: str) -> None:
    with pytest.raises(BadSignature):
        Signer(SECRET, "r1").unsign(token)


def test_purpose_and_secret_are_checked() -> None:
    with pytest.raises(ValueError):
        Signer(SECRET, "has:colon")
    with pytest.raises(ValueError):
        Signer(b"", "r1")


def _old_session_cookie(secret: bytes, payload: str) -> str:
    """The session cookie exactly as the code before `hall_server.core.signing` wrote it."""
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    return f"{enc(payload.encode())}.{enc(hmac.new(secret, payload.encode(), hashlib.sha256).digest())}"


def test_session_cookies_of_the_previous_release_stay_valid_until_they_expire() -> None:
    old = _old_session_cookie(SECRET, "boss:manager:2:44200:00112233aabbccdd")
    s = read_cookie(SECRET, old, 1001)
    assert s is not None and (s.user.name, s.user.role, s.generation, s.nonce) == ("boss", "manager", 2, "00112233aabbccdd")
    assert read_cookie(SECRET, old, 44201) is None                       # expired
    assert read_cookie(b"x" * 32, old, 1001) is None                     # another hall
    # a token of another purpose is no old session either: its payload has the purpose as a field
    assert read_cookie(SECRET, qr_token.sign(SECRET, "a1b2c3d4e5f6", 99999), 1) is None
    assert read_cookie(SECRET, Signer(SECRET, "client").sign("boss:manager:0:99999:00ff"), 1) is None
