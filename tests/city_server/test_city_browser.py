"""Issue #16 end to end in headless Chromium (Debian's, driven by Playwright) against a city server
process on a throwaway PostgreSQL with three halls' November forwarded through the real path:
login → the month's ranking → drill-down hall → window → staff → 督办 of an overdue case. Every
page runs under the city's Content-Security-Policy: a violation Chromium reports fails the test.
Screenshot: docs/screens/city-ranking.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from city_server.accounts import add_user
from city_server.halls import add_hall
from hall_server.core.hub import Hub
from tests.city_server.conftest import CityProcess
from tests.city_server.hall_data import runner, work_days
from tests.conftest import ROOT
from tests.hall_server.conftest import Driver, at, make_config

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
NOV = date(2026, 11, 2)
PW = "city-password-1"
HALLS = (("HALL-A", "甲区政务服务中心", 1), ("HALL-B", "乙县政务服务中心", 2), ("HALL-C", "丙区市民服务中心", 6))

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh)", allow_module_level=True)


@pytest.fixture
def city_with_halls(city: CityProcess, tmp_path: Path, pin_hash: str) -> Iterator[CityProcess]:
    hubs = []
    try:
        with psycopg.connect(city.dsn, autocommit=True) as conn:
            add_user(conn, "mgr", "city_manager", PW)
            keys = {code: add_hall(conn, code, name) for code, name, _ in HALLS}
        city.start()
        for code, _name, seed in HALLS:
            hub = Hub(tmp_path / code / "hall.db", make_config(pin_hash))
            hubs.append(hub)
            d = Driver(hub, at(9, 0, day=NOV))
            work_days(d, NOV, 8, per_day=8 + seed, seed=seed)
            run = runner(hub, city.url, code, keys[code], d.now)
            while run.run_once():
                pass
        yield city
    finally:
        for hub in hubs:
            hub.close()


def test_login_ranking_drill_down_and_push_back(city_with_halls: CityProcess) -> None:
    city = city_with_halls
    violations: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page: Any = browser.new_page(viewport={"width": 1280, "height": 720}, locale="zh-CN",
                                         timezone_id="Asia/Shanghai")
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(city.url + "/ranking?month=2026-11")
            assert page.url.startswith(city.url + "/login")
            page.fill("#name", "mgr")
            page.fill("#password", PW)
            page.click("button[type=submit]")
            page.wait_for_url("**/ranking?month=2026-11")
            assert page.inner_text("h2") == "2026年11月各大厅排名"
            names = page.locator("tbody td.l a").all_inner_texts()
            assert sorted(names) == sorted(n for _c, n, _s in HALLS)
            page.screenshot(path=str(ROOT / "docs" / "screens" / "city-ranking.png"), full_page=True)
            page.click("text=乙县政务服务中心")
            page.wait_for_url("**/hall/HALL-B?month=2026-11")
            assert "1号窗口" in page.inner_text("tbody")
            page.click("text=2号窗口")
            page.wait_for_url("**/hall/HALL-B/window/2?month=2026-11")
            assert "工号 1002" in page.inner_text("tbody")
            page.click("header >> text=差评督办")
            page.wait_for_url("**/cases")
            row = page.locator("tbody tr", has=page.locator("form")).first
            row.locator("input.note").fill("请三日内完成回访")
            row.locator("button").click()
            page.wait_for_load_state()
            assert "已督办" in page.inner_text("[role=status]")
            assert page.locator("text=已督办：请三日内完成回访").count() == 1
        finally:
            browser.close()
    assert violations == []
    with psycopg.connect(city.dsn) as conn:
        assert conn.execute("SELECT note FROM pushbacks").fetchall() == [("请三日内完成回访",)]
