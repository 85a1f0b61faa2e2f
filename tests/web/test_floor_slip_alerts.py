"""The managers' live floor lists slips that failed to print (or that the gateway could not
confirm) as alerts, in Chinese, until a 补打 of the same 办件 prints (issue #11)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from config.pins import hash_pin
from config.schema import Printer
from hall_server.core.backend import LocalBackend
from hall_server.core.hub import Hub
from hall_server.domain.alerts import slip_alerts
from hall_server.domain.hours import day_of
from hall_server.web.pages.floor_page import floor_view, render_floor
from tests.hall_server.conftest import make_config
from tests.web.conftest import Hall


@pytest.fixture
def hall(tmp_path: Path):
    config = make_config(hash_pin("1234"))
    windows = tuple(dataclasses.replace(w, printer=Printer(port="/dev/ttyUSB-printer-1", baud=9600))
                    if w.number == 1 else w for w in config.windows)
    hub = Hub(tmp_path / "hall.db", dataclasses.replace(config, windows=windows))
    yield Hall(hub, LocalBackend(hub))
    hub.close()


def slip_texts(hall: Hall) -> list[tuple[str, str, str]]:
    v = floor_view(hall.site)
    return [(a["kind"], a["level"], a["text"]) for a in v["alerts"] if a["kind"].startswith("slip_")]


def test_a_failed_slip_is_an_alert_until_its_reprint_prints(hall: Hall) -> None:
    d = hall.drv
    fin = hall.finish()
    first = hall.hub.state.get("slips/1")["pending"][0]
    assert slip_texts(hall) == []                                     # printing: no alert
    d.ok("slip.result", {"print_id": first, "ok": False, "error": "no_paper"}, "gateway-1")
    text = f"1号窗口凭条打印失败：打印机缺纸（办件编号 {fin['job_no']}），待窗口补打"
    assert slip_texts(hall) == [("slip_failed", "red", text)]
    html = render_floor(hall.site, floor_view(hall.site))
    assert "凭条打印失败" in html and text in html and "no_paper" not in html
    again = d.ok("slip.reprint", {}, "terminal-1")["print_id"]
    assert [k for k, _, _ in slip_texts(hall)] == ["slip_failed"]     # the reprint has not printed yet
    d.ok("slip.result", {"print_id": again, "ok": False, "error": "offline"}, "gateway-1")
    assert [t for _, _, t in slip_texts(hall)] == [text.replace("打印机缺纸", "打印机脱机")]   # replaced, not added
    third = d.ok("slip.reprint", {}, "terminal-1")["print_id"]
    d.ok("slip.result", {"print_id": third, "ok": True}, "gateway-1")
    assert slip_texts(hall) == []                                     # cleared by the reprint


def test_an_unconfirmed_slip_is_an_orange_alert_and_another_job_s_slip_is_its_own(hall: Hall) -> None:
    d = hall.drv
    one = hall.finish()
    p1 = hall.hub.state.get("slips/1")["pending"][0]
    d.ok("slip.result", {"print_id": p1, "ok": False, "error": "interrupted"}, "gateway-1")
    two = hall.finish()
    p2 = hall.hub.state.get("slips/1")["pending"][0]
    d.ok("slip.result", {"print_id": p2, "ok": False, "error": "no_status"}, "gateway-1")
    assert slip_texts(hall) == [
        ("slip_unconfirmed", "orange", f"1号窗口凭条未确认是否打出：打印机未回复状态（办件编号 {two['job_no']}）"),
        ("slip_unconfirmed", "orange", f"1号窗口凭条未确认是否打出：打印服务中途重启（办件编号 {one['job_no']}）"),
    ]
    # only today's 办件 (补打 takes only those): tomorrow the list is empty
    tomorrow = day_of(d.now + 86_400_000, hall.hub.config)
    assert slip_alerts(hall.hub.reader(), tomorrow) == []
