"""Issue 15: the 问题台账 page — add by hand, filter, search, 销号 with evidence, XLSX export named by
its period; bad input comes back in Chinese with what was typed kept; no private text."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

from openpyxl import load_workbook

from tests.web.conftest import VIEWER_PW, login


def _bad_case(hall_env) -> int:
    res = hall_env.finish(window=2, staff_no="1002")
    return hall_env.drv.ok("rating.submit", {"job": res["job"], "level": 1, "tags": ["N01"], "text": "私密原话",
                                             "phone": "13812345678"}, "kiosk-2")["case_id"]


def test_ledger_add_filter_close_and_export(hall_env, client) -> None:
    case_id = _bad_case(hall_env)
    csrf = login(client)
    r = client.post("/ledger/add", data={"csrf": csrf, "source": "hotline", "title": "", "ref": "12345-0099"})
    assert r.status_code == 422 and "请填写问题描述" in r.text and "12345-0099" in r.text      # kept
    r = client.post("/ledger/add", data={"csrf": csrf, "source": "hotline", "title": "群众反映窗口推诿",
                                         "ref": "12345-0099", "window": "2", "staff_no": "1002",
                                         "due_workdays": "3"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/ledger/add", data={"csrf": csrf, "source": "inspection", "title": "督查：着装不规范",
                                         "due_workdays": "abc"})
    assert r.status_code == 422 and "督查：着装不规范" in r.text
    page = client.get("/ledger").text
    assert "群众反映窗口推诿" in page and "12345热线转办" in page and "差评" in page and "医保局" in page
    assert "私密原话" not in page and "13812345678" not in page
    assert f'href="/cases/{case_id}"' in page
    only = client.get("/ledger?source=hotline").text
    assert "群众反映窗口推诿" in only and f'href="/cases/{case_id}"' not in only
    assert "群众反映窗口推诿" not in client.get("/ledger?q=不存在的词").text
    assert client.get("/ledger?q=私密原话").text.count('data-key="case-') == 0

    item_id = int(re.search(r'href="/ledger/items/(\d+)"', page)[1])
    assert client.post(f"/ledger/items/{item_id}/close", data={"csrf": csrf, "note": " "}).status_code == 422
    r = client.post(f"/ledger/items/{item_id}/close", data={"csrf": csrf, "note": "约谈并回访，群众满意"},
                    follow_redirects=False)
    assert r.status_code == 303
    again = client.post(f"/ledger/items/{item_id}/close", data={"csrf": csrf, "note": "再次销号"})
    assert again.status_code == 409 and "状态已经变化" in again.text and "wrong_case_state" not in again.text
    item = client.get(f"/ledger/items/{item_id}").text
    assert "已销号" in item and "约谈并回访，群众满意" in item and "管理员 boss" in item and "manager-boss" not in item
    assert "群众反映窗口推诿" in client.get("/ledger?show=closed").text

    month = hall_env.site.local_text(hall_env.site.now_ms(), "%Y-%m")
    x = client.get(f"/ledger/export.xlsx?show=all&month={month}")
    assert x.status_code == 200
    assert f"问题台账_{month}.xlsx" in unquote(x.headers["content-disposition"])
    sheet = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["编号", "来源", "问题"]
    assert any(v[2] == "群众反映窗口推诿" and v[10] == "已销号" for v in values[1:])
    assert all("私密原话" not in str(v) and "13812345678" not in str(v) for v in values)


def test_viewer_reads_the_ledger_but_cannot_write(hall_env, client) -> None:
    csrf = login(client, "watcher", VIEWER_PW)
    assert client.get("/ledger").status_code == 200
    assert 'action="/ledger/add"' not in client.get("/ledger").text
    assert client.post("/ledger/add", data={"csrf": csrf, "source": "other", "title": "x"}).status_code == 403
