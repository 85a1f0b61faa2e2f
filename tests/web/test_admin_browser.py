"""The 管理 pages in headless Chromium against a real `python -m hall_server` process (issue 14):
a clerk with a rare-character name and a photo is added in the browser, then signs in at a
terminal (a HallClient on the real bus) and appears in the evaluator's state (another HallClient,
subscribed) without a restart; a wrong field gets a Chinese message beside it and loses nothing;
a lock-out shows as an alert and is ended; a clerk is disabled. Screenshots: docs/screens/web-admin-*.png.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from hall_server.web.users import add_user
from hallnet.client import HallClient
from hallnet.keys import load_node_keys
from tests.conftest import ROOT, ServerProcess, wait_until

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SCREENS = ROOT / "docs" / "screens"
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
PW = "manager-password-1"
RARE_NAME = "𠈌𪚥燚"          # CJK Ext B, Ext B, and a rare BMP character

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh)", allow_module_level=True)


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("admin-e2e")
    srv = ServerProcess(data=root / "server")
    srv.data.mkdir()
    add_user(srv.data, "boss", "manager", PW)
    add_user(srv.data, "root", "admin", PW)
    for node in ("terminal-6", "kiosk-6", "terminal-7", "dispenser-1"):
        srv.new_key(node)
    srv.start()
    clients: list[HallClient] = []

    def client(node: str, subscribe: bool) -> HallClient:
        c = HallClient(node, srv.bus, load_node_keys(srv.data / "keys" / "issued", node), root / f"{node}.db",
                       subscribe=subscribe, heartbeat_s=0.5, silence_s=2.0, resend_s=0.5).start()
        clients.append(c)
        return c

    try:
        yield srv, client, root
    finally:
        for c in clients:
            c.stop()
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


@pytest.fixture(autouse=True)
def no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, CSP_VIOLATIONS


def open_page(browser: Any, srv: ServerProcess, user: str = "boss") -> Any:
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    page.on("console", lambda msg: CSP_VIOLATIONS.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text else None)
    page.goto(f"{srv.http}/login?next=/admin")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PW)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/staff$"))
    return page


def landed(page: Any, pattern: str) -> None:
    """After a submit: the page answered and is at `pattern` (else the page's text says why)."""
    page.wait_for_load_state()
    assert re.search(pattern, page.url), page.text_content("main")


def shot(page: Any, name: str, full_page: bool = True) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"web-admin-{name}.png"), full_page=full_page)


def photo_file(root: Path) -> Path:
    """A 1200×1600 JPEG with EXIF (a camera's make and GPS-like data): the server must strip it."""
    img = Image.new("RGB", (1200, 1600), (200, 120, 90))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"          # Make
    exif[0x0112] = 1                    # Orientation
    out = root / "photo.jpg"
    img.save(out, "JPEG", exif=exif.tobytes())
    return out


def test_a_new_clerk_with_a_rare_name_and_a_photo_signs_in_and_shows_on_the_evaluator(hall, browser) -> None:
    srv, client, root = hall
    page = open_page(browser, srv)
    page.click("#add-staff")
    page.fill("#f-staff_no", "HC3001")
    page.fill("#f-name", RARE_NAME)
    page.fill("#f-department", "区市场监督管理局")
    page.select_option("#f-stars", "4")
    page.fill("#f-promise", "耐心细致，一次办好")
    page.fill("#f-pin", "12")                                   # too short: told beside the field
    page.set_input_files("#f-photo", str(photo_file(root)))
    page.click("#save")
    assert "密码为4到12位数字" in page.text_content("#err-pin")
    assert page.input_value("#f-name") == RARE_NAME               # nothing typed is lost
    assert page.input_value("#f-department") == "区市场监督管理局"
    shot(page, "staff-error")
    page.fill("#f-pin", "246810")
    page.set_input_files("#f-photo", str(photo_file(root)))
    page.click("#save")
    page.wait_for_load_state()
    assert "done=added" in page.url, page.text_content("main")
    assert RARE_NAME in page.text_content("#staff-HC3001")
    shot(page, "staff")

    # the photo is stored by the server: resized, EXIF gone
    photos = list((srv.data / "hall-config" / "photos").glob("staff-*.jpg"))
    assert len(photos) == 1
    with Image.open(photos[0]) as stored:
        assert stored.size[0] <= 480 and stored.size[1] <= 640 and not stored.getexif()
    page.click(f"text={RARE_NAME}")
    photo = page.request.get(f"{srv.http}/admin/staff/HC3001/photo")
    assert photo.status == 200 and photo.headers["content-type"] == "image/jpeg", photo.status
    page.wait_for_function("document.querySelector('img.photo').complete")
    assert page.locator("img.photo").evaluate("img => img.naturalWidth") > 0
    shot(page, "staff-edit")

    evaluator = client("kiosk-6", subscribe=True)
    terminal = client("terminal-6", subscribe=False)
    reply = terminal.call("window.sign_in", {"staff_no": "HC3001", "pin": "246810"}, timeout_s=10)
    assert reply["ok"], reply
    assert wait_until(lambda: ((evaluator.get("window/6") or {}).get("staff") or {}).get("name") == RARE_NAME, 10)
    card = evaluator.get("window/6")["staff"]
    photo_path = card.pop("photo")
    assert card == {"staff_no": "HC3001", "name": RARE_NAME, "department": "区市场监督管理局", "stars": 4,
                    "promise": "耐心细致，一次办好"}
    import httpx
    got = httpx.get(srv.http + photo_path, timeout=10)               # what an evaluator fetches, no login
    assert photo_path.startswith("/staff-photos/staff-") and got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert httpx.get(srv.http + "/staff-photos/hall.db", timeout=10).status_code == 404
    assert terminal.call("window.sign_out", {}, timeout_s=10)["ok"]
    page.context.close()


def test_a_lockout_is_an_alert_and_is_ended_then_a_clerk_is_disabled(hall, browser) -> None:
    srv, client, _ = hall
    terminal = client("terminal-6", subscribe=False)
    for _ in range(5):
        terminal.call("window.sign_in", {"staff_no": "HC2106", "pin": "0000"}, timeout_s=10)
    assert terminal.call("window.sign_in", {"staff_no": "HC2106", "pin": "1234"}, timeout_s=10)["error"] == "account_locked"
    page = open_page(browser, srv)
    alert = page.text_content("#locked-HC2106")
    assert "连续输错密码" in alert and "HC2106" in alert
    shot(page, "staff-locked")
    page.click("#locked-HC2106 button")
    landed(page, r"done=unlocked$")
    assert page.locator("#locked-HC2106").count() == 0
    assert terminal.call("window.sign_in", {"staff_no": "HC2106", "pin": "1234"}, timeout_s=10)["ok"]
    assert terminal.call("window.sign_out", {}, timeout_s=10)["ok"]
    page.click("#staff-HC2106 button")                             # 停用
    landed(page, r"done=disabled$")
    assert "已停用" in page.text_content("#staff-HC2106")
    assert terminal.call("window.sign_in", {"staff_no": "HC2106", "pin": "1234"}, timeout_s=10)["error"] == "wrong_pin"
    page.context.close()


def test_a_window_closed_in_the_browser_refuses_sign_in_at_once(hall, browser) -> None:
    srv, client, _ = hall
    page = open_page(browser, srv)
    page.goto(f"{srv.http}/admin/windows")
    page.click("#window-7 a")
    page.evaluate("document.getElementById('window-form').noValidate = true")   # the server's own check
    page.fill("#f-name", "")                                      # a required field left empty
    page.uncheck("#f-open")
    page.click("#save")
    assert "必填" in page.text_content("#err-name")
    assert not page.is_checked("#f-open")                          # the untick is not lost
    page.fill("#f-name", "不动产登记二号窗口（暂停）")
    page.click("#save")
    landed(page, r"/admin/windows\?done=saved$")
    assert "已关闭" in page.text_content("#window-7")
    shot(page, "windows")
    terminal = client("terminal-7", subscribe=True)
    reply = terminal.call("window.sign_in", {"staff_no": "HC2107", "pin": "1234"}, timeout_s=10)
    assert not reply["ok"] and reply["error"] == "window_closed"
    assert wait_until(lambda: (terminal.get("window/7") or {}).get("name") == "不动产登记二号窗口（暂停）", 10)
    page.context.close()


def test_a_new_tag_version_leaves_old_ratings_with_theirs(hall, browser) -> None:
    srv, client, _ = hall
    terminal, kiosk, dispenser = client("terminal-6", False), client("kiosk-6", True), client("dispenser-1", False)

    def rate(tag: str) -> int:
        assert dispenser.call("queue.take", {"category": "B"}, timeout_s=10)["ok"]
        assert terminal.call("queue.call_next", {}, timeout_s=10)["ok"]
        assert terminal.call("job.start", {}, timeout_s=10)["ok"]
        assert terminal.call("job.finish", {"service_code": "BDC-0101"}, timeout_s=10)["ok"]
        assert wait_until(lambda: kiosk.get("rating/6") is not None, 10)
        version = kiosk.get("rating/6")["tag_version"]
        r = kiosk.call("rating.submit", {"level": 1, "tags": [tag]}, timeout_s=10)
        assert r["ok"], r
        assert wait_until(lambda: kiosk.get("rating/6") is None, 10)
        return version

    assert terminal.call("window.sign_in", {"staff_no": "HC2101", "pin": "1234"}, timeout_s=10)["ok"]
    assert rate("N01") == 2
    page = open_page(browser, srv)
    page.goto(f"{srv.http}/admin/tags")
    assert "当前第2版" in page.text_content("#tag-version")
    page.check("#tag-N01 input[name=remove]")
    page.fill("#f-code0", "N09")
    page.fill("#f-text0", "窗口指引不清")
    page.click("#publish")                                         # no level chosen: told, nothing lost
    assert "至少选择一个评价等级" in page.text_content("#err-levels0")
    assert page.input_value("#f-text0") == "窗口指引不清" and page.is_checked("#tag-N01 input[name=remove]")
    page.check("input[name=levels0][value='1']")
    page.check("input[name=levels0][value='2']")
    page.click("#publish")
    landed(page, r"/admin/tags\?done=3$")
    assert "当前第3版" in page.text_content("#tag-version")
    assert "第3版起删除" in page.text_content("#tag-N01")
    shot(page, "tags")
    assert rate("N09") == 3                                        # the evaluator's next rating: version 3
    import sqlite3
    db = sqlite3.connect(f"file:{srv.data / 'hall.db'}?mode=ro", uri=True)
    try:
        got = db.execute("SELECT tags, tag_version FROM ratings ORDER BY id").fetchall()
    finally:
        db.close()
    assert got == [('["N01"]', 2), ('["N09"]', 3)]                 # the old rating keeps its version and tag
    assert terminal.call("window.sign_out", {}, timeout_s=10)["ok"]
    page.context.close()


def test_hall_settings_and_the_audit_log_with_its_export(hall, browser) -> None:
    srv, _, root = hall
    page = open_page(browser, srv)
    page.goto(f"{srv.http}/admin/hall")
    page.fill("#f-end0", "08:00")                                  # before its start
    page.fill("#f-wait_alert_min", "abc")
    page.click("#save")
    assert "结束时间须晚于开始时间" in page.text_content("#err-end0")
    assert "整数" in page.text_content("#err-wait_alert_min")
    page.fill("#f-end0", "12:00")
    page.fill("#f-wait_alert_min", "25")
    page.click("#save")
    landed(page, r"/admin/hall\?done=1$")
    assert page.input_value("#f-wait_alert_min") == "25"
    shot(page, "hall")
    page.goto(f"{srv.http}/admin/audit")
    text = page.text_content("#audit")
    for what in ("修改大厅设置", "发布标签新版本", "关闭窗口", "停用人员", "解除锁定", "添加人员"):
        assert what in text, what
    assert "scrypt$" not in text                                   # a PIN hash is never shown
    shot(page, "audit", full_page=False)
    with page.expect_download() as download:
        page.click("#audit-xlsx")
    path = root / "audit.xlsx"
    download.value.save_as(path)
    from openpyxl import load_workbook
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("时间", "操作人", "操作") and any(r[2] == "添加人员" and r[4] == "HC3001" for r in rows)
    assert not any("scrypt$" in str(c) for r in rows for c in r)   # PIN hashes never leave the store
    page.context.close()


def test_an_admin_manages_the_web_accounts_and_a_manager_cannot(hall, browser) -> None:
    srv, _, _ = hall
    page = open_page(browser, srv)
    assert page.locator("nav.tabs a[href='/admin/accounts']").count() == 0
    resp = page.goto(f"{srv.http}/admin/accounts")
    assert resp is not None and resp.status == 403
    page.context.close()
    page = open_page(browser, srv, "root")
    page.goto(f"{srv.http}/admin/accounts")
    page.fill("#f-name", "bad name")
    page.evaluate("document.getElementById('account-form').noValidate = true")
    page.click("#add-account")
    assert "字母" in page.text_content("#err-name")
    page.fill("#f-name", "zhang.wei")
    page.select_option("#f-role", "viewer")
    page.click("#add-account")
    shown = page.text_content("#shown-password")
    assert "zhang.wei 的密码" in shown
    password = shown.split("密码：", 1)[1].split("（", 1)[0]
    page.select_option("#account-zhang\\.wei select[name=role]", "manager")
    page.click("#account-zhang\\.wei form[action$='/role'] button")
    landed(page, r"done=role$")
    shot(page, "accounts")
    page.goto(f"{srv.http}/admin/audit")
    text = page.text_content("#audit")
    assert "修改账号角色" in text and "添加账号" in text and password not in text
    page.context.close()
    ctx = browser.new_context(**DESKTOP)
    p2 = ctx.new_page()
    p2.goto(f"{srv.http}/login?next=/admin")
    p2.fill("input[name=user]", "zhang.wei")
    p2.fill("input[name=password]", password)
    p2.click("button[type=submit]")
    landed(p2, r"/admin/staff$")                                     # now a manager: the 管理 pages open
    ctx.close()


def test_a_new_service_is_offered_at_once(hall, browser) -> None:
    srv, client, _ = hall
    page = open_page(browser, srv)
    page.goto(f"{srv.http}/admin/services")
    page.click("#add-service")
    page.evaluate("document.getElementById('service-form').noValidate = true")
    page.fill("#f-code", "BDC-0999")
    page.fill("#f-name", "不动产登记资料查询")
    page.select_option("#f-category", "B")
    page.fill("#f-promised_min", "0")
    page.click("#save")
    assert "1到1440之间的整数" in page.text_content("#err-promised_min")
    assert page.input_value("#f-name") == "不动产登记资料查询"
    page.fill("#f-promised_min", "15")
    page.click("#save")
    landed(page, r"/admin/services\?done=added$")
    assert "不动产登记资料查询" in page.text_content("#service-BDC-0999")
    shot(page, "services", full_page=False)
    terminal, dispenser = client("terminal-6", False), client("dispenser-1", False)
    assert terminal.call("window.sign_in", {"staff_no": "HC2105", "pin": "1234"}, timeout_s=10)["ok"]
    assert dispenser.call("queue.take", {"category": "B"}, timeout_s=10)["ok"]
    assert terminal.call("queue.call_next", {}, timeout_s=10)["ok"]
    assert terminal.call("job.start", {}, timeout_s=10)["ok"]
    done = terminal.call("job.finish", {"service_code": "BDC-0999"}, timeout_s=10)
    assert done["ok"], done                                          # the new 事项 is known at once
    page.context.close()
