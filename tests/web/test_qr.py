"""The QR rating token and the citizen's pages (in-process, Starlette TestClient)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.core import qr_token
from hall_server.core.qr_token import TokenError, TokenExpired, sign, verify
from hall_server.core.secret import load_secret

SECRET = b"k" * 32
PUB = "0123456789abcdef0123"


# --- the token ---------------------------------------------------------------------------------

def test_token_round_trip_and_expiry() -> None:
    tok = sign(SECRET, PUB, 1_000)
    assert verify(SECRET, tok, 999) == PUB
    assert verify(SECRET, tok, 1_000) == PUB
    with pytest.raises(TokenExpired):
        verify(SECRET, tok, 1_001)


def test_token_carries_no_row_number_and_is_hmac_sha256() -> None:
    tok = sign(SECRET, PUB, 1_000)
    payload_b64, mac_b64 = tok.split(".")
    payload = base64.urlsafe_b64decode(payload_b64 + "==")
    assert payload == f"r1:{PUB}:1000".encode()
    assert base64.urlsafe_b64decode(mac_b64 + "==") == hmac.new(SECRET, payload, hashlib.sha256).digest()


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),                     # changed MAC
    lambda t: base64.urlsafe_b64encode(f"r1:{'f' * 20}:1000".encode()).rstrip(b"=").decode() + "." + t.split(".")[1],
    lambda t: base64.urlsafe_b64encode(b"r1:" + PUB.encode() + b":99999").rstrip(b"=").decode() + "." + t.split(".")[1],
    lambda t: t.split(".")[0],                                                        # no MAC
    lambda t: "",
    lambda t: t + "." + t,
    lambda t: "x" * 500,
    lambda t: "!!!.???",
    lambda t: "周𠇔.王𬀩",
])
def test_forged_tokens_are_refused(mutate) -> None:
    tok = sign(SECRET, PUB, 1_000)
    with pytest.raises(TokenError) as e:
        verify(SECRET, mutate(tok), 0)
    assert not isinstance(e.value, TokenExpired)


def test_other_halls_secret_is_refused() -> None:
    with pytest.raises(TokenError):
        verify(b"o" * 32, sign(SECRET, PUB, 1_000), 0)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_verify_never_crashes_on_garbage(text: str) -> None:
    try:
        verify(SECRET, text, 0)
    except TokenError:
        pass


def test_secret_is_created_once_and_private(tmp_path) -> None:
    a = load_secret(tmp_path)
    assert len(a) == 32 and load_secret(tmp_path) == a
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_token_lives_for_the_qr_days_plus_the_followup_time() -> None:
    assert qr_token.token_expiry_s(0, 7) == (7 + qr_token.FOLLOWUP_DAYS) * 86_400


# --- the rating page -----------------------------------------------------------------------------

def test_rating_page_shows_the_job_and_takes_a_rating(hall_env, client) -> None:
    url = hall_env.link(hall_env.finish()["job"])
    r = client.get(url)
    assert r.status_code == 200
    assert 'lang="zh-CN"' in r.text and "Noto Sans CJK SC" in r.text and "<script" not in r.text
    for text in ("测试政务服务中心", "1号窗口", "社保卡申领", "非常满意", "服务态度差"):
        assert text in r.text
    r = client.post(url, data={"level": "5", "tags": ["P01"], "text": "很好"})
    assert r.status_code == 200 and "感谢您的评价" in r.text
    row = hall_env.hub.reader().execute("SELECT channel, level, node FROM ratings").fetchone()
    assert tuple(row) == (3, 5, "qr-web")
    r = client.get(url)
    assert r.status_code == 409 and "已评价" in r.text
    r = client.post(url, data={"level": "1", "tags": ["N01"]})            # a second try: still 已评价
    assert r.status_code == 409 and "已评价" in r.text
    assert hall_env.hub.reader().execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 1


def test_one_rating_across_channels(hall_env, client) -> None:
    job = hall_env.finish()["job"]
    hall_env.drv.ok("rating.submit", {"level": 4}, "kiosk-1")            # the evaluator at the window first
    r = client.get(hall_env.link(job))
    assert r.status_code == 409 and "已评价" in r.text


def test_bad_rating_needs_a_reason_and_keeps_what_was_typed(hall_env, client) -> None:
    url = hall_env.link(hall_env.finish()["job"])
    r = client.post(url, data={"level": "2", "text": "太慢", "phone": "13800000000"})
    assert r.status_code == 422 and "请至少选择一个原因" in r.text
    assert "太慢" in r.text and "13800000000" in r.text
    r = client.post(url, data={"level": "2", "tags": ["N01", "P01"], "text": "太慢", "phone": "13800000000"})
    assert r.status_code == 200                                          # P01 does not fit level 2: dropped
    assert hall_env.hub.reader().execute("SELECT tags FROM ratings").fetchone()[0] == '["N01"]'


@pytest.mark.parametrize("data,needle", [
    ({}, "请选择评价等级"),
    ({"level": "9"}, "请选择评价等级"),
    ({"level": "abc"}, "请选择评价等级"),
    ({"level": "4", "phone": "not a phone"}, "电话号码格式不正确"),
])
def test_bad_input_gets_a_chinese_answer(hall_env, client, data, needle) -> None:
    url = hall_env.link(hall_env.finish()["job"])
    r = client.post(url, data=data)
    assert r.status_code == 422 and needle in r.text


def test_not_a_form_and_huge_forms_are_400(hall_env, client) -> None:
    url = hall_env.link(hall_env.finish()["job"])
    r = client.post(url, json={"level": 5})
    assert r.status_code == 400 and "提交内容有误" in r.text
    r = client.post(url, content=b"text=" + b"x" * 20_000, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    r = client.post(url, content=b"\xff\xfe=\xff", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400


def test_forged_expired_unknown_links(hall_env, client) -> None:
    site = hall_env.site
    r = client.get("/r/abc.def")
    assert r.status_code == 400 and "二维码无效" in r.text and "Traceback" not in r.text
    r = client.get("/r/" + sign(site.secret, PUB, int(time.time()) - 10))
    assert r.status_code == 410 and "链接已过期" in r.text
    r = client.get("/r/" + sign(site.secret, PUB, int(time.time()) + 100))
    assert r.status_code == 404 and "未找到办件" in r.text
    r = client.post("/r/abc.def", data={"level": "5"})
    assert r.status_code == 400


def test_rating_after_the_qr_days_is_refused(hall_env, client) -> None:
    res = hall_env.finish()
    hall_env.hub.submit("system.tick", {}, "system", now_ms=res["qr_expires_ms"] + 1)
    r = client.get(hall_env.link(res["job"]))
    assert r.status_code == 410 and "评价已过期" in r.text


def test_followup_after_rectification_once(hall_env, client) -> None:
    url = hall_env.link(hall_env.finish()["job"])
    assert client.post(url, data={"level": "1", "tags": ["N02"]}).status_code == 200
    case_id = hall_env.hub.reader().execute("SELECT id FROM cases").fetchone()[0]
    assert client.get(url).status_code == 409                           # not rectified yet: 已评价
    hall_env.sync()
    hall_env.drv.ok("case.callback", {"case_id": case_id}, "manager-x")
    hall_env.drv.ok("case.rectify", {"case_id": case_id, "note": "已整改"}, "manager-x")   # issue 15: a note
    r = client.get(url)
    assert r.status_code == 200 and "整改后追评" in r.text and 'name="phone"' not in r.text
    r = client.post(url, data={"level": "4"})
    assert r.status_code == 200 and "追评已提交" in r.text
    r = client.post(url, data={"level": "5"})
    assert r.status_code == 409 and "已评价" in r.text
    rounds = hall_env.hub.reader().execute("SELECT round FROM ratings ORDER BY id").fetchall()
    assert [r[0] for r in rounds] == [1, 2]


def test_qr_images(hall_env, client) -> None:
    url = hall_env.link(hall_env.finish()["job"])
    png = client.get(url + "/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    svg = client.get(url + "/qr.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content
    assert client.get(url + "/qr.gif").status_code == 404
    assert client.get("/r/abc.def/qr.png").status_code == 400            # no image for a forged link
    assert client.get("/c/qr.png").content[:4] == b"\x89PNG"


def test_hall_comment_becomes_a_case(hall_env, client) -> None:
    r = client.get("/c")
    assert r.status_code == 200 and "综合点评" in r.text
    assert client.post("/c", data={"text": "  "}).status_code == 422
    r = client.post("/c", data={"text": "卫生间没有纸 周𠇔", "phone": "13611112222"})
    assert r.status_code == 200 and "感谢您的意见" in r.text
    kind, text = hall_env.hub.reader().execute("SELECT kind, text FROM cases").fetchone()
    assert kind == "comment" and text == "卫生间没有纸 周𠇔"


def test_public_pages_are_rate_limited_per_client(hall_env, client) -> None:
    # Issue #11 changed this: the limit is per client (cookie) plus a higher per-address ceiling,
    # not 30 a minute per address (that refused a hall's citizens sharing one NAT address).
    from hall_server.web.limits import CLIENT_COOKIE, READ_BUDGET

    n = READ_BUDGET.per_client
    codes = [client.get("/c").status_code for _ in range(n + 1)]
    assert codes[:n] == [200] * n and codes[n] == 429
    assert client.cookies.get(CLIENT_COOKIE)
    r = client.get("/c")
    assert "访问过于频繁" in r.text and int(r.headers["retry-after"]) >= 1
    client.cookies.clear()                               # another phone behind the same address
    assert client.get("/c").status_code == 200


def test_unknown_pages_are_chinese_html_and_api_stays_json(client) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and "页面不存在" in r.text
    r = client.get("/api/nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert all(p.startswith("/api/") for p in client.get("/api/openapi.json").json()["paths"])   # pages stay out
