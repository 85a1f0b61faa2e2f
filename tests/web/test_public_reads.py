"""Public reads (issue #11, the web side): a citizen sees their own ticket by its unguessable id
and nothing about other citizens; /api/state and /api/nodes without a login carry only what a
citizen may see — never a rating key, a signed link, a ticket or 办件 id."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from hall_server.core.backend import LocalBackend
from hall_server.web.app import make_app
from hall_server.web.public_state import public_state
from tests.web.conftest import Hall

MGR = {"X-Api-Key": "k-manager"}
KEYS = {"k-manager": "manager"}


class PresentBackend(LocalBackend):
    """A LocalBackend whose nodes are connected (as the bus would report them)."""

    def presence(self) -> dict[str, dict[str, Any]]:
        return {"terminal-1": {"alive": True, "silent_s": 0.2, "version": "1.4.2"},
                "kiosk-1": {"alive": False, "silent_s": 40.0, "version": "1.4.2"}}


def test_ticket_status_by_public_id_shows_only_that_ticket(hall_env: Hall) -> None:
    with TestClient(make_app(hall_env.backend, api_keys=KEYS), base_url="http://hall.test") as c:
        other = c.post("/api/tickets", json={"category": "A"}).json()
        c.cookies.clear()
        mine = c.post("/api/tickets", json={"category": "A"}).json()
        assert set(mine) == {"ticket", "public_id", "category", "priority", "waiting_before", "taken_ms"}
        status = c.get(f"/api/tickets/{mine['public_id']}").json()
        assert status == {"ticket": "A002", "category": "A", "category_name": "社保医保", "status": "waiting",
                          "ahead": 1, "window": None}
        assert other["ticket"] not in json.dumps(status, ensure_ascii=False)
        hall_env.drv.sign_in(1, "1001")
        hall_env.drv.ok("queue.call_next", {}, "terminal-1")
        assert c.get(f"/api/tickets/{mine['public_id']}").json()["ahead"] == 0
        hall_env.drv.ok("queue.no_show", {}, "terminal-1")
        hall_env.drv.ok("queue.call_next", {}, "terminal-1")
        called = c.get(f"/api/tickets/{mine['public_id']}").json()
        assert called["status"] == "called" and called["window"] == 1 and called["ahead"] is None
        for guess in ("1", "2", mine["public_id"][:-1] + "0", "A002", "x" * 40):
            if guess != mine["public_id"]:
                assert c.get(f"/api/tickets/{guess}").status_code == 404, guess
        full = c.get("/api/tickets/2", headers=MGR).json()                      # managers: by row id, with timeline
        assert full["pub"] == mine["public_id"] and full["timeline"][0]["kind"] == "taken"


def test_unauthenticated_state_has_no_rating_key_token_or_link(hall_env: Hall) -> None:
    fin = hall_env.finish(window=1)                      # an open rating at window 1: rating/1 holds the slip link
    hall_env.drv.sign_in(2, "1002")
    hall_env.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall_env.drv.ok("queue.call_next", {}, "terminal-2")
    hall_env.drv.ok("job.start", {}, "terminal-2")
    with TestClient(make_app(hall_env.backend, api_keys=KEYS), base_url="http://hall.test") as c:
        everything = c.get("/api/state", headers=MGR).json()["state"]
        assert "rating/1" in everything and "mgr/floor" in everything
        token = hall_env.link(fin["job"]).removeprefix("/r/")
        for prefix in ("", "rating/", "window/"):
            r = c.get("/api/state", params={"prefix": prefix})
            text = r.text
            state = r.json()["state"]
            assert not any(k.startswith(("rating/", "mgr/")) for k in state), state.keys()
            assert "/r/" not in text and token.split(".")[0] not in text and fin["job"] not in text
            for banned in ("ticket_id", "handle", "qr_path", "qr_url", '"job"', "pause_reason", "parked"):
                assert banned not in text, banned
        state = c.get("/api/state").json()["state"]
        assert set(state) == {k for k in everything if k == "floor" or k == "calls" or k.startswith(("queue/", "window/"))}
        w2 = state["window/2"]
        assert w2 == {"window": 2, "name": "2号窗口", "state": "serving", "ticket": w2["ticket"],
                      "staff": {"staff_no": "1002", "name": w2["staff"]["name"], "department": w2["staff"]["department"],
                                "stars": w2["staff"]["stars"]}}
        assert state["calls"]["recent"][0].keys() == {"id", "ticket", "window", "at_ms", "kind", "recall"}
        floor = c.get("/api/floor").json()
        assert all("job" not in w for w in floor["windows"]) and fin["job"] not in json.dumps(floor)


def test_public_state_is_an_allowlist() -> None:
    shown = public_state({"notes/kiosk-1": {"count": 5}, "print/1": {"bytes": "x"}, "window/x": {}, "queue/A/x": {},
                          "floor": {"waiting": 3, "secret": 1}, "window/3": {"state": "idle", "staff": "junk"}})
    assert shown == {"floor": {"waiting": 3}, "window/3": {"state": "idle", "staff": None}}


def test_nodes_are_for_managers_the_public_gets_a_count(hall_env: Hall) -> None:
    backend = PresentBackend(hall_env.hub)
    with TestClient(make_app(backend, api_keys=KEYS), base_url="http://hall.test") as c:
        assert c.get("/api/nodes").json() == {"alive": 1, "total": 2}
        full = c.get("/api/nodes", headers=MGR).json()
        assert full["nodes"]["terminal-1"]["version"] == "1.4.2" and full["alive"] == 1
        assert c.get("/api/nodes", headers={"X-Api-Key": "wrong"}).status_code == 401
        doc = c.get("/api/openapi.json").json()["paths"]
        assert "logged-in" in doc["/api/nodes"]["get"]["summary"] and "public id" in \
            doc["/api/tickets/{ticket}"]["get"]["summary"]
