"""The QR page's trust (issue 11): no rating from the hall's staff networks (nothing recorded);
one device rating many 办件 at several windows is flagged for the managers, recorded all the same;
no manager page or JSON carries a rating link; the 追评 is the citizen's, through their own slip."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from config.errors import ConfigError
from config.loader import load_hall

from hall_server.assembly import hall_handlers
from hall_server.core.backend import LocalBackend
from hall_server.domain import rating_flags
from hall_server.core.hub import Hub
from hall_server.web.users import add_user
from hall_server.web.app import make_app
from hall_server.web.limits import CLIENT_COOKIE
from tests.hall_server.conftest import make_config
from tests.web.conftest import MANAGER_PW, Hall, login

STAFF_PC = ("10.20.3.4", 50001)
PROXY = ("10.0.0.2", 50002)
REFUSAL = "为保证评价真实，工作人员网络不能提交评价，请使用您自己的手机网络"
TOKEN_IN_HTML = re.compile(r"/r/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@pytest.fixture
def hall(tmp_path: Path, pin_hash: str):
    config = make_config(pin_hash)
    net = dataclasses.replace(config.hall.network, staff_networks=(ipaddress.ip_network("10.20.0.0/16"),),
                              trusted_proxies=(ipaddress.ip_network("10.0.0.2/32"),))
    config = dataclasses.replace(config, hall=dataclasses.replace(config.hall, network=net))
    hub = Hub(tmp_path / "hall.db", config, handlers=hall_handlers())
    add_user(tmp_path, "boss", "manager", MANAGER_PW)
    h = Hall(hub, LocalBackend(hub))
    h.app = make_app(h.backend)          # type: ignore[attr-defined]
    yield h
    hub.close()


def phone(hall: Hall, address: str) -> TestClient:
    return TestClient(hall.app, base_url="http://hall.test", client=(address, 40000))  # type: ignore[attr-defined]


def count(hall: Hall, table: str) -> int:
    return hall.hub.reader().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_rating_from_the_staff_network_is_refused_and_nothing_is_stored(hall: Hall) -> None:
    url = hall.link(hall.finish()["job"])
    token = url.removeprefix("/r/")
    audit_before = count(hall, "audit")
    with phone(hall, STAFF_PC[0]) as pc, TestClient(hall.app, base_url="http://hall.test", client=PROXY) as proxy:  # type: ignore[attr-defined]
        r = pc.get(url)
        assert r.status_code == 403 and REFUSAL in r.text and 'name="level"' not in r.text
        r = pc.post(url, data={"level": "5"})
        assert r.status_code == 403 and REFUSAL in r.text
        r = pc.post(url, data={"level": "5"}, headers={"x-forwarded-for": "100.64.1.1"})   # a header is no escape
        assert r.status_code == 403
        r = proxy.post(url, data={"level": "5"}, headers={"x-forwarded-for": "10.20.9.9"})  # staff Wi-Fi via the proxy
        assert r.status_code == 403 and REFUSAL in r.text
        r = pc.post("/api/ratings", json={"token": token, "level": 5})                    # the JSON route too
        assert r.status_code == 403 and r.json()["error"] == "staff_network"
    assert count(hall, "ratings") == 0 and count(hall, "audit") == audit_before
    with phone(hall, "100.64.1.1") as citizen:                 # the citizen's own mobile network
        assert citizen.post(url, data={"level": "5"}).status_code == 200
    assert count(hall, "ratings") == 1


def test_one_cookie_rating_three_jobs_at_two_windows_is_flagged_and_shown(hall: Hall) -> None:
    jobs = [hall.finish(window=1)["job"], hall.finish(window=2, staff_no="1002")["job"],
            hall.finish(window=1)["job"]]
    with phone(hall, "100.64.0.1") as first:
        assert first.get(hall.link(jobs[0])).status_code == 200
        cookie = first.cookies.get(CLIENT_COOKIE)
        assert cookie and len(cookie) >= 22
        assert first.post(hall.link(jobs[0]), data={"level": "5"}).status_code == 200
    for i, job in enumerate(jobs[1:], start=2):          # the same browser from other addresses (mobile data)
        with phone(hall, f"100.64.0.{i}") as p:
            p.cookies.set(CLIENT_COOKIE, cookie, domain="hall.test", path="/")
            r = p.post(hall.link(job), data={"level": "1", "tags": ["N02"], "text": f"第{i}件"})
            assert r.status_code == 200 and "感谢您的评价" in r.text      # recorded, the citizen sees nothing else
    db = hall.hub.reader()
    ids = [r[0] for r in db.execute("SELECT id FROM ratings ORDER BY id").fetchall()]
    assert len(ids) == 3                                                          # nothing lost
    flags = db.execute("SELECT rating_id, reason, jobs, windows, rater_hash, address_hash FROM rating_flags").fetchall()
    assert [(f[0], f[1], f[2], f[3]) for f in flags] == [(ids[2], "same_rater", 3, 2)]
    assert cookie not in str(flags) and "100.64" not in str(flags)               # hashes only
    assert "100.64" not in str(db.execute("SELECT * FROM rating_sources").fetchall())
    with pytest.raises(Exception, match="append-only"):
        hall.hub.db.execute("DELETE FROM rating_flags")
    flagged_case, plain_case = (db.execute("SELECT id FROM cases WHERE rating_id = ?", [i]).fetchone()[0]
                                for i in (ids[2], ids[1]))
    with TestClient(hall.app, base_url="http://hall.test") as mgr:  # type: ignore[attr-defined]
        login(mgr)
        listing = mgr.get("/cases").text
        row_of = lambda cid: re.search(rf'<tr data-case="{cid}">.*?</tr>', listing).group(0)  # noqa: E731
        assert "疑似代评" in row_of(flagged_case) and "疑似代评" not in row_of(plain_case)
        page = mgr.get(f"/cases/{flagged_case}").text
        assert "疑似代评" in page and "同一设备评价了多个窗口的多件办件" in page
        assert "疑似代评" not in mgr.get(f"/cases/{plain_case}").text
        fig = mgr.get("/figures").text
        assert "本期 3 条评价中有 1 条被标记" in fig and f'data-rating="{ids[2]}"' in fig
        assert f'data-rating="{ids[1]}"' not in fig
        assert "好评率 33.3%，不含被标记评价为 50.0%" in fig      # flagged ratings count, visibly


def test_one_address_across_windows_is_flagged_but_one_window_is_not(hall: Hall) -> None:
    same_window = [hall.finish(window=1)["job"] for _ in range(3)]
    for job in same_window:                     # a family at one window, one phone: not the pattern
        with phone(hall, "100.64.7.7") as p:
            assert p.post(hall.link(job), data={"level": "4"}).status_code == 200
    assert count(hall, "rating_flags") == 0
    job = hall.finish(window=2, staff_no="1002")["job"]
    with phone(hall, "100.64.7.7") as p:        # no cookie kept (a private window): the address still tells
        assert p.post(hall.link(job), data={"level": "5"}).status_code == 200
    reasons = [r[0] for r in hall.hub.reader().execute("SELECT reason FROM rating_flags").fetchall()]
    assert reasons == ["same_address"]
    assert rating_flags.PATTERN_MIN_JOBS == 3 and rating_flags.PATTERN_MIN_WINDOWS == 2


def test_no_manager_page_or_json_carries_a_rating_link_and_the_citizen_gives_the_followup(hall: Hall) -> None:
    url = hall.link(hall.finish()["job"])
    with phone(hall, "100.64.2.2") as citizen:
        assert citizen.post(url, data={"level": "1", "tags": ["N02"]}).status_code == 200
    case_id = hall.hub.reader().execute("SELECT id FROM cases").fetchone()[0]
    with TestClient(hall.app, base_url="http://hall.test") as mgr:  # type: ignore[attr-defined]
        csrf = login(mgr)
        for action in ("callback", "rectify"):     # issue 15: the call-back's outcome and the rectification's note
            assert mgr.post(f"/cases/{case_id}/{action}", data={"csrf": csrf, "reached": "no", "note": "已处理"},
                            follow_redirects=False).status_code == 303
        for path in (f"/cases/{case_id}", "/cases?show=all", "/figures", "/floor", "/floor/data",
                     f"/api/cases/{case_id}", "/api/cases", "/ledger?show=all", "/patrol?window=1", "/assessment"):
            r = mgr.get(path)
            assert r.status_code == 200, path
            assert not TOKEN_IN_HTML.search(r.text) and url not in r.text, path
        assert "由评价人用自己办件凭条上的二维码追评一次" in mgr.get(f"/cases/{case_id}").text
    with phone(hall, STAFF_PC[0]) as pc:                      # not from the staff side either
        assert pc.post(url, data={"level": "5"}).status_code == 403
    with phone(hall, "100.64.2.2") as citizen:                 # the citizen's own slip, after rectification
        r = citizen.get(url)
        assert r.status_code == 200 and "整改后追评" in r.text
        assert citizen.post(url, data={"level": "4"}).status_code == 200
    assert [r[0] for r in hall.hub.reader().execute("SELECT round FROM ratings ORDER BY id")] == [1, 2]


def test_one_phone_rating_many_jobs_at_one_window_is_flagged_too(hall: Hall) -> None:
    jobs = [hall.finish(window=1)["job"] for _ in range(rating_flags.PATTERN_MANY_JOBS)]
    with phone(hall, "100.64.8.8") as clerk_phone:             # kept slips, scanned at one window's desk
        for job in jobs:
            assert clerk_phone.get(hall.link(job)).status_code == 200
            assert clerk_phone.post(hall.link(job), data={"level": "5"}).status_code == 200
    db = hall.hub.reader()
    last = db.execute("SELECT MAX(id) FROM ratings").fetchone()[0]
    flagged = db.execute("SELECT rating_id, reason, jobs, windows FROM rating_flags ORDER BY id").fetchall()
    assert sorted(flagged) == [(last, "same_address", 6, 1), (last, "same_rater", 6, 1)]


def test_a_shared_address_is_not_flagged_but_the_cookie_still_is(tmp_path: Path, pin_hash: str) -> None:
    config = make_config(pin_hash)
    net = dataclasses.replace(config.hall.network, shared_networks=(ipaddress.ip_network("203.0.113.7/32"),))
    hub = Hub(tmp_path / "hall.db", dataclasses.replace(config, hall=dataclasses.replace(config.hall, network=net)),
              handlers=hall_handlers())
    try:
        h = Hall(hub, LocalBackend(hub))
        h.app = make_app(h.backend)  # type: ignore[attr-defined]
        jobs = [h.finish(window=w, staff_no=s)["job"] for w, s in ((1, "1001"), (2, "1002"), (1, "1001"))]
        for job in jobs:                           # three citizens on the guest Wi-Fi (one NAT address)
            with phone(h, "203.0.113.7") as p:
                assert p.post(h.link(job), data={"level": "5"}).status_code == 200
        assert count(h, "rating_flags") == 0
        assert {r[0] for r in hub.reader().execute("SELECT address_hash FROM rating_sources")} == {""}
        more = [h.finish(window=w, staff_no=s)["job"] for w, s in ((1, "1001"), (2, "1002"), (1, "1001"))]
        with phone(h, "203.0.113.7") as one_browser:
            for job in more:
                one_browser.get(h.link(job))
                assert one_browser.post(h.link(job), data={"level": "5"}).status_code == 200
        assert [r[0] for r in hub.reader().execute("SELECT reason FROM rating_flags")] == ["same_rater"]
    finally:
        hub.close()


def test_rating_sourced_is_one_transaction_checked_and_only_from_the_qr_page(hall: Hall) -> None:
    job = hall.finish()["job"]
    good = {"kind": "submit", "rating": {"job": job, "level": 5}, "rater_hash": "a" * 32, "address_hash": "b" * 32}
    for bad in ({**good, "rater_hash": "x"}, {**good, "raw_address": "1.2.3.4"}, {**good, "kind": "delete"},
                {**good, "rating": {"job": job, "level": 9}}):
        a = hall.hub.submit("rating.sourced", bad, "qr-web")
        assert not a.ok and a.error == "bad_request", bad
    a = hall.hub.submit("rating.sourced", good, "terminal-1")             # staff never rate, sourced or not
    assert not a.ok and a.error == "forbidden"
    assert count(hall, "ratings") == 0 and count(hall, "rating_sources") == 0   # nothing half-applied
    a = hall.hub.submit("rating.sourced", good, "qr-web")
    assert a.ok and a.result["round"] == 1 and a.result["flags"] == []
    again = hall.hub.submit("rating.sourced", good, "qr-web")               # a second rating: refused as ever
    assert not again.ok and again.error == "already_rated"
    assert count(hall, "ratings") == 1 and count(hall, "rating_sources") == 1
    assert hall.hub.submit("session.end", {"nonce": "ab" * 8, "user": "boss", "expires_ms": 1},
                           "terminal-1").error == "forbidden"


def test_the_loader_reads_shared_networks_with_a_precise_error(tmp_path: Path) -> None:
    folder = tmp_path / "hall"
    shutil.copytree(Path(__file__).resolve().parents[2] / "config" / "examples" / "demo-hall", folder)
    hall_toml = folder / "hall.toml"
    base = re.sub(r"(?m)^shared_networks = .*$", "", hall_toml.read_text(encoding="utf-8"))
    base = base if "[network]" in base else base + "\n[network]\n"
    hall_toml.write_text(base + 'shared_networks = ["203.0.113.7"]\n', encoding="utf-8")
    assert load_hall(folder).hall.network.shared_networks == (ipaddress.ip_network("203.0.113.7/32"),)
    hall_toml.write_text(base + 'shared_networks = ["guest-wifi"]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_hall(folder)
    text = str(err.value)
    assert "hall.toml" in text and "shared_networks[0]" in text and "guest-wifi" in text


def test_manager_pages_carry_no_rating_link_while_a_rating_is_open(hall: Hall) -> None:
    url = hall.link(hall.finish()["job"])                     # the evaluator's opportunity is open now
    with TestClient(hall.app, base_url="http://hall.test") as mgr:  # type: ignore[attr-defined]
        login(mgr)
        for path in ("/floor", "/floor/data", "/cases?show=all", "/figures"):
            r = mgr.get(path)
            assert r.status_code == 200 and not TOKEN_IN_HTML.search(r.text) and url not in r.text, path
