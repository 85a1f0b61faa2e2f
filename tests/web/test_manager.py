"""The managers' side in-process: login, sessions, CSRF, throttling, roles, masking (R6), the
floor's data and alerts, cases forms, figures and exports."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from xml.etree import ElementTree as ET

import pytest

from hall_server import cli
from hall_server.web.users import UserError, add_user, check_password, list_users
from hall_server.web.pages.auth import COOKIE, make_cookie, read_cookie
from hall_server.web.pages.exports import to_csv, to_xlsx
from hall_server.web.pages.floor_page import floor_view, render_floor
from hall_server.web.pages.site import LoginThrottle, RateLimiter
from hall_server.web.users import User
from tests.web.conftest import MANAGER_PW, VIEWER_PW, login

NS = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


# --- accounts and sessions -------------------------------------------------------------------

def test_users_are_hashed_and_checked(tmp_path) -> None:
    pw = add_user(tmp_path, "ops", "viewer")
    raw = (tmp_path / "users.json").read_text()
    assert pw not in raw and "scrypt$" in raw
    assert check_password(tmp_path, "ops", pw) == User("ops", "viewer")
    assert check_password(tmp_path, "ops", pw + "x") is None
    assert check_password(tmp_path, "nobody", pw) is None
    assert [u.name for u in list_users(tmp_path)] == ["ops"]
    for name, role, p in (("bad name", "viewer", "longenough"), ("x", "root", "longenough"), ("x", "viewer", "short")):
        with pytest.raises(UserError):
            add_user(tmp_path, name, role, p)


def test_users_cli(tmp_path, capsys) -> None:
    assert cli.main(["users", "add", "duty", "--role", "manager", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    pw = out.split("password: ")[1].strip()
    assert check_password(tmp_path, "duty", pw) == User("duty", "manager")
    assert cli.main(["users", "list", "--data", str(tmp_path)]) == 0
    assert "duty\tmanager" in capsys.readouterr().out


def test_session_cookie_is_signed_and_expires() -> None:
    secret = b"s" * 32
    value = make_cookie(secret, User("boss", "manager"), 1000)
    s = read_cookie(secret, value, 1001)
    assert s is not None and s.user == User("boss", "manager") and len(s.csrf) == 32
    assert read_cookie(secret, value, 1000 + 13 * 3600) is None
    assert read_cookie(b"o" * 32, value, 1001) is None
    payload, mac = value.split(".")
    import base64
    forged = base64.urlsafe_b64encode(b"boss:manager:99999999999:00").rstrip(b"=").decode() + "." + mac
    assert read_cookie(secret, forged, 1001) is None
    assert read_cookie(secret, "garbage", 1001) is None


def test_login_sets_a_strict_httponly_cookie(client) -> None:
    assert client.get("/floor", follow_redirects=False).headers["location"].startswith("/login")
    r = client.post("/login", data={"user": "boss", "password": MANAGER_PW}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/floor"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and COOKIE in cookie
    assert client.get("/floor").status_code == 200


def test_login_next_is_only_local(client) -> None:
    r = client.post("/login", data={"user": "boss", "password": MANAGER_PW, "next": "//evil.example/x"},
                    follow_redirects=False)
    assert r.headers["location"] == "/floor"


def test_failed_logins_are_throttled(client) -> None:
    for _ in range(5):
        r = client.post("/login", data={"user": "boss", "password": "wrong-wrong"})
        assert r.status_code == 401 and "用户名或密码错误" in r.text
    r = client.post("/login", data={"user": "boss", "password": MANAGER_PW})      # even the right one waits
    assert r.status_code == 429 and "登录失败次数过多" in r.text


def test_throttle_and_limiter_clocks() -> None:
    th = LoginThrottle(free=2, window_s=100, base_s=10, max_s=40)
    assert th.wait_s("k", 0) == 0
    th.failed("k", 0), th.failed("k", 1)
    assert th.wait_s("k", 1) == pytest.approx(10)
    assert th.wait_s("k", 12) == 0
    th.failed("k", 12)
    assert th.wait_s("k", 12) == pytest.approx(20)
    assert th.wait_s("k", 500) == 0                        # old failures are forgotten
    lim = RateLimiter(2, 10)
    assert lim.allow("ip", 0) and lim.allow("ip", 1) and not lim.allow("ip", 2) and lim.allow("ip", 10.5)


def test_logout_needs_the_csrf_token(client) -> None:
    csrf = login(client)
    assert client.post("/logout", data={}).status_code == 403
    old_cookie = client.cookies.get(COOKIE)
    r = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and COOKIE in r.headers["set-cookie"]
    client.cookies.set(COOKIE, old_cookie)                                     # a copied cookie is dead too
    assert client.get("/floor", follow_redirects=False).status_code == 303


# --- cases: CSRF, roles, masking ----------------------------------------------------------------

def _bad_case(hall_env, client) -> int:
    url = hall_env.link(hall_env.finish()["job"])
    assert client.post(url, data={"level": "1", "tags": ["N01"], "text": "态度差 王𬀩", "phone": "13812345678"}).status_code == 200
    return hall_env.hub.reader().execute("SELECT MAX(id) FROM cases").fetchone()[0]


def test_case_forms_are_csrf_protected(hall_env, client) -> None:
    case_id = _bad_case(hall_env, client)
    csrf = login(client)
    assert client.post(f"/cases/{case_id}/callback", data={"note": "x"}).status_code == 403
    assert client.post(f"/cases/{case_id}/callback", data={"csrf": "0" * 32}).status_code == 403
    r = client.post(f"/cases/{case_id}/callback", data={"csrf": csrf}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    # issue 15: a call-back records its outcome; without it the form comes back with a clear error
    r = client.post(f"/cases/{case_id}/callback", data={"csrf": csrf, "note": "已回访"}, follow_redirects=False)
    assert r.status_code == 422 and "是否联系上" in r.text and "已回访" in r.text       # the note is kept
    r = client.post(f"/cases/{case_id}/callback", data={"csrf": csrf, "note": "已回访", "reached": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/cases/{case_id}/callback", data={"csrf": csrf, "reached": "no"})   # twice: refused, clearly
    assert r.status_code == 409 and "操作未成功" in r.text
    assert client.post("/cases/999/callback", data={"csrf": csrf}).status_code == 404
    assert client.post(f"/cases/{case_id}/explode", data={"csrf": csrf}).status_code == 404
    assert client.get("/cases/abc").status_code == 404


def test_case_to_closed_with_appeal(hall_env, client) -> None:
    # issue 15: the call-back records its outcome, rectify and close need a note, and the manager who
    # raised the appeal cannot decide it (another one does)
    case_id = _bad_case(hall_env, client)
    add_user(hall_env.site.data_dir, "chief", "manager", "chief-pass-1")
    csrf = login(client)
    for action, extra in (("callback", {"reached": "yes", "satisfied": "no", "words": "等太久"}),
                          ("rectify", {"note": "批评教育"}), ("appeal", {"reason": "恶意评价"})):
        r = client.post(f"/cases/{case_id}/{action}", data={"csrf": csrf, **extra}, follow_redirects=False)
        assert r.status_code == 303, (action, r.text[-500:])
    r = client.post(f"/cases/{case_id}/decide", data={"csrf": csrf, "upheld": "yes"}, follow_redirects=False)
    assert r.status_code == 409 and "其他管理员" in r.text
    assert client.post(f"/cases/{case_id}/close", data={"csrf": csrf}).status_code == 422
    client.cookies.clear()
    csrf = login(client, "chief", "chief-pass-1")
    for action, extra in (("decide", {"upheld": "yes", "note": "监控证实"}), ("close", {"note": "整改到位"})):
        r = client.post(f"/cases/{case_id}/{action}", data={"csrf": csrf, **extra}, follow_redirects=False)
        assert r.status_code == 303, (action, r.text[-500:])
    row = hall_env.hub.reader().execute("SELECT status, appeal, excluded FROM cases WHERE id = ?", [case_id]).fetchone()
    assert tuple(row) == ("closed", "upheld", 1)
    page = client.get(f"/cases/{case_id}").text
    for word in ("回访", "整改", "申诉", "申诉成立", "办结"):
        assert word in page
    assert "已联系上" in page and "等太久" in page and "管理员 boss" in page and "管理员 chief" in page
    assert "manager-boss" not in page
    client.cookies.clear()
    login(client, "watcher", VIEWER_PW)
    seen = client.get(f"/cases/{case_id}").text
    assert "已联系上" in seen and "等太久" not in seen                     # the citizen's words are private (R6)
    client.cookies.clear()
    csrf = login(client, "chief", "chief-pass-1")
    assert client.post(f"/cases/{case_id}/appeal", data={"csrf": csrf, "reason": " "}).status_code == 422


def test_phone_and_text_only_on_the_managers_case_page(hall_env, client) -> None:
    case_id = _bad_case(hall_env, client)
    login(client)
    lst = client.get("/cases").text
    assert "138****5678" in lst and "13812345678" not in lst and "态度差 王𬀩" not in lst
    page = client.get(f"/cases/{case_id}").text
    assert "13812345678" in page and "态度差 王𬀩" in page
    assert "13812345678" not in client.get("/floor/data").text
    exp = client.get("/figures/export.csv?table=ratings").content.decode("utf-8-sig")
    assert "13812345678" not in exp and "态度差 王𬀩" not in exp
    client.cookies.clear()
    login(client, "watcher", VIEWER_PW)
    page = client.get(f"/cases/{case_id}").text
    assert "13812345678" not in page and "138****5678" in page and "态度差 王𬀩" not in page
    assert 'action="/cases/' not in page                                         # a viewer gets no forms


def test_viewer_cannot_post(hall_env, client) -> None:
    case_id = _bad_case(hall_env, client)
    csrf = login(client, "watcher", VIEWER_PW)
    r = client.post(f"/cases/{case_id}/callback", data={"csrf": csrf})
    assert r.status_code == 403 and "无权操作" in r.text


# --- the floor ----------------------------------------------------------------------------------

def test_floor_shows_windows_queue_and_alerts(hall_env, client) -> None:
    now = int(time.time() * 1000)
    d = hall_env.drv
    d.ok("window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-2", now=now - 45 * 60_000)
    d.ok("window.pause", {"reason": "临时离开"}, "terminal-2")                  # paused 45 min: 离岗
    d.ok("queue.take", {"category": "B"}, "dispenser-1", now=now - 40 * 60_000)   # waiting 40 min
    hall_env.sync()
    for level in (5, 5, 4, 1, 5):                                              # 1 of 5 bad = 20 %
        hall_env.finish()
        body = {"level": level} if level > 2 else {"level": level, "tags": ["N01"]}
        d.ok("rating.submit", body, "kiosk-1")
    v = floor_view(hall_env.site)
    w = {x["window"]: x for x in v["windows"]}
    assert w[1]["served_today"] == 5 and w[1]["good_rate"] == 0.8 and w[1]["staff"]["name"] == "张三"
    assert w[2]["state"] == "paused" and w[2]["staff"]["name"] == "李𠀀"
    q = {x["category"]: x for x in v["queues"]}
    assert q["B"]["waiting"] == 1 and q["B"]["longest_wait_min"] >= 39
    kinds = {a["kind"] for a in v["alerts"]}
    assert {"wait", "away", "bad", "bad_rate"} <= kinds, v["alerts"]
    html = render_floor(hall_env.site, v)
    assert "等候超时" in html and "离岗" in html and "差评率" in html and "李𠀀" in html
    login(client)
    assert client.get("/floor/data").json()["windows"][0]["window"] == 1
    page = client.get("/floor").text
    assert "EventSource" in page and "noscript" in page
    # today's rating counts come from the server-private `mgr/floor`, never from the published `floor`
    assert "bad_today" not in hall_env.hub.state.get("floor")
    summary = client.get("/floor/data").json()["summary"]
    assert (summary["served_today"], summary["rated_today"], summary["bad_today"], summary["open_cases"]) == (5, 5, 1, 1)


def test_floor_needs_login(client) -> None:
    assert client.get("/floor/data", follow_redirects=False).status_code == 303
    assert client.get("/floor/events", headers={"accept": "text/event-stream"}).status_code == 401


# --- figures and exports -------------------------------------------------------------------------

def test_figures_page_and_exports(hall_env, client) -> None:
    hall_env.finish()
    hall_env.drv.ok("rating.submit", {"level": 5}, "kiosk-1")
    login(client, "watcher", VIEWER_PW)
    page = client.get("/figures").text
    for word in ("每日趋势", "分时段热力图", "窗口统计", "人员统计", "窗口月度考核", "优质服务窗口", "张三"):
        assert word in page
    r = client.get("/figures/export.csv?table=window")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["窗口", "办件量", "评价数"] and rows[1][0] == "1 1号窗口"
    r = client.get("/figures/export.xlsx?table=assessment_staff")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.testzip() is None
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    texts = [t.text for t in sheet.iter("{%s}t" % NS["s"])]
    assert "工作人员" in texts and "张三（1001）" in texts
    assert client.get("/figures/export.csv?table=ratings").status_code == 200
    assert client.get("/figures/export.pdf?table=window").status_code == 404
    assert client.get("/figures/export.csv?table=secret").status_code == 404
    assert client.get("/figures?start=2026-13-01").status_code == 400
    assert client.get("/figures?start=2026-11-02&end=2026-11-01").status_code == 400
    assert client.get("/figures?month=junk").status_code == 400


def test_exports_keep_rare_characters_and_defuse_formulas() -> None:
    data = to_csv(["姓名", "内容"], [["周𠇔", "=HYPERLINK(\"x\")"], ["王𬀩", 3]])
    text = data.decode("utf-8-sig")
    assert "周𠇔" in text and "'=HYPERLINK" in text and text.endswith("\r\n")
    x = to_xlsx("表[1]", ["姓名", "数"], [["韩㛃", 1.5], ["bad\x01char", None]])
    with zipfile.ZipFile(io.BytesIO(x)) as z:
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
        wb = z.read("xl/workbook.xml").decode()
    assert 'name="表1"' in wb
    values = [v.text for v in sheet.iter("{%s}v" % NS["s"])]
    assert values == ["1.5"]
    assert "韩㛃" in [t.text for t in sheet.iter("{%s}t" % NS["s"])]


def test_floor_alerts_for_offline_devices_and_vacant_windows(hall_env, monkeypatch) -> None:
    from datetime import datetime, time as dtime

    from tests.hall_server.conftest import TZ

    monkeypatch.setattr(hall_env.backend, "presence", lambda: {
        "kiosk-1": {"alive": True, "silent_s": 0.4}, "terminal-3": {"alive": False, "silent_s": 42.0}})
    day = datetime.now(TZ).date()
    ten = int(datetime.combine(day, dtime(10, 0), tzinfo=TZ).timestamp() * 1000)
    hall_env.hub.submit("system.tick", {}, "system", now_ms=ten)            # windows unstaffed since 09:00: 空岗
    hall_env.site.hall_clock = lambda: ten
    v = floor_view(hall_env.site)
    texts = [a["text"] for a in v["alerts"]]
    assert any("3号窗口终端离线" in t for t in texts) and not any("terminal-3" in t for t in texts), texts
    assert any("空岗" in t for t in texts), texts
    w = {x["window"]: x for x in v["windows"]}
    assert w[1]["devices"] == [{"node": "kiosk-1", "alive": True, "silent_s": 0.4, "label": "1号窗口评价器"}]
    assert w[3]["devices"][0]["alive"] is False
