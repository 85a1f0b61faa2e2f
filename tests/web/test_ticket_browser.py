"""The citizen's ticket status page in headless Chromium on a 390 px phone (issue 13), against a real
hall server process: a dispenser takes tickets and a terminal in another process calls them at
window 3; the page moves by itself from "前面还有 2 人" to "下一位就是您" to "请到 3 号窗口".
Without JavaScript the page shows the same state when loaded (and reloads itself).
Screenshots: docs/screens/ticket-status.png (waiting) and ticket-called.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ServerProcess
from tests.web.test_browser import (  # noqa: F401  (the autouse CSP check and Chromium's fixture)
    ARGS, CHROMIUM, SCREENS, Actor, browser, no_csp_violations, watch,
)

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
             "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
NODES = ("terminal-3", "dispenser-1")


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ticket-e2e")
    srv = ServerProcess(data=root / "server")
    srv.data.mkdir()
    for n in NODES:
        srv.new_key(n)
    srv.start()
    actor = Actor(srv, root / "outboxes")
    try:
        yield srv, actor
    finally:
        actor.close()
        srv.stop()
        srv.kill()


def headline(page) -> str:
    return page.inner_text("#headline").strip()


def wait_headline(page, text: str, timeout_ms: int = 20_000) -> None:
    page.wait_for_function("t => document.getElementById('headline').textContent.trim() === t", arg=text,
                           timeout=timeout_ms)


def test_the_status_page_follows_the_queue_until_called(hall, browser) -> None:
    srv, actor = hall
    actor.ok("terminal-3", "window.sign_in", {"staff_no": "HC2103", "pin": "1234"})
    taken = [actor.ok("dispenser-1", "queue.take", {"category": "A"}) for _ in range(3)]
    mine = taken[2]
    assert mine["ahead"] == 2 and mine["status_path"] == f"/t/{mine['public_id']}"
    assert mine["wait_min_minutes"] is not None             # window 3 is open for A: an estimate
    url = srv.http + mine["status_path"]

    ctx = browser.new_context(**PHONE_390)
    page = watch(ctx.new_page())
    resp = page.goto(url)
    assert resp.status == 200
    assert headline(page) == "前面还有 2 人"
    assert page.inner_text(".no") == mine["ticket"] and "社保医保" in page.inner_text(".cat")
    detail = page.inner_text("#detail")
    assert detail.startswith("预计") and "分钟" in detail
    body = page.inner_text("body")
    for other in taken[:2]:
        assert other["ticket"] not in body                   # nothing about the citizens ahead
    assert page.evaluate("document.documentElement.scrollWidth") <= 390      # no sideways scrolling
    page.screenshot(path=str(SCREENS / "ticket-status.png"), full_page=True)

    actor.ok("terminal-3", "queue.call_next")               # A001 called: one ahead
    wait_headline(page, "前面还有 1 人")
    actor.ok("terminal-3", "queue.no_show")
    actor.ok("terminal-3", "queue.call_next")               # A002 called: this one is next
    wait_headline(page, "下一位就是您")
    actor.ok("terminal-3", "job.start")
    actor.ok("terminal-3", "job.finish", {"service_code": "SB-0101"})
    actor.ok("terminal-3", "queue.call_next")               # A003: this ticket
    wait_headline(page, "请到 3 号窗口")
    assert "called" in page.get_attribute("#ticket", "class")
    page.screenshot(path=str(SCREENS / "ticket-called.png"), full_page=True)

    # without JavaScript the page is the same state, server-rendered, and reloads itself
    plain = browser.new_context(**PHONE_390, java_script_enabled=False)
    p2 = watch(plain.new_page())
    p2.goto(url)
    assert headline(p2) == "请到 3 号窗口"
    assert p2.locator("noscript").count() == 1
    plain.close()
    ctx.close()


def test_an_unknown_ticket_gets_a_friendly_page(hall, browser) -> None:
    srv, _ = hall
    ctx = browser.new_context(**PHONE_390)
    page = watch(ctx.new_page())
    resp = page.goto(f"{srv.http}/t/{'0' * 20}")
    assert resp.status == 404 and "未找到该号票" in page.inner_text("body")
    ctx.close()


def test_screens_are_written(hall) -> None:
    for name in ("ticket-status.png", "ticket-called.png"):
        assert Path(SCREENS / name).stat().st_size > 5_000
