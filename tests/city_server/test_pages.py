"""Issue #16, the city's pages over real HTTP against a city server process on a throwaway
PostgreSQL: login (and its rate limit), the month's ranking, drill-down hall → window → staff,
open and overdue cases with 督办 (CSRF, the manager's role), the hall's note fetch with its key,
and the monthly bulletin as XLSX and PDF."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest
from openpyxl import load_workbook

from city_server.accounts import add_user
from city_server.halls import add_hall
from hall_server.core.hub import Hub
from tests.city_server.conftest import CityProcess
from tests.city_server.hall_data import runner, work_days
from tests.conftest import ROOT
from tests.hall_server.conftest import Driver, at, make_config

NOV = date(2026, 11, 2)
PW = "city-password-1"


@pytest.fixture
def loaded(city: CityProcess, tmp_path: Path, pin_hash: str) -> Iterator[tuple[CityProcess, str]]:
    """A city with hall A's November forwarded, a manager `mgr` and a viewer `view`."""
    hub = Hub(tmp_path / "a" / "hall.db", make_config(pin_hash))
    try:
        d = Driver(hub, at(9, 0, day=NOV))
        work_days(d, NOV, 10, per_day=12, seed=4)
        with psycopg.connect(city.dsn, autocommit=True) as conn:
            key = add_hall(conn, "HALL-A", "甲区政务服务中心")
            add_user(conn, "view", "city_viewer", PW)
        done = subprocess.run([sys.executable, "-m", "city_server", "users", "add", "mgr", "--role", "city_manager",
                               "--dsn", city.dsn, "--password-stdin"], input=PW + "\n", text=True,
                              capture_output=True, cwd=ROOT, timeout=60)
        assert done.returncode == 0, done.stderr
        city.start()
        run = runner(hub, city.url, "HALL-A", key, d.now)
        while run.run_once():
            pass
        yield city, key
    finally:
        hub.close()


def _login(url: str, name: str = "mgr") -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=30)
    r = c.post("/login", data={"name": name, "password": PW, "next": "/ranking?month=2026-11"})
    assert r.status_code == 303 and r.headers["location"] == "/ranking?month=2026-11", r.text
    return c


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m
    return m.group(1)


def test_login_ranking_and_drill_down(loaded: tuple[CityProcess, str]) -> None:
    city, _key = loaded
    anon = httpx.Client(base_url=city.url, timeout=30)
    r = anon.get("/ranking?month=2026-11")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = anon.post("/login", data={"name": "mgr", "password": "wrong-password"})
    assert r.status_code == 401 and "账号或密码错误" in r.text
    assert "script-src 'none'" in r.headers["content-security-policy"]
    c = _login(city.url)
    page = c.get("/ranking?month=2026-11")
    assert page.status_code == 200
    assert "2026年11月各大厅排名" in page.text and "甲区政务服务中心" in page.text
    assert "好评率" in page.text and "参评率" in page.text and "回访率" in page.text and "整改率" in page.text
    assert re.search(r"\d+\.\d%", page.text)
    hall = c.get("/hall/HALL-A?month=2026-11")
    assert hall.status_code == 200 and "1号窗口" in hall.text and "2号窗口" in hall.text
    window = c.get("/hall/HALL-A/window/1?month=2026-11")
    assert window.status_code == 200 and "工号 1001" in window.text and "工号 1002" not in window.text
    bad = c.get("/ranking?month=2026-13")
    assert bad.status_code == 400 and "月份有误" in bad.text and "Traceback" not in bad.text
    assert c.get("/hall/NOPE").status_code == 404
    assert "页面不存在" in c.get("/no/such/page").text


def test_push_back_an_overdue_case_and_the_hall_fetches_the_note(loaded: tuple[CityProcess, str]) -> None:
    city, key = loaded
    c = _login(city.url)
    page = c.get("/cases")
    assert page.status_code == 200 and "已超期" in page.text
    with psycopg.connect(city.dsn) as conn:
        case_id = conn.execute("SELECT id FROM cases WHERE hall = 'HALL-A' AND status = 'open' ORDER BY id "
                               "LIMIT 1").fetchone()[0]
    url = f"/cases/HALL-A/{case_id}/pushback"
    assert c.post(url, data={"note": "请三日内回访"}).status_code == 403                 # no CSRF token
    empty = c.post(url, data={"note": " ", "csrf": _csrf(page.text)})
    assert empty.status_code == 400 and "请填写督办意见" in empty.text
    done = c.post(url, data={"note": "请三日内回访", "csrf": _csrf(page.text)})
    assert done.status_code == 200 and f"第 {case_id} 号差评已督办" in done.text and "已督办：请三日内回访" in done.text
    viewer = _login(city.url, "view")
    vpage = viewer.get("/cases")
    assert "pushback" not in vpage.text
    assert viewer.post(url, data={"note": "x", "csrf": _csrf(vpage.text)}).status_code == 403
    with psycopg.connect(city.dsn) as conn:
        assert conn.execute("SELECT pushed_back_note FROM cases WHERE hall = 'HALL-A' AND id = %s",
                            [case_id]).fetchone()[0] == "请三日内回访"
        assert conn.execute("SELECT count(*) FROM pushbacks").fetchone()[0] == 1
    hall = httpx.Client(base_url=city.url, timeout=30, headers={"Authorization": f"Bearer {key}"})
    notes = hall.get("/api/notes").json()["notes"]
    assert [(n["case_id"], n["note"]) for n in notes] == [(case_id, "请三日内回访")]
    assert httpx.get(city.url + "/api/notes", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert hall.post("/api/notes/ack", json={"upto": notes[-1]["id"]}).json() == {"confirmed": 1}
    assert hall.get("/api/notes").json()["notes"] == []
    out = c.post("/logout", data={"csrf": _csrf(c.get("/cases").text)})
    assert out.status_code == 303 and c.get("/cases").status_code == 303


def test_the_bulletin_as_xlsx_and_pdf(loaded: tuple[CityProcess, str], tmp_path: Path) -> None:
    city, _key = loaded
    c = _login(city.url, "view")
    x = c.get("/bulletin/2026-11.xlsx")
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).active
    assert ws["A1"].value == "2026年11月全市政务服务大厅“好差评”通报"
    assert ws["B3"].value == "甲区政务服务中心" and ws["C3"].value > 0
    p = c.get("/bulletin/2026-11.pdf")
    assert p.status_code == 200 and p.content.startswith(b"%PDF")
    (tmp_path / "b.pdf").write_bytes(p.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "b.pdf"), "-"], capture_output=True, text=True).stdout
    assert "甲区政务服务中心" in text and "好评率" in text
    fonts = subprocess.run(["pdffonts", str(tmp_path / "b.pdf")], capture_output=True, text=True).stdout
    assert "CJK" in fonts or "SC" in fonts
    assert c.get("/bulletin/2026-11.doc").status_code == 404


def test_logins_are_rate_limited(loaded: tuple[CityProcess, str]) -> None:
    city, _key = loaded
    anon = httpx.Client(base_url=city.url, timeout=30)
    codes = [anon.post("/login", data={"name": "mgr", "password": "wrong-password"}).status_code for _ in range(12)]
    assert codes[:10] == [401] * 10 and codes[-1] == 429
    assert "尝试次数过多" in anon.post("/login", data={"name": "mgr", "password": PW}).text
