"""The roster and leave pages in-process: the week grid saves what was chosen (and a big grid fits
the form limits), copy last week, leave in half days and 销假, the viewer reads only, CSRF, Chinese
refusals (never a code), the audit trail names the manager."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hall_server.domain.common import rows
from hall_server.web.pages.roster_page import OPEN
from tests.web.conftest import VIEWER_PW, Hall, login


def this_monday() -> date:
    today = date.today()
    return today - timedelta(days=today.weekday())


def test_the_week_grid_saves_and_copies(client, hall_env: Hall) -> None:
    csrf = login(client)
    page = client.get("/roster?week=2026-11-25")                  # any day: its week
    assert page.status_code == 200 and "2026-11-23 — 2026-11-29" in page.text
    assert 'name="c0-0-1"' in page.text and 'name="c5-0-1"' not in page.text      # Saturday closed
    assert "周末休息" in page.text and "未排班" in page.text
    form = {"csrf": csrf, "monday": "2026-11-23", "c0-0-1": "1001", "c0-1-1": "1001", "c0-0-2": OPEN,
            "c1-0-2": "1002", "c0-0-3": "", "c9-0-1": "1001", "c0-0-4": "nobody"}       # junk fields ignored
    r = client.post("/roster", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/roster?week=2026-11-23&done=saved"
    db = hall_env.hub.db
    assert [(x["day"], x["half"], x["window"], x["staff_no"]) for x in rows(db, "SELECT * FROM roster ORDER BY day, half, window")] == [
        ("2026-11-23", 0, 1, "1001"), ("2026-11-23", 0, 2, ""), ("2026-11-23", 1, 1, "1001"), ("2026-11-24", 0, 2, "1002")]
    page = client.get("/roster?week=2026-11-23&done=saved")
    assert "本周排班已保存" in page.text
    assert re.search(r'name="c0-0-1"[^>]*>.*?<option value="1001" selected>', page.text)
    r = client.post("/roster/copy", data={"csrf": csrf, "monday": "2026-11-30"}, follow_redirects=False)
    assert r.status_code == 303
    assert rows(db, "SELECT staff_no FROM roster WHERE day = '2026-12-01'") == [{"staff_no": "1002"}]
    assert {a["who"] for a in rows(db, "SELECT who FROM roster_audit")} == {"manager-boss"}
    # nothing to copy: a clear Chinese refusal, no code
    r = client.post("/roster/copy", data={"csrf": csrf, "monday": "2027-06-07"})
    assert r.status_code == 409 and "上周没有排班" in r.text and "nothing_to_copy" not in r.text
    # one person at two windows in one half
    r = client.post("/roster", data={"csrf": csrf, "monday": "2026-11-23", "c0-0-1": "1001", "c0-0-2": "1001"})
    assert r.status_code == 409 and "两个窗口" in r.text
    # without the CSRF token: refused, nothing changed
    r = client.post("/roster", data={"monday": "2026-11-23"})
    assert r.status_code == 403 and len(rows(db, "SELECT * FROM roster WHERE day = '2026-11-23'")) == 3


def test_a_big_hall_grid_fits_the_form(client, hall_env: Hall) -> None:
    csrf = login(client)
    form = {"csrf": csrf, "monday": "2026-11-23"}
    for i in range(5):
        for h in (0, 1):
            for w in range(1, 151):                    # 150 windows × 10 halves: 1500 fields
                form[f"c{i}-{h}-{w}"] = OPEN
    r = client.post("/roster", data=form, follow_redirects=False)
    assert r.status_code == 409                        # windows 5–150 do not exist here: refused by name
    assert "窗口不存在" in r.text


def test_leave_in_half_days_and_cancel(client, hall_env: Hall) -> None:
    csrf = login(client)
    r = client.post("/roster/leave", data={"csrf": csrf, "staff_no": "1002", "kind": "trip", "start_day": "2026-11-23",
                                           "start_half": "1", "end_day": "2026-11-24", "end_half": "0",
                                           "note": "省厅培训"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/roster/leave?month=2026-11&done=added"
    page = client.get("/roster/leave?month=2026-11")
    assert "李𠀀（1002）" in page.text and "出差" in page.text and "2026-11-23 下午 — 2026-11-24 上午" in page.text
    client.post("/roster", data={"csrf": csrf, "monday": "2026-11-23", "c0-1-2": "1002", "c0-0-2": "1002"})
    week = client.get("/roster?week=2026-11-23")
    assert "李𠀀" in week.text.split('class="leave-row"')[1]
    # scheduled in a half on the trip: that cell is marked, the morning is not
    assert re.search(r'<td class=" conflict" title="所排人员这半天请假或出差[^"]*"><select name="c0-1-2"', week.text)
    assert re.search(r'<td class=""><select name="c0-0-2"', week.text)
    r = client.post("/roster/leave", data={"csrf": csrf, "staff_no": "1002", "start_day": "2026-11-24",
                                           "start_half": "0", "end_day": "2026-11-24", "end_half": "1"})
    assert r.status_code == 409 and "已有请假或出差记录" in r.text
    assert 'value="2026-11-24"' in r.text                             # what was typed is kept
    r = client.post("/roster/leave", data={"csrf": csrf, "staff_no": "1002", "start_day": "2026-13-01",
                                           "end_day": "2026-11-24"})
    assert r.status_code == 422 and "正确的开始和结束日期" in r.text
    leave_id = rows(hall_env.hub.db, "SELECT id FROM leave")[0]["id"]
    r = client.post(f"/roster/leave/{leave_id}/cancel", data={"csrf": csrf, "month": "2026-11"}, follow_redirects=False)
    assert r.status_code == 303
    assert "已销假" in client.get("/roster/leave?month=2026-11").text
    r = client.post(f"/roster/leave/{leave_id}/cancel", data={"csrf": csrf, "month": "2026-11"})
    assert r.status_code == 409 and "该请假已销假" in r.text


def test_a_viewer_reads_but_cannot_change(client, hall_env: Hall) -> None:
    csrf = login(client, "watcher", VIEWER_PW)
    page = client.get("/roster?week=2026-11-23")
    assert page.status_code == 200 and "<select" not in page.text and "复制上周排班" not in page.text
    assert client.post("/roster", data={"csrf": csrf, "monday": "2026-11-23"}).status_code == 403
    assert client.post("/roster/leave", data={"csrf": csrf}).status_code == 403
    assert rows(hall_env.hub.db, "SELECT * FROM roster_audit") == []


def test_a_year_without_calendar_data_is_a_warning_on_the_page(client, hall_env: Hall) -> None:
    login(client)
    page = client.get("/roster?week=2027-03-01")
    assert page.status_code == 200 and "2027年尚无官方节假日安排" in page.text and "暂按工作日" in page.text
    assert "calendar-warning" not in client.get("/roster?week=2026-03-02").text


def test_odd_addresses_get_a_page_not_a_trace(client, hall_env: Hall) -> None:
    csrf = login(client)
    for url in ("/roster?week=9999-12-31", "/roster?week=0001-01-01", "/roster?week=x", "/roster/leave?month=2026-13",
                "/roster/leave?month=9999-12"):
        r = client.get(url)
        assert r.status_code == 200 and "Traceback" not in r.text, url
    r = client.post("/roster/leave/abc/cancel", data={"csrf": csrf, "month": "2026-11"})
    assert r.status_code == 404 and "请假记录不存在" in r.text


def test_a_request_from_the_terminal_is_approved_on_the_page(client, hall_env: Hall) -> None:
    csrf = login(client)
    hall_env.drv.sign_in(1, "1001")
    out = hall_env.drv.ok("leave.request", {"start_day": "2026-11-24", "start_half": 1, "end_day": "2026-11-24",
                                             "end_half": 1, "note": "家中有事"}, "terminal-1")
    page = client.get("/roster/leave?month=2026-11")
    assert "待审批" in page.text and "张三（1001）" in page.text
    r = client.post(f"/roster/leave/{out['leave_id']}/decide", data={"csrf": csrf, "month": "2026-11", "approve": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/roster/leave?month=2026-11&done=approved"
    assert "待审批" not in client.get("/roster/leave?month=2026-11").text
    r = client.post(f"/roster/leave/{out['leave_id']}/decide", data={"csrf": csrf, "month": "2026-11", "approve": "no"})
    assert r.status_code == 409 and "该申请已处理过" in r.text
