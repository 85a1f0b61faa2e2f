"""No raw ids, codes or compact timestamps where managers read (config/labels.py): the case page
names the channel and the node of each event, the figures' rating table gives each code its name
and times in hall time, the floor names each window's devices."""

from __future__ import annotations

import re

from hall_server.web.pages.floor_page import floor_view
from tests.web.conftest import login


def test_the_rating_table_and_the_case_page_read_as_names(hall_env, client) -> None:
    fin = hall_env.finish()
    hall_env.sync()
    r = hall_env.drv.ok("rating.submit", {"job": fin["job"], "level": 2, "tags": ["N01"]}, "kiosk-1")
    login(client)
    exp = client.get("/figures/export.csv?table=ratings").content.decode("utf-8-sig")
    header, row = exp.splitlines()[:2]
    assert "差评原因" in header and "差评原因代码" not in header
    assert "4 窗口评价器" in row and "2 不满意" in row and "N01 服务态度差" in row
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row) and not re.search(r"\d{8}T\d{6}", row), row
    assert row.endswith(",否")                                   # not a system default rating
    page = client.get(f"/cases/{r['case_id']}").text
    assert "窗口评价器" in page and "1号窗口评价器" in page and "kiosk-1" not in page


def test_the_floor_names_devices_not_node_ids(hall_env, monkeypatch) -> None:
    monkeypatch.setattr(hall_env.backend, "presence", lambda: {
        "kiosk-2": {"alive": True, "silent_s": 0.1}, "gateway-1": {"alive": True, "silent_s": 0.2}})
    hall_env.hub.submit("system.tick", {}, "system")
    v = floor_view(hall_env.site)
    labels = [d["label"] for w in v["windows"] for d in w["devices"]]
    assert "2号窗口评价器" in labels and not any("kiosk-" in label for label in labels)
