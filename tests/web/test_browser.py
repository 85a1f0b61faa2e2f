"""End to end in headless Chromium (Debian's, driven by Playwright) against a real hall server
process: rating by QR on a 360 px phone, without JavaScript; a forged link; the live floor
changing when another process calls a ticket; a 差评 case handled to closed (call-back,
rectification, the citizen's 追评). Screenshots go to docs/screens/web-*.png.

Every page runs under the server's Content-Security-Policy (issue 11): a violation Chromium
reports on any page fails the test (`watch`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from hall_server.web.users import add_user
from hall_server.core import qr_token
from hall_server.core.secret import load_secret
from tests.conftest import ROOT, ServerProcess

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SCREENS = ROOT / "docs" / "screens"
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
ADMIN_PW = "admin-password-1"
NODES = ("terminal-1", "terminal-2", "dispenser-1")

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh)", allow_module_level=True)


class Actor:
    """tests/web/node_actor.py: terminals and the dispenser as another process on the real bus."""

    def __init__(self, srv: ServerProcess, outboxes: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "web" / "node_actor.py"), "--bus", srv.bus,
             "--keys", str(srv.data / "keys" / "issued"), "--outboxes", str(outboxes)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "READY"

    def send(self, node: str, type_: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"node": node, "type": type_, "body": body or {}}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def ok(self, node: str, type_: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        reply = self.send(node, type_, body)
        assert reply["ok"], (type_, reply)
        return reply["result"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("web-e2e")
    srv = ServerProcess(data=root / "server")
    srv.data.mkdir()
    add_user(srv.data, "admin", "manager", ADMIN_PW)
    for n in NODES:
        srv.new_key(n)
    srv.start()
    actor = Actor(srv, root / "outboxes")
    actor.ok("terminal-1", "window.sign_in", {"staff_no": "HC2101", "pin": "1234"})
    try:
        yield srv, actor
    finally:
        actor.close()
        srv.stop()
        srv.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


CSP_VIOLATIONS: list[str] = []


def watch(page: Any) -> Any:
    """Record every Content-Security-Policy violation Chromium reports on this page."""
    page.on("console", lambda msg: CSP_VIOLATIONS.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text else None)
    return page


@pytest.fixture(autouse=True)
def no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, CSP_VIOLATIONS


def finish_job(actor: Actor) -> str:
    """A citizen takes an A ticket, window 1 calls, serves and finishes it: the job's public id."""
    actor.ok("dispenser-1", "queue.take", {"category": "A"})
    actor.ok("terminal-1", "queue.call_next")
    actor.ok("terminal-1", "job.start")
    return actor.ok("terminal-1", "job.finish", {"service_code": "SB-0101"})["job"]


def link(srv: ServerProcess, job_pub: str) -> str:
    token = qr_token.sign(load_secret(srv.data), job_pub, int(time.time()) + 86_400)
    return f"{srv.http}/r/{token}"


def shot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"web-{name}.png"), full_page=True)


def login(page: Any, srv: ServerProcess) -> None:
    resp = page.goto(f"{srv.http}/login")
    assert resp is not None and "default-src 'none'" in resp.headers["content-security-policy"]
    page.fill("input[name=user]", "admin")
    page.fill("input[name=password]", ADMIN_PW)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/floor$"))


def test_rating_by_qr_on_a_phone_without_javascript(hall, browser) -> None:
    srv, actor = hall
    url = link(srv, finish_job(actor))
    # The page fits 360 px (measured with scripts on), and works with scripts off.
    ctx = browser.new_context(**PHONE)
    page = watch(ctx.new_page())
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert "综合受理一号窗口" in page.text_content("dl.facts")
    assert "城乡居民基本养老保险参保登记" in page.text_content("dl.facts")
    shot(page, "qr-rating")
    ctx.close()
    ctx = browser.new_context(java_script_enabled=False, **PHONE)
    page = watch(ctx.new_page())
    page.goto(url)
    page.check("input[name=level][value='2']")
    page.click("button[type=submit]")                          # a 差评 without a reason: asked again
    assert "请至少选择一个原因" in page.text_content(".error")
    page.check("input[name=tags][value='N01']")
    page.fill("textarea[name=text]", "等了很久，态度一般")
    page.fill("input[name=phone]", "13912345678")
    page.click("button[type=submit]")
    assert "感谢您的评价" in page.text_content(".big")
    shot(page, "qr-thanks")
    resp = page.goto(url)                                      # 一次一评: the link now says 已评价
    assert resp is not None and resp.status == 409
    assert "已评价" in page.text_content(".big")
    shot(page, "qr-already")
    ctx.close()


def test_forged_and_expired_links_get_a_clear_page(hall, browser) -> None:
    srv, _ = hall
    ctx = browser.new_context(**PHONE)
    page = watch(ctx.new_page())
    good = link(srv, "0123456789abcdef0123")
    forged = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
    resp = page.goto(forged)
    assert resp is not None and resp.status == 400
    assert "二维码无效" in page.text_content(".big")
    assert "Traceback" not in page.content()
    shot(page, "qr-forged")
    expired = qr_token.sign(load_secret(srv.data), "0123456789abcdef0123", int(time.time()) - 1)
    resp = page.goto(f"{srv.http}/r/{expired}")
    assert resp is not None and resp.status == 410 and "链接已过期" in page.text_content(".big")
    resp = page.goto(f"{srv.http}/r/not-a-token")
    assert resp is not None and resp.status == 400
    resp = page.goto(f"{srv.http}/c")                          # the hall QR (R12)
    page.fill("textarea[name=text]", "大厅饮水机没有热水")
    shot(page, "comment")
    page.click("button[type=submit]")
    assert "感谢您的意见" in page.text_content(".big")
    ctx.close()


def test_floor_changes_when_another_process_calls_a_ticket(hall, browser) -> None:
    srv, actor = hall
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
    page = watch(ctx.new_page())
    login(page, srv)
    # (no wait_for_function: its polling evaluates strings, which the page's CSP rightly forbids)
    page.locator("#live", has_text="实时").wait_for(timeout=5000)
    # The policy is enforced: an injected style attribute is refused (and reported).
    page.evaluate("""document.body.insertAdjacentHTML('beforeend', '<i id="csp-probe" style="color:#f00">x</i>')""")
    assert page.evaluate("getComputedStyle(document.getElementById('csp-probe')).color") != "rgb(255, 0, 0)"
    page.evaluate("document.getElementById('csp-probe').remove()")
    page.wait_for_timeout(300)
    assert CSP_VIOLATIONS, "Chromium reported no violation for an inline style"
    CSP_VIOLATIONS.clear()
    actor.ok("terminal-2", "window.sign_in", {"staff_no": "HC2102", "pin": "1234"})
    page.wait_for_selector('[data-window="2"][data-state="idle"]', timeout=3000)
    ticket = actor.ok("dispenser-1", "queue.take", {"category": "H"})["ticket"]
    page.wait_for_selector('#queue tr[data-category="H"] td.waiting:text-is("1")', timeout=3000)
    t0 = time.monotonic()
    called = actor.ok("terminal-2", "queue.call_next")
    assert called["ticket"] == ticket
    page.wait_for_selector(f'[data-window="2"][data-state="calling"] .ticket:text-is("{ticket}")', timeout=3000)
    elapsed = time.monotonic() - t0
    print(f"floor updated {elapsed:.2f} s after the call was sent")
    assert elapsed < 1.0 + 0.3, f"the floor changed {elapsed:.2f} s after the call"   # the call's own round trip included
    assert "刘䶮" in page.text_content('[data-window="2"]')  # R13: an Ext-A name on the floor
    shot(page, "floor")
    actor.ok("terminal-2", "job.finish", {"service_code": "ZH-0101"})   # the figures have today's 办件 (whatever ran before)
    page.goto(f"{srv.http}/figures")
    assert page.query_selector("#t-window") is not None
    shot(page, "figures")
    ctx.close()


def test_bad_rating_case_handled_to_closed(hall, browser) -> None:
    srv, actor = hall
    url = link(srv, finish_job(actor))
    r = httpx.post(url, data={"level": "1", "tags": ["N02"], "text": "材料跑了三趟", "phone": "13700001111"})
    assert r.status_code == 200 and "感谢您的评价" in r.text
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
    page = watch(ctx.new_page())
    login(page, srv)
    page.goto(f"{srv.http}/cases")
    assert "137****1111" in page.text_content("#cases")         # masked in the list
    assert "13700001111" not in page.content()
    shot(page, "cases")
    row = page.locator("#cases tr", has_text="137****1111").first
    row.locator("a").first.click()
    assert "13700001111" in page.content() and "材料跑了三趟" in page.content()   # clear on the case page
    page.check("#form-callback input[name=reached][value=yes]")          # issue 15: the call-back's outcome
    page.fill("#form-callback textarea[name=words]", "材料要求没一次说清楚")
    page.check("#form-callback input[name=satisfied][value=yes]")
    page.fill("#form-callback textarea[name=note]", "已电话回访，致歉并说明")
    page.click("#form-callback button")
    assert "已记录回访" in page.text_content(".ok")
    page.fill("#form-rectify textarea[name=note]", "窗口补充一次性告知清单")
    page.click("#form-rectify button")
    assert "已记录整改" in page.text_content(".ok")
    shot(page, "case")
    case_url = page.url
    # The citizen's same link now takes the one 追评, which closes the case.
    phone = browser.new_context(java_script_enabled=False, **PHONE)
    p2 = watch(phone.new_page())
    p2.goto(url)
    assert "整改后追评" in p2.content()
    shot(p2, "qr-followup")
    p2.check("input[name=level][value='4']")
    p2.click("button[type=submit]")
    assert "追评已提交" in p2.content()
    resp = p2.goto(url)
    assert resp is not None and resp.status == 409
    phone.close()
    page.goto(case_url)
    assert "已办结" in page.text_content("dl.facts")
    assert "追评" in page.text_content("#events")
    ctx.close()
