"""Managers' sessions (issue 11): a logout and a revocation survive a restart of the real server
process; a role or password change ends the account's sessions; failed logins slow the
attacker's address, not the real user; X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from hall_server import cli
from hall_server.assembly import hall_handlers
from hall_server.core.backend import LocalBackend
from hall_server.core.hub import Hub
from hall_server.web.users import add_user, revoke_sessions, set_password, set_role
from hall_server.web.app import make_app
from hall_server.web.pages.auth import COOKIE
from hall_server.web.pages.login_guard import LoginGuard
from tests.conftest import ServerProcess
from tests.hall_server.conftest import make_config
from tests.web.conftest import MANAGER_PW, login

ATTACKER = ("203.0.113.9", 40000)
REAL_USER = ("198.51.100.7", 40001)
PROXY = ("10.0.0.2", 40002)


def _csrf(text: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', text)
    assert m, text[-400:]
    return m.group(1)


# --- a real server process: logout and revocation outlive a restart -----------------------------

def test_logout_and_revocation_survive_a_restart(server: ServerProcess) -> None:
    add_user(server.data, "duty", "manager", MANAGER_PW)
    server.start()
    with httpx.Client(base_url=server.http) as a, httpx.Client(base_url=server.http) as b:
        for c in (a, b):
            r = c.post("/login", data={"user": "duty", "password": MANAGER_PW})
            assert r.status_code == 303 and c.cookies.get(COOKIE)
        cookie_a, cookie_b = a.cookies.get(COOKIE), b.cookies.get(COOKIE)
        r = a.post("/logout", data={"csrf": _csrf(a.get("/cases").text)}, follow_redirects=False)
        assert r.status_code == 303
        assert b.get("/cases").status_code == 200               # only that session ended
    server.stop()
    server.start()
    with httpx.Client(base_url=server.http, cookies={COOKIE: cookie_a}) as old:
        r = old.get("/cases", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with httpx.Client(base_url=server.http, cookies={COOKIE: cookie_b}) as other:
        assert other.get("/cases", follow_redirects=False).status_code == 200
        assert cli.main(["users", "revoke", "duty", "--data", str(server.data)]) == 0   # a running server
        assert other.get("/cases", follow_redirects=False).status_code == 303
    server.stop()
    server.start()
    with httpx.Client(base_url=server.http, cookies={COOKIE: cookie_b}) as other:
        assert other.get("/cases", follow_redirects=False).status_code == 303


# --- in-process: role and password changes end the account's sessions --------------------------

def test_role_change_ends_the_session(hall_env, client, tmp_path: Path) -> None:
    login(client)
    assert client.get("/cases", follow_redirects=False).status_code == 200
    set_role(tmp_path, "boss", "viewer")
    r = client.get("/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    login(client)                                              # a new login carries the new role
    r = client.get("/cases")
    assert r.status_code == 200 and "boss（只读）" in r.text


def test_password_change_and_cli_end_the_sessions(hall_env, client, tmp_path: Path, capsys) -> None:
    login(client)
    set_password(tmp_path, "boss", "a-new-password-2")
    assert client.get("/floor", follow_redirects=False).status_code == 303
    assert client.post("/login", data={"user": "boss", "password": MANAGER_PW}).status_code == 401
    assert client.post("/login", data={"user": "boss", "password": "a-new-password-2"}).status_code == 200
    assert client.get("/floor", follow_redirects=False).status_code == 200
    assert cli.main(["users", "set-role", "boss", "--role", "viewer", "--data", str(tmp_path)]) == 0
    assert client.get("/floor", follow_redirects=False).status_code == 303
    assert cli.main(["users", "revoke", "nobody", "--data", str(tmp_path)]) == 2
    assert "no account" in capsys.readouterr().err
    add_user(tmp_path, "watcher", "viewer", "another-pass-3")      # replacing an account ends its sessions too
    revoke_sessions(tmp_path, "watcher")
    assert cli.main(["users", "remove", "watcher", "--data", str(tmp_path)]) == 0
    assert client.post("/login", data={"user": "watcher", "password": "another-pass-3"}).status_code == 401


# --- failed logins -------------------------------------------------------------------------------

def test_an_attackers_wrong_passwords_do_not_lock_the_real_user_out(hall_env) -> None:
    app = make_app(hall_env.backend)
    with TestClient(app, base_url="http://hall.test", client=ATTACKER) as attacker, \
            TestClient(app, base_url="http://hall.test", client=REAL_USER) as user:
        codes = [attacker.post("/login", data={"user": "boss", "password": f"guess-{i:04d}"}).status_code
                 for i in range(20)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}          # the attacker's address is slowed
        assert attacker.post("/login", data={"user": "boss", "password": MANAGER_PW}).status_code == 429
        r = user.post("/login", data={"user": "boss", "password": MANAGER_PW}, follow_redirects=False)
        assert r.status_code == 303                                           # at once, from elsewhere
        r = attacker.post("/login", data={"user": "watcher", "password": "x" * 9})
        assert r.status_code == 401                         # other accounts from that address: own log


def test_login_guard_ceilings_spare_the_usual_address() -> None:
    g = LoginGuard()
    g.succeeded("boss", "10.1.1.1", now=0)                  # the manager's desk
    for i in range(50):                                     # a fast botnet: one failure from each of 50 addresses
        assert g.wait_s("boss", f"203.0.113.{i}", now=1 + i / 100) == 0
        g.failed("boss", f"203.0.113.{i}", now=1 + i / 100)
    assert 0 < g.wait_s("boss", "203.0.113.99", now=1.5) <= 60  # then the account's gentle ceiling: slowed …
    assert g.wait_s("boss", "10.1.1.1", now=1.5) == 0           # … but the usual desk gets straight in
    for i in range(50, 60):                                     # the botnet keeps going as fast as allowed
        now = 1.5 + i * 120
        assert g.wait_s("boss", f"203.0.113.{i}", now=now) == 0
        g.failed("boss", f"203.0.113.{i}", now=now)
    assert g.wait_s("boss", "198.51.100.1", now=now + 1) <= 60  # a new address: never locked out
    assert g.wait_s("boss", "10.1.1.1", now=now + 1) == 0
    for i in range(25):                                        # spraying many accounts from one address
        g.failed(f"user{i}", "192.0.2.1", now=200 + i)
    assert g.wait_s("someone", "192.0.2.1", now=230) > 0
    assert g.wait_s("someone", "192.0.2.2", now=230) == 0


# --- X-Forwarded-For -----------------------------------------------------------------------------

@pytest.fixture
def proxied_hall(tmp_path: Path, pin_hash: str):
    config = make_config(pin_hash)
    net = dataclasses.replace(config.hall.network, trusted_proxies=(ipaddress.ip_network("10.0.0.0/29"),))
    config = dataclasses.replace(config, hall=dataclasses.replace(config.hall, network=net))
    hub = Hub(tmp_path / "hall.db", config, handlers=hall_handlers())
    add_user(tmp_path, "boss", "manager", MANAGER_PW)
    yield LocalBackend(hub)
    hub.close()


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(proxied_hall) -> None:
    app = make_app(proxied_hall)
    with TestClient(app, base_url="http://hall.test", client=PROXY) as proxy, \
            TestClient(app, base_url="http://hall.test", client=ATTACKER) as direct:
        bad = {"user": "boss", "password": "wrong-wrong"}
        for i in range(6):      # a peer that is no proxy: rotating the header does not give it new addresses
            direct.post("/login", data=bad, headers={"x-forwarded-for": f"192.0.2.{i}"})
        assert direct.post("/login", data=bad, headers={"x-forwarded-for": "192.0.2.99"}).status_code == 429
        for _ in range(5):      # through the proxy: the attacker behind it is slowed by their own address
            assert proxy.post("/login", data=bad, headers={"x-forwarded-for": "203.0.113.50"}).status_code == 401
        assert proxy.post("/login", data=bad, headers={"x-forwarded-for": "203.0.113.50"}).status_code == 429
        r = proxy.post("/login", data={"user": "boss", "password": MANAGER_PW},
                       headers={"x-forwarded-for": "203.0.113.50, 198.51.100.7"}, follow_redirects=False)
        assert r.status_code == 303       # the proxy's own client (rightmost untrusted hop) is someone else


# --- CSRF: every POST form of a signed-in page carries the token, every such route checks it -------

PUBLIC_POSTS = {"/login", "/r/{token}", "/c"}       # no session: the Origin check / the slip's link


def test_every_signed_in_post_route_and_form_is_csrf_checked(hall_env, client) -> None:
    url = hall_env.link(hall_env.finish()["job"])
    assert client.post(url, data={"level": "1", "tags": ["N02"]}).status_code == 200
    case_id = hall_env.hub.reader().execute("SELECT id FROM cases").fetchone()[0]
    csrf = login(client)
    routes = [r for r in client.app.routes if "POST" in (getattr(r, "methods", None) or ())  # type: ignore[attr-defined]
              and not r.path.startswith("/api/") and r.path not in PUBLIC_POSTS]
    admin = {"/admin/staff/new", "/admin/staff/{staff_no}", "/admin/staff/{staff_no}/active",
             "/admin/staff/{staff_no}/unlock", "/admin/staff/{staff_no}/pin_reset", "/admin/windows/{n:int}",
             "/admin/services/new", "/admin/services/{code}", "/admin/tags", "/admin/hall", "/admin/accounts/new",
             "/admin/accounts/{name}/{action}"}                       # issue 14: the 管理 pages' forms
    assert {r.path for r in routes} == {"/logout", "/cases/{case_id}/{action}", "/roster", "/roster/copy",
                                        "/roster/leave", "/roster/leave/{leave_id}/cancel",
                                        "/roster/leave/{leave_id}/decide", "/ledger/add",
                                        "/ledger/items/{item_id}/{action}", "/patrol", "/assessment/entries"} | admin
    filled = {"{staff_no}": "1001", "{n:int}": "1", "{code}": "S001", "{name}": "boss", "{action}": "role"}
    admin_paths = []
    for path in sorted(admin):
        for k, v in filled.items():
            path = path.replace(k, v)
        admin_paths.append(path)
    r = client.post("/patrol", data={"kind": "daily", "announced": "yes"}, files=[("photos", ("a.jpg", b"x", "image/jpeg"))])
    assert r.status_code == 403                                           # the multipart patrol form checks it too
    for path in ("/logout", f"/cases/{case_id}/callback", f"/cases/{case_id}/appeal", "/roster", "/roster/copy",
                 "/roster/leave", "/roster/leave/1/cancel", "/roster/leave/1/decide", "/ledger/add",
                 "/ledger/items/1/close", "/assessment/entries", *admin_paths):
        assert client.post(path, data={"note": "x", "reason": "x", "monday": "2026-11-23", "source": "other",
                                       "title": "x"}).status_code == 403, path
    for page in ("/floor", "/cases", f"/cases/{case_id}", "/figures", "/roster", "/roster/leave", "/ledger",
                 "/patrol?window=1", "/assessment"):
        html = client.get(page).text
        forms = re.findall(r'<form[^>]*method="post"[^>]*>.*?</form>', html, re.S)
        assert forms, page
        for form in forms:
            assert f'name="csrf" value="{csrf}"' in form, (page, form[:120])
