"""Issue 15: the 考核 page — manual 组织考评 / 自我考评 entries with a reason, beside the data; bad
input kept with a Chinese message; the annual roll-up page."""

from __future__ import annotations

from hall_server.web.users import add_user
from tests.web.conftest import VIEWER_PW, login


def test_a_manager_enters_an_org_deduction_and_sees_it_in_the_month(hall_env, client) -> None:
    hall_env.finish(window=1, staff_no="1001")
    month = hall_env.site.local_text(hall_env.site.now_ms(), "%Y-%m")
    csrf = login(client)
    page = client.get("/assessment").text
    assert "月度考核" in page and "组织考评" in page and "张三" in page
    r = client.post("/assessment/entries", data={"csrf": csrf, "month": month, "kind": "org", "target": "window",
                                                 "window": "1", "points": "abc", "reason": "窗口台面杂乱"})
    assert r.status_code == 422 and "填写有误" in r.text and "窗口台面杂乱" in r.text
    r = client.post("/assessment/entries", data={"csrf": csrf, "month": month, "kind": "org", "target": "window",
                                                 "window": "1", "points": "-2.5", "reason": "窗口台面杂乱"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/assessment?month={month}").text
    assert "窗口台面杂乱" in page and "-2.5" in page and "管理员录入" in page
    year = client.get(f"/assessment/year?year={month[:4]}").text
    assert "年终考核" in year and "1号窗口" in year
    client.cookies.clear()
    csrf = login(client, "watcher", VIEWER_PW)
    assert client.get("/assessment").status_code == 200
    assert client.post("/assessment/entries", data={"csrf": csrf, "month": month, "kind": "org", "target": "window",
                                                    "window": "1", "points": "1", "reason": "x"}).status_code == 403


def test_an_inspector_patrols_but_does_not_see_the_assessment(hall_env, client) -> None:
    add_user(hall_env.site.data_dir, "xunchayuan", "inspector", "inspect-pass-1")
    login(client, "xunchayuan", "inspect-pass-1")
    r = client.get("/assessment")
    assert r.status_code == 403 and "无权" in r.text
    assert client.get("/patrol").status_code == 200
