"""Issue 15 in headless Chromium (Playwright): the charts page (ECharts from the project's static
files, data from /charts/data), the 数据大屏 at 1920×1080 updating live, and the public 公示 board,
all under the server's Content-Security-Policy (a violation fails the test). Screenshots:
docs/screens/web-charts.png, web-bigscreen.png, web-board.png.

The hall is in-process (tests/web/conftest.py `hall_env`) behind a real uvicorn server on a
loopback port (tests/web/live_server.py), so the test can add 办件 while the big screen watches.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hall_server.web.app import make_app
from tests.conftest import ROOT
from tests.web.conftest import MANAGER_PW
from tests.web.live_server import LiveServer
from tests.web.test_bulletins import populate

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SCREENS = ROOT / "docs" / "screens"

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def watched(ctx: Any, problems: list[str]) -> Any:
    page = ctx.new_page()
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}")
            if (m.type == "error" and "Failed to load resource" not in m.text) or "Content Security Policy" in m.text
            else None)
    page.on("response", lambda r: problems.append(f"{r.url}: {r.status}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    return page


def login(page: Any, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=user]", "boss")
    page.fill("input[name=password]", MANAGER_PW)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/floor$"))


def test_charts_big_screen_and_board(hall_env, browser) -> None:
    populate(hall_env)
    problems: list[str] = []
    SCREENS.mkdir(parents=True, exist_ok=True)
    with LiveServer(make_app(hall_env.backend)) as srv:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = watched(ctx, problems)
        login(page, srv.url)
        page.goto(f"{srv.url}/charts?range=month")
        page.wait_for_selector("body[data-charts=ready]", timeout=15_000)
        for cid in ("c-trend", "c-reasons", "c-heatmap", "c-ranking"):
            assert page.locator(f"#{cid} canvas").count() >= 1, cid          # ECharts drew on canvas
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENS / "web-charts.png"), full_page=True)
        page.click("text=今日")
        page.wait_for_selector("body[data-charts=ready]", timeout=15_000)
        assert "range=today" in page.url
        ctx.close()

        ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = watched(ctx, problems)
        login(page, srv.url)
        page.goto(f"{srv.url}/bigscreen")
        page.wait_for_selector("#big[data-state=live]", timeout=15_000)
        assert page.text_content("#k-finished b") == "7"
        assert page.locator("#b-floor .tile").count() == 4
        assert page.evaluate("document.documentElement.scrollWidth") <= 1920
        assert page.evaluate("document.documentElement.scrollHeight") <= 1080
        hall_env.finish(1, "1001", "A", "S001")                                   # live: a new 办件 shows up
        sync_api.expect(page.locator("#k-finished b")).to_have_text("8", timeout=15_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENS / "web-bigscreen.png"))
        ctx.close()

        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = watched(ctx, problems)
        page.goto(f"{srv.url}/public/board")                                      # no login
        assert "光荣榜" in page.text_content("#honour")
        page.screenshot(path=str(SCREENS / "web-board.png"), full_page=True)
        ctx.close()
    assert not problems, problems
