"""The citizen's ticket status page over HTTP (issue 13): `/t/<public id>` and its JSON for the live
script; only that ticket, a friendly 404 for unknown or malformed ids, the public read limit, the
CSP, and each state said plainly (waiting with the people ahead and the wait, called, done,
no-show, expired)."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from hall_server.web.app import make_app
from hall_server.web.limits import READ_BUDGET
from tests.web.conftest import Hall
from tests.web.test_csp import check


def take(c: TestClient, category: str = "A") -> dict:
    r = c.post("/api/tickets", json={"category": category})
    assert r.status_code == 201, r.text
    return r.json()


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_page_follows_the_ticket_from_waiting_to_called_to_done(hall_env: Hall, client: TestClient) -> None:
    other = take(client)
    mine = take(client)
    assert mine["status_path"] == f"/t/{mine['public_id']}" and mine["ahead"] == 1
    url = mine["status_path"]
    r = client.get(url)
    check(r, url)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    page = text_of(r.text)
    assert "A002" in page and "社保医保" in page and "前面还有 1 人" in page
    assert "暂无窗口办理此类业务" in page                           # nobody signed in: no estimate
    assert other["ticket"] not in page and other["public_id"] not in r.text
    assert '<noscript><meta http-equiv="refresh" content="20"></noscript>' in r.text
    data = client.get(url + "/data").json()
    assert data["state"] == "waiting" and data["ahead"] == 1 and data["headline"] == "前面还有 1 人"
    assert data["poll_s"] > 0 and other["ticket"] not in str(data)

    hall_env.sync()
    hall_env.drv.sign_in(1, "1001")
    data = client.get(url + "/data").json()
    assert data["wait_max_minutes"] >= 1 and "预计" in data["detail"] and "分钟" in data["detail"]

    hall_env.drv.ok("queue.call_next", {}, "terminal-1")       # A001 is called: this one is next
    assert client.get(url + "/data").json()["headline"] == "下一位就是您"
    hall_env.drv.ok("queue.no_show", {}, "terminal-1")
    hall_env.drv.ok("queue.call_next", {}, "terminal-1")
    r = client.get(url)
    assert "请到 1 号窗口" in text_of(r.text) and 'class="card tk called"' in r.text
    assert client.get(url + "/data").json()["window"] == 1

    hall_env.drv.ok("job.start", {}, "terminal-1")
    assert client.get(url + "/data").json()["headline"] == "正在 1 号窗口办理"
    hall_env.drv.ok("job.finish", {"service_code": "S001"}, "terminal-1")
    done = client.get(url)
    assert "已办理完毕" in text_of(done.text) and "http-equiv" not in done.text and "<script>" not in done.text
    assert client.get(url + "/data").json()["poll_s"] == 0

    gone = client.get(f"/t/{other['public_id']}/data").json()   # the other ticket was a no-show
    assert gone["state"] == "no_show" and gone["headline"] == "已过号" and "重新取号" in gone["detail"]


def test_an_earlier_days_ticket_is_said_to_be_expired(hall_env: Hall, client: TestClient) -> None:
    mine = take(client)
    hall_env.hub.db.execute("UPDATE tickets SET status = 'expired' WHERE pub = ?", [mine["public_id"]])
    hall_env.hub.db.conn.commit()
    data = client.get(mine["status_path"] + "/data").json()
    assert data["state"] == "expired" and data["headline"] == "号票已失效" and data["poll_s"] == 0


def test_unknown_and_malformed_ids_get_a_friendly_404(hall_env: Hall, client: TestClient) -> None:
    mine = take(client)
    for guess in ("0" * 20, mine["public_id"][:-1] + ("0" if mine["public_id"][-1] != "0" else "1"), "A001", "1",
                  "x" * 40, "%E4%BD%A0%E5%A5%BD", mine["public_id"].upper()):
        r = client.get(f"/t/{guess}")
        assert r.status_code == 404 and "未找到该号票" in r.text and "Traceback" not in r.text, guess
        check(r, guess)
        j = client.get(f"/t/{guess}/data")
        assert j.status_code == 404 and j.json()["error"] == "unknown_ticket", guess


def test_reads_are_rate_limited_like_the_other_public_reads(hall_env: Hall) -> None:
    with TestClient(make_app(hall_env.backend), base_url="http://hall.test") as c:
        url = take(c)["status_path"]
        codes = [c.get(url + "/data").status_code for _ in range(READ_BUDGET.per_client + 1)]
        assert codes[:READ_BUDGET.per_client - 1].count(200) == READ_BUDGET.per_client - 1
        refused = c.get(url + "/data")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"] == "rate_limited" and refused.json()["details"]["retry_after_s"] >= 1
        page = c.get(url)
        assert page.status_code == 429 and "访问过于频繁" in page.text
