"""The JSON API: each route works, refusals are 4xx with a stable code, injection-shaped and
oversized input never gives a 500, and /api/openapi.json describes every route."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from hall_server.core.backend import LocalBackend
from hall_server.domain import jobs
from hall_server.core.hub import Hub
from hall_server.web.app import make_app

KEY = "test-integration-key"
MGR_KEY = "test-manager-key"
VIEWER_KEY = "test-viewer-key"
MGR = {"X-Api-Key": MGR_KEY}
VIEWER = {"X-Api-Key": VIEWER_KEY}


@pytest.fixture
def client(hub: Hub) -> TestClient:
    backend = LocalBackend(hub)
    app = make_app(backend, integration_keys={KEY: "bizsys-1"}, api_keys={MGR_KEY: "manager", VIEWER_KEY: "viewer"})
    with TestClient(app, raise_server_exceptions=False) as c:
        c.hub = hub  # type: ignore[attr-defined]
        yield c


def token_of(fin: dict[str, Any]) -> str:
    """The signed QR token of a finished 办件 (`qr_path`, "/r/<token>", as `served` signed it)."""
    assert fin["qr_path"].startswith("/r/")
    return fin["qr_path"][3:]


def served(client: TestClient, window: int = 1) -> dict[str, Any]:
    hub: Hub = client.hub  # type: ignore[attr-defined]
    assert hub.submit("window.sign_in", {"staff_no": f"100{window}", "pin": "1234"}, f"terminal-{window}").ok
    r = client.post("/api/tickets", json={"category": "A"})
    assert r.status_code == 201, r.text
    assert hub.submit("queue.call_next", {}, f"terminal-{window}").ok
    assert hub.submit("job.start", {}, f"terminal-{window}").ok
    fin = hub.submit("job.finish", {"service_code": "S001"}, f"terminal-{window}")
    assert fin.ok
    # the finish reply carries no QR link (only the slip printer gets it): sign it as the hub does
    return {**fin.result, **jobs.link(hub.secret, hub.config, jobs.by_pub(hub.db, fin.result["job"]))}


def test_floor_queue_and_ticket(client: TestClient) -> None:
    # Issue #11 changed this: a priority ticket needs a manager; a ticket is looked up by its public id.
    r = client.post("/api/tickets", json={"category": "B", "priority": "elderly"})
    assert r.status_code == 403 and r.json()["error"] == "priority_not_allowed"
    r = client.post("/api/tickets", json={"category": "B", "priority": "green"}, headers=VIEWER)   # read-only role
    assert r.status_code == 403 and r.json()["error"] == "priority_not_allowed"
    t = client.post("/api/tickets", json={"category": "B", "priority": "elderly"}, headers=MGR).json()
    assert t["ticket"] == "B001" and t["priority"] == "elderly"
    floor = client.get("/api/floor").json()
    assert [w["window"] for w in floor["windows"]] == [1, 2, 3, 4]
    assert {q["category"]: q["waiting"] for q in floor["queues"]}["B"] == 1
    q = client.get("/api/queue", params={"category": "B"}).json()
    assert q["waiting"][0]["no"] == "B001" and "id" not in q["waiting"][0]
    got = client.get(f"/api/tickets/{t['ticket_id']}", headers=VIEWER).json()
    assert got["timeline"][0]["kind"] == "taken"
    assert client.get(f"/api/tickets/{t['ticket_id']}").status_code == 404      # the row id is not public
    mine = client.post("/api/tickets", json={"category": "B"}).json()
    assert "ticket_id" not in mine and len(mine["public_id"]) == 20
    status = client.get(f"/api/tickets/{mine['public_id']}").json()
    assert status == {"ticket": "B002", "category": "B", "category_name": status["category_name"],
                      "status": "waiting", "ahead": 1, "window": None,
                      "wait_min_minutes": status["wait_min_minutes"], "wait_max_minutes": status["wait_max_minutes"]}
    assert client.get("/api/tickets/999").status_code == 404
    assert client.get("/api/tickets/" + "0" * 20).status_code == 404
    assert client.post("/api/tickets", json={"category": "Z"}).json()["error"] == "unknown_category"


def test_rating_through_the_api_and_one_rating_only(client: TestClient) -> None:
    fin = served(client)
    tok = token_of(fin)
    r = client.post("/api/ratings", json={"token": tok, "level": 2})
    assert r.status_code == 409 and r.json()["error"] == "tag_required" and r.json()["details"] == {"level": 2}
    r = client.post("/api/ratings", json={"token": tok, "level": 2, "tags": ["N02"], "phone": "13812345678",
                                          "text": "等太久"})
    assert r.status_code == 201 and r.json()["case_id"]
    again = client.post("/api/ratings", json={"token": tok, "level": 5})
    assert again.status_code == 409 and again.json()["error"] == "already_rated"
    job = client.get(f"/api/jobs/{fin['job']}", headers=VIEWER).json()
    assert job["rating"] == "rated" and job["ratings"][0]["phone"] == "138****5678"
    assert job["ratings"][0]["channel"] == 3
    assert client.get("/api/jobs", params={"window": 1}, headers=VIEWER).json()["jobs"][0]["pub"] == fin["job"]
    cases = client.get("/api/cases", headers=VIEWER).json()["cases"]
    assert cases[0]["phone"] == "138****5678" and cases[0]["text"] == "***"
    cid = cases[0]["id"]
    assert client.get(f"/api/cases/{cid}", headers=VIEWER).json()["phone"] == "138****5678"
    assert client.get(f"/api/cases/{cid}", headers=MGR).json()["phone"] == "13812345678"   # the manager handling it
    assert client.post(f"/api/cases/{cid}/callback", json={"note": "已回访"}, headers=MGR).json()["status"] == "called_back"
    assert client.post(f"/api/cases/{cid}/rectify", json={"note": "已整改"}, headers=MGR).json()["status"] == "rectified"
    f = client.post("/api/ratings/followup", json={"token": tok, "level": 4})
    assert f.status_code == 201
    assert client.get(f"/api/cases/{cid}", headers=MGR).json()["status"] == "closed"
    assert client.post("/api/comments", json={"text": "空调太冷"}).status_code == 201


def test_ratings_need_the_signed_qr_token_never_a_bare_job_id(client: TestClient) -> None:
    fin = served(client)
    r = client.post("/api/ratings", json={"job": fin["job"], "level": 5, "channel": 3})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = client.post("/api/ratings", json={"level": 5})
    assert r.status_code == 400 and "token" in r.json()["message"]
    forged = token_of(fin)[:-2] + ("AA" if not token_of(fin).endswith("AA") else "BB")
    r = client.post("/api/ratings", json={"token": forged, "level": 5})
    assert r.status_code == 400 and r.json()["error"] == "bad_token"
    r = client.post("/api/ratings/followup", json={"job": fin["job"], "level": 5, "channel": 2})
    assert r.status_code == 400
    for ch in (3, 4):         # the channel is the QR code's, never the caller's choice
        r = client.post("/api/ratings", json={"token": token_of(fin), "level": 5, "channel": ch})
        assert r.status_code == 400
    assert client.post("/api/ratings", json={"token": fin["qr_path"], "level": 5}).status_code == 201  # "/r/…" too
    hub: Hub = client.hub  # type: ignore[attr-defined]
    assert hub.db.execute("SELECT channel FROM ratings").fetchall() == [(3,)]


def test_expired_qr_token_is_410(client: TestClient) -> None:
    from hall_server.core import qr_token

    hub: Hub = client.hub  # type: ignore[attr-defined]
    fin = served(client)
    old = qr_token.sign(hub.secret, fin["job"], 1_000)
    r = client.post("/api/ratings", json={"token": old, "level": 5})
    assert r.status_code == 410 and r.json()["error"] == "token_expired"


def test_case_routes_need_a_manager_and_viewers_only_read(client: TestClient) -> None:
    fin = served(client)
    assert client.post("/api/ratings", json={"token": token_of(fin), "level": 1, "tags": ["N01"],
                                             "phone": "13812345678"}).status_code == 201
    cid = client.get("/api/cases", headers=MGR).json()["cases"][0]["id"]
    for path in ("/api/cases", f"/api/cases/{cid}", "/api/jobs", f"/api/jobs/{fin['job']}"):
        r = client.get(path)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized", path
        assert "X-Api-Key" in r.json()["message"]
        assert client.get(path, headers={"X-Api-Key": "wrong"}).status_code == 401
        assert client.get(path, headers=VIEWER).status_code == 200
    for action, body in (("callback", {}), ("rectify", {}), ("close", {}), ("appeal", {"reason": "恶意"}),
                         ("decide", {"upheld": False})):
        r = client.post(f"/api/cases/{cid}/{action}", json=body)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized", action
        r = client.post(f"/api/cases/{cid}/{action}", json=body, headers=VIEWER)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", action
        assert "viewer" in r.json()["message"]
        r = client.post(f"/api/cases/{cid}/{action}", json=body, headers={"X-Api-Key": KEY})   # integration key
        assert r.status_code == 401, action
    r = client.post(f"/api/cases/{cid}/callback", json={}, headers=MGR)
    assert r.status_code == 200
    r = client.post(f"/api/cases/{cid}/callback", json={}, headers=MGR)
    assert r.status_code == 409 and r.json()["details"] == {"case_id": cid, "status": "called_back"}
    hub: Hub = client.hub  # type: ignore[attr-defined]
    assert hub.db.execute("SELECT node FROM case_events WHERE kind = 'callback'").fetchone()[0] == "manager-api"


def test_case_routes_with_the_web_session(client: TestClient, tmp_path: Any) -> None:
    from hall_server.web.users import add_user

    fin = served(client)
    client.post("/api/ratings", json={"token": token_of(fin), "level": 1, "tags": ["N01"], "phone": "13812345678"})
    cid = client.get("/api/cases", headers=MGR).json()["cases"][0]["id"]
    hub: Hub = client.hub  # type: ignore[attr-defined]
    add_user(hub.db_path.parent, "boss", "manager", "manager-pass-1")
    add_user(hub.db_path.parent, "watcher", "viewer", "viewer-pass-1")
    assert client.post("/login", data={"user": "watcher", "password": "viewer-pass-1"},
                       follow_redirects=False).status_code == 303
    assert client.get(f"/api/cases/{cid}").json()["phone"] == "138****5678"
    r = client.post(f"/api/cases/{cid}/callback", json={})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    client.cookies.clear()
    assert client.post("/login", data={"user": "boss", "password": "manager-pass-1"},
                       follow_redirects=False).status_code == 303
    assert client.get(f"/api/cases/{cid}").json()["phone"] == "13812345678"
    r = client.post(f"/api/cases/{cid}/callback", content=b'{}', headers={"content-type": "text/plain"})
    assert r.status_code == 403        # a cross-site form could send text/plain: a session POST must be JSON
    r = client.post(f"/api/cases/{cid}/callback", json={}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.post(f"/api/cases/{cid}/callback", json={"note": "已回访"})
    assert r.status_code == 200, r.text
    assert hub.db.execute("SELECT node FROM case_events WHERE kind = 'callback'").fetchone()[0] == "manager-boss"


def test_rating_counts_only_for_managers(client: TestClient) -> None:
    fin = served(client)
    client.post("/api/ratings", json={"token": token_of(fin), "level": 1, "tags": ["N01"]})
    public = client.get("/api/floor").json()["summary"]
    assert public["served_today"] == 1 and "bad_today" not in public and "rated_today" not in public
    mine = client.get("/api/floor", headers=VIEWER).json()["summary"]
    assert mine["bad_today"] == 1 and mine["open_cases"] == 1
    state = client.get("/api/state").json()["state"]
    assert "floor" in state and not any(k.startswith("mgr/") for k in state)
    assert client.get("/api/state", headers=VIEWER).json()["state"]["mgr/floor"]["bad_today"] == 1
    assert client.get("/api/state", headers={"X-Api-Key": "wrong"}).status_code == 401


def test_integration_finishes_with_the_business_system_job_no(client: TestClient) -> None:
    hub: Hub = client.hub  # type: ignore[attr-defined]
    hub.submit("window.sign_in", {"staff_no": "1001", "pin": "1234"}, "terminal-1")
    client.post("/api/tickets", json={"category": "A"})
    hub.submit("queue.call_next", {}, "terminal-1")
    body = {"window": 1, "service_code": "S002", "job_no": "BJ2026112300042"}
    assert client.post("/api/integration/jobs/finish", json=body).status_code == 401
    assert client.post("/api/integration/jobs/finish", json=body, headers={"X-Api-Key": "nope"}).status_code == 401
    r = client.post("/api/integration/jobs/finish", json=body, headers={"X-Api-Key": KEY})
    assert r.status_code == 200, r.text
    assert r.json()["job_no"] == "BJ2026112300042" and r.json()["job_no_source"] == "system"
    r = client.post("/api/integration/jobs/finish", json=body, headers={"X-Api-Key": KEY})
    assert r.status_code == 409 and r.json()["error"] == "not_serving"
    # the business system can never rate
    job = r = client.get("/api/jobs", headers=VIEWER).json()["jobs"][0]["pub"]
    assert not hub.submit("rating.submit", {"job": job, "level": 5, "channel": 3}, "bizsys-1").ok


def test_figures_and_assessment_routes(client: TestClient) -> None:
    served(client)
    from hallnet.messages import now_ms
    from hall_server.domain.hours import day_of
    day = day_of(now_ms(), client.hub.config)  # type: ignore[attr-defined]
    assert client.get("/api/figures", params={"from": day, "to": day}).status_code == 401
    client.headers.update(VIEWER)
    rows = client.get("/api/figures", params={"from": day, "to": day, "by": "window"}).json()["rows"]
    assert rows[0]["finished"] == 1
    for path in ("/api/figures/heatmap", "/api/figures/cases", "/api/figures/attendance"):
        assert client.get(path, params={"from": day, "to": day}).status_code == 200
    assert client.get(f"/api/assessment/{day[:7]}").json()["month"] == day[:7]
    assert client.get("/api/figures", params={"from": day, "to": day, "by": "nope"}).status_code == 400
    assert client.get("/api/figures", params={"from": "2026-13-01", "to": day}).status_code == 400
    assert client.get("/api/figures").status_code == 400
    assert client.get("/api/assessment/20xx-1").status_code == 400


def test_openapi_describes_every_route(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    app_paths = {r.path for r in client.app.routes if r.path.startswith("/api/")}  # type: ignore[attr-defined]
    assert app_paths <= set(doc["paths"])
    post = doc["paths"]["/api/ratings"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["required"] == ["token", "level"]
    assert "job" not in post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert doc["paths"]["/api/cases/{case_id}/callback"]["post"]["security"] == [{"managerKey": []}, {"session": []}]
    assert "403" in doc["paths"]["/api/cases/{case_id}/decide"]["post"]["responses"]
    assert any(p["name"] == "by" for p in doc["paths"]["/api/figures"]["get"]["parameters"])
    assert doc["paths"]["/api/integration/jobs/finish"]["post"]["security"] == [{"apiKey": []}]


NASTY: list[Any] = [
    "' OR 1=1 --", "1; DROP TABLE ratings", "\x00", "../../etc/passwd", "<script>alert(1)</script>",
    "𠀀" * 5000, "A" * 100_000, -1, 10**30, 1.5, True, None, [], {"$gt": ""}, [[[[[[]]]]]],
]


def _paths(client: TestClient) -> list[tuple[str, str]]:
    doc = client.get("/api/openapi.json").json()
    out = []
    for path, methods in doc["paths"].items():
        for m in methods:
            out.append((m.upper(), path))
    return out


def _fill(path: str, value: str) -> str:
    for name in ("{ticket}", "{job}", "{case_id}", "{month}"):
        path = path.replace(name, value)
    return path


def test_injection_and_oversized_input_on_every_route(client: TestClient) -> None:
    fin = served(client)
    client.post("/api/ratings", json={"token": token_of(fin), "level": 1, "tags": ["N01"]})
    headers = MGR
    path_values = ["' OR 1=1 --", "1%20OR%201=1", "%00", "9" * 40, "-1", "𠀀", "x" * 5000]
    for method, path in _paths(client):
        headers = {"X-Api-Key": KEY} if path.startswith("/api/integration/") else MGR
        for pv in path_values:
            url = _fill(path, pv)
            r = client.request(method, url, json={}, headers=headers)
            assert r.status_code < 500, (method, url, r.status_code, r.text)
        base = _fill(path, "1")
        # query strings
        for v in ("' OR 1=1 --", "1; DROP TABLE ratings", "\x00", "../../etc/passwd", "<script>", "𠀀" * 300,
                  "A" * 2000, "-1", "9" * 30, "2026-02-30"):
            params = {k: v for k in ("from", "to", "by", "window", "day", "status", "kind", "limit", "offset",
                                     "category", "overdue")}
            r = client.request(method, base, params=params, headers=headers)
            assert r.status_code < 500, (method, base, v[:20], r.status_code, r.text[:200])
        if method != "POST":
            continue
        # bodies: every field of the route's schema and some unknown ones, with every nasty value
        fields = ["category", "priority", "job", "level", "channel", "tags", "text", "phone", "note", "reason",
                  "upheld", "window", "service_code", "job_no", "efficiency", "token", "__proto__"]
        for value in NASTY:
            for f in fields:
                r = client.post(base, json={f: value, "level": 5, "token": token_of(fin), "window": 1,
                                            "service_code": "S001", "job_no": "X", "category": "A", "text": "x",
                                            "upheld": True, "reason": "r"} | {f: value}, headers=headers)
                assert r.status_code < 500, (base, f, str(value)[:20], r.status_code, r.text[:200])
        for raw in (b"", b"not json", b"[1,2]", b"{" * 5000, b'{"a": NaN}', b"\xff\xfe", b"x" * 20_000,
                    json.dumps({"text": "长" * 10_000}).encode()):
            r = client.post(base, content=raw, headers={**headers, "content-type": "application/json"})
            assert 400 <= r.status_code < 500, (base, raw[:20], r.status_code, r.text[:200])
    # nothing was damaged
    hub: Hub = client.hub  # type: ignore[attr-defined]
    assert hub.db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 1
