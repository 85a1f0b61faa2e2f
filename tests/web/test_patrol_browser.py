"""Issue 15 in headless Chromium on a 390 px phone: the duty officer logs in, picks window 1 (the
staff member on duty is filled in), ticks 玩手机, takes a photo (a file input with `capture`),
saves; the finding is in the 问题台账 and in the month's assessment as 组织考评. Screenshots:
docs/screens/web-patrol-390.png, web-ledger.png and web-assessment.png. No CSP violation on any page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hall_server.domain import assessment_manual, ledger
from hall_server.domain.hours import local
from hall_server.web.app import make_app
from tests.conftest import ROOT
from tests.web.conftest import MANAGER_PW
from tests.web.live_server import LiveServer
from tests.web.patrol_photo import phone_jpeg

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SCREENS = ROOT / "docs" / "screens"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
DESK = {"viewport": {"width": 1400, "height": 900}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh)", allow_module_level=True)


def _login(page: Any, url: str, next_: str) -> None:
    page.goto(f"{url}/login?next={next_}")
    page.fill("input[name=user]", "boss")
    page.fill("input[name=password]", MANAGER_PW)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_}*")


def test_patrol_on_a_390px_phone_reaches_the_ledger_and_the_assessment(hall_env, tmp_path: Path) -> None:
    job = hall_env.finish(window=1, staff_no="1001")["job"]
    hall_env.drv.ok("rating.submit", {"job": job, "level": 2, "tags": ["N02"], "text": "私密原话", "phone": "13900001111"},
                    "kiosk-1")
    hall_env.drv.ok("comment.submit", {"text": "饮水机没有热水"}, "qr")
    hall_env.drv.ok("ledger.add", {"source": "hotline", "title": "12345转办：群众反映等候时间长", "ref": "12345-2026-0001",
                                   "window": 2, "staff_no": "1002"}, "manager-boss")
    done = hall_env.drv.ok("ledger.add", {"source": "inspection", "title": "督查：大厅导视牌缺失", "ref": "督查〔2026〕12号"},
                           "manager-boss")["item_id"]
    hall_env.drv.ok("ledger.close", {"item_id": done, "evidence": "已补设导视牌并拍照存档"}, "manager-boss")
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(phone_jpeg())
    violations: list[str] = []
    with LiveServer(make_app(hall_env.backend)) as srv, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            phone = browser.new_context(**PHONE).new_page()
            phone.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            _login(phone, srv.url, "/patrol")
            assert "张三" in phone.inner_text("#pick-1")
            phone.click("#pick-1")
            assert phone.eval_on_selector("#patrol-staff", "e => e.value") == "1001"
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390      # no sideways scrolling
            phone.check("input[name=kind][value=undercover]")
            phone.check("input[name=announced][value=no]")
            phone.check("input[name=findings][value=phone]")
            phone.fill("textarea[name=note]", "10:20 窗口人员低头看手机，群众等候")
            phone.set_input_files("input[name=photos]", str(photo))
            phone.screenshot(path=str(SCREENS / "web-patrol-390.png"), full_page=True)
            phone.click("#patrol-form button[type=submit]")
            phone.wait_for_selector("#patrol-done")
            assert phone.locator("#patrol-recent img.thumb").count() == 1
            loaded = "() => { const i = document.querySelector('#patrol-recent img.thumb'); " \
                     "return i.complete && i.naturalWidth > 0; }"       # polled from here: the page's CSP forbids eval
            deadline = time.monotonic() + 10
            while not phone.evaluate(loaded) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert phone.evaluate(loaded)                                   # the photo is served to the manager

            desk = browser.new_context(**DESK).new_page()
            desk.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            _login(desk, srv.url, "/ledger")
            desk.goto(f"{srv.url}/ledger?show=all")
            text = desk.inner_text("#ledger")
            assert "巡查发现" in text and "玩手机" in text and "张三" in text and "12345转办" in text
            assert "差评：办事效率低" in text and "综合点评" in text and "私密原话" not in text
            desk.screenshot(path=str(SCREENS / "web-ledger.png"), full_page=True)
            desk.goto(f"{srv.url}/assessment")
            assert "巡查发现：玩手机" in desk.inner_text("#assess-entries")
            desk.screenshot(path=str(SCREENS / "web-assessment.png"), full_page=True)
        finally:
            browser.close()
    assert not violations, violations
    db = hall_env.hub.reader()
    found = ledger.entries(db, hall_env.hub.config, hall_env.site.now_ms(), ledger.Filter(source="patrol"))
    assert [r["title"] for r in found] == ["玩手机"]
    month = local(hall_env.site.now_ms(), hall_env.hub.config).strftime("%Y-%m")
    result = assessment_manual.monthly(db, hall_env.hub.config, month)
    w1 = next(w for w in result["windows"] if w["key"] == 1)
    assert w1["org_points"] == -2.0 and any("玩手机" in e["reason"] for e in w1["org_entries"])
    s1 = next(s for s in result["staff"] if s["key"] == "1001")
    assert s1["org_points"] == -2.0
