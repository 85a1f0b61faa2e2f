"""Case list and case page: a due time reads "YYYY-MM-DD 下班前" (the working day it ends), never
the next day's "00:00", and a due date counted without official calendar data is marked."""

from __future__ import annotations

import re
from datetime import date

from tests.hall_server.conftest import at
from tests.web.conftest import login

MARK = "（暂定，待官方日历）"


def _bad_case(hall_env, day: date, window: int) -> int:
    drv = hall_env.drv
    drv.now = at(10, 0, day=day)
    drv.sign_in(window, f"100{window}")
    drv.serve(window, "A", "S001", minutes=1)
    return drv.ok("rating.submit", {"level": 1, "tags": ["N01"], "phone": "13900001111"}, f"kiosk-{window}")["case_id"]


def test_due_times_show_the_working_day_and_the_provisional_mark(hall_env, client) -> None:
    official = _bad_case(hall_env, date(2026, 11, 23), 1)       # Monday: due Tuesday 24 Nov, 2026 data
    provisional = _bad_case(hall_env, date(2026, 12, 31), 2)    # due 2027-01-01: no 2027 data in this hall
    login(client)
    rows = {int(m[1]): m[2] for m in re.finditer(r'<tr data-case="(\d+)">(.*?)</tr>', client.get("/cases").text)}
    assert "2026-11-24 下班前" in rows[official] and MARK not in rows[official]
    assert "2027-01-01 下班前" in rows[provisional] and "2027-01-21 下班前" in rows[provisional]
    assert rows[provisional].count(MARK) == 2
    assert "00:00" not in rows[official] + rows[provisional]
    assert 'title="当天下班（17:30，最后一个办公时段结束）前"' in rows[official]

    page = client.get(f"/cases/{provisional}").text
    assert "2027-01-01 下班前" in page and MARK in page
    assert 'id="provisional-hint"' in page and "暂按周一至周五计算工作日" in page
    page = client.get(f"/cases/{official}").text
    assert "2026-11-24 下班前" in page and MARK not in page and 'id="provisional-hint"' not in page
