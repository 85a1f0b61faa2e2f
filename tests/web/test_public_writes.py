"""Public writes (issue #11, the web side): floods from one address are refused past per-client
and per-address limits and take no priority; a hall's citizens behind one NAT address can each
rate and comment; JSON API writes need application/json. Floods run against a real HTTP server
(uvicorn on a loopback port)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from hall_server.web.app import make_app
from hall_server.web.limits import CLIENT_COOKIE, KEY_BUDGET, WRITE_BUDGET
from tests.web.conftest import Hall
from tests.web.live_server import LiveServer

MGR_KEY = "test-manager-key"
MGR = {"X-Api-Key": MGR_KEY}
SLACK = 5          # tokens refilled while a test runs (per client: 1 per 6 s; per address: 1 per s)


@pytest.fixture
def live(hall_env: Hall):
    with LiveServer(make_app(hall_env.backend, api_keys={MGR_KEY: "manager"})) as srv:
        yield srv


def count(hall_env: Hall, sql: str, params: list[Any] | None = None) -> int:
    return hall_env.hub.reader().execute(sql, params or []).fetchone()[0]


def test_a_flood_of_500_priority_tickets_from_one_address_takes_no_priority(hall_env: Hall, live: LiveServer) -> None:
    codes: dict[int, int] = {}
    with httpx.Client(base_url=live.url) as c:
        for _ in range(500):
            c.cookies.clear()                          # a script that drops the client cookie
            r = c.post("/api/tickets", json={"category": "A", "priority": "elderly"})
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
            if r.status_code == 429:
                assert r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        assert set(codes) == {403, 429}, codes
        assert codes[403] <= WRITE_BUDGET.per_client + 1 and codes[429] >= 500 - WRITE_BUDGET.per_client - 1
        assert count(hall_env, "SELECT COUNT(*) FROM tickets") == 0          # no ticket, no priority at all
        # A script changing its User-Agent each time meets the per-address ceiling.
        made = 0
        for i in range(WRITE_BUDGET.per_address + 60):
            c.cookies.clear()
            r = c.post("/api/tickets", json={"category": "A"}, headers={"user-agent": f"bot/{i}"})
            made += r.status_code == 201
        assert WRITE_BUDGET.per_address - WRITE_BUDGET.per_client - SLACK <= made <= WRITE_BUDGET.per_address + SLACK
        assert count(hall_env, "SELECT COUNT(*) FROM tickets WHERE priority > 0") == 0
        # The staff's decision still gives a priority ticket, and it is called first.
        r = c.post("/api/tickets", json={"category": "A", "priority": "elderly"}, headers=MGR)
        assert r.status_code == 201, r.text
    hall_env.drv.sign_in(1, "1001")
    assert hall_env.drv.ok("queue.call_next", {}, "terminal-1")["priority"] == "elderly"


def test_300_comments_from_one_address_do_not_make_300_cases(hall_env: Hall, live: LiveServer) -> None:
    created = 0
    with httpx.Client(base_url=live.url) as c:
        for i in range(150):
            c.cookies.clear()
            created += c.post("/api/comments", json={"text": f"投诉 {i}"}).status_code == 201
            c.cookies.clear()
            created += c.post("/c", data={"text": f"意见 {i}"}).status_code == 200
    cases = count(hall_env, "SELECT COUNT(*) FROM cases WHERE kind = 'comment'")
    assert cases == created and cases <= WRITE_BUDGET.per_client + 1      # one client: API and page share it


def test_40_citizens_behind_one_nat_address_each_take_rate_and_comment(hall_env: Hall, live: LiveServer) -> None:
    links = [hall_env.link(hall_env.finish(window=1 + i % 2, staff_no=f"100{1 + i % 2}")["job"]) for i in range(40)]
    phones = [httpx.Client(base_url=live.url, headers={"user-agent": "Mozilla/5.0 (iPhone) MicroMessenger"})
              for _ in links]
    try:
        for phone, link in zip(phones, links):
            r = phone.get(link)
            assert r.status_code == 200 and phone.cookies.get(CLIENT_COOKIE), r.text
            r = phone.post(link, data={"level": "5"})
            assert r.status_code == 200 and "感谢" in r.text, r.text
        for i, phone in enumerate(phones):
            assert phone.get("/c").status_code == 200
            assert phone.post("/c", data={"text": f"第{i}位群众的意见"}).status_code == 200
            assert phone.post("/api/tickets", json={"category": "B"}).status_code == 201
    finally:
        for phone in phones:
            phone.close()
    assert count(hall_env, "SELECT COUNT(*) FROM ratings WHERE channel = 3") == 40
    assert count(hall_env, "SELECT COUNT(*) FROM cases WHERE kind = 'comment'") == 40
    assert count(hall_env, "SELECT COUNT(*) FROM ticket_events WHERE kind = 'taken' AND node = 'web'") == 40


def test_one_flooding_phone_does_not_lock_out_its_neighbours(hall_env: Hall, live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as flooder, httpx.Client(base_url=live.url) as neighbour:
        codes = [flooder.post("/api/comments", json={"text": "刷"}).status_code for _ in range(200)]
        assert codes.count(201) == WRITE_BUDGET.per_client and codes[-1] == 429
        assert neighbour.get("/c").status_code == 200
        assert neighbour.post("/c", data={"text": "我也有意见"}).status_code == 200


def test_text_plain_and_form_posts_to_the_json_api_are_415_and_store_nothing(hall_env: Hall) -> None:
    fin = hall_env.finish()
    token = hall_env.link(fin["job"]).removeprefix("/r/")
    app = make_app(hall_env.backend, api_keys={MGR_KEY: "manager"}, integration_keys={"biz": "bizsys-1"})
    with TestClient(app, base_url="http://hall.test") as c:
        writes: list[tuple[str, dict[str, Any], dict[str, str]]] = [
            ("/api/tickets", {"category": "A"}, {}),
            ("/api/tickets", {"category": "A"}, MGR),
            ("/api/comments", {"text": "跨站"}, {}),
            ("/api/ratings", {"token": token, "level": 5}, {}),
            ("/api/ratings/followup", {"token": token, "level": 5}, {}),
            ("/api/integration/jobs/finish", {"window": 1, "service_code": "S001", "job_no": "X1"},
             {"X-Api-Key": "biz"}),
        ]
        before = {t: count(hall_env, f"SELECT COUNT(*) FROM {t}") for t in ("tickets", "cases", "ratings", "jobs")}
        for n, (path, body, headers) in enumerate(writes):
            for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
                c.cookies.clear()                       # many cross-site victims, not one flooding client
                r = c.post(path, content=json.dumps(body).encode(),
                           headers={**headers, "content-type": ctype, "user-agent": f"victim-{n}-{ctype}"})
                assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type", (path, ctype, r.text)
        after = {t: count(hall_env, f"SELECT COUNT(*) FROM {t}") for t in ("tickets", "cases", "ratings", "jobs")}
        assert after == before
        r = c.post("/api/comments", content=b'{"text": "ok"}', headers={"content-type": "application/json; charset=utf-8"})
        assert r.status_code == 201
        doc = c.get("/api/openapi.json").json()["paths"]
        assert {"415", "429"} <= set(doc["/api/tickets"]["post"]["responses"])
        assert "Retry-After" in doc["/api/comments"]["post"]["responses"]["429"]["headers"]


def test_guessing_the_integration_key_is_rate_limited(hall_env: Hall) -> None:
    app = make_app(hall_env.backend, integration_keys={"the-real-key": "bizsys-1"})
    with TestClient(app, base_url="http://hall.test") as c:
        body = {"window": 1, "service_code": "S001", "job_no": "X"}
        codes = [c.post("/api/integration/jobs/finish", json=body, headers={"X-Api-Key": f"guess-{i}"}).status_code
                 for i in range(KEY_BUDGET.per_client + 5)]
        assert set(codes[:KEY_BUDGET.per_client]) == {401} and codes[-1] == 429


def test_the_rating_page_sets_a_long_lived_httponly_lax_client_cookie(hall_env: Hall, live: LiveServer) -> None:
    fin = hall_env.finish()
    r = httpx.get(live.url + hall_env.link(fin["job"]))
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(CLIENT_COOKIE + "=") and "HttpOnly" in cookie and re.search("samesite=lax", cookie, re.I)
    assert int(re.search(r"Max-Age=(\d+)", cookie).group(1)) > 300 * 24 * 3600   # type: ignore[union-attr]


def test_guessing_manager_keys_is_rate_limited_and_the_business_system_is_not(hall_env: Hall) -> None:
    app = make_app(hall_env.backend, api_keys={MGR_KEY: "manager"}, integration_keys={"biz-key": "bizsys-1"})
    with TestClient(app, base_url="http://hall.test") as c:
        for path in ("/api/cases", "/api/state"):
            codes = [c.get(path, headers={"X-Api-Key": f"guess-{i}"}).status_code
                     for i in range(KEY_BUDGET.per_client + 2)]
            assert codes[0] == 401 and codes[-1] == 429, (path, codes)
            c.cookies.clear()
        assert c.get("/api/cases", headers=MGR).status_code == 200
        hall_env.drv.sign_in(1, "1001")
        for i in range(WRITE_BUDGET.per_client + 5):    # the business system finishes 办件 at its own pace
            hall_env.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
            hall_env.drv.ok("queue.call_next", {}, "terminal-1")
            r = c.post("/api/integration/jobs/finish", json={"window": 1, "service_code": "S001", "job_no": f"BJ{i}"},
                       headers={"X-Api-Key": "biz-key"})
            assert r.status_code == 200, r.text
