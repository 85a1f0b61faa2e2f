"""The demo traffic's weekly 排班: staffed windows open with their clerk on the open half days of the
week (a makeup Saturday included, holidays not), the others closed; the hall server accepts it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from demo.traffic.roster import MANAGER_NODE, week_roster
from hall_server.core.hub import Hub
from hall_server.domain import attendance
from tests.hall_server.conftest import demo_config


def test_the_demo_roster_opens_only_staffed_windows_on_open_days(tmp_path: Path) -> None:
    config = demo_config()
    body = week_roster(config, {1: "HC2101", 2: "HC2102"}, date(2026, 5, 7))
    assert body["monday"] == "2026-05-04"
    days = sorted({c["day"] for c in body["cells"]})
    assert days == ["2026-05-06", "2026-05-07", "2026-05-08", "2026-05-09"]     # 4–5 May 劳动节; 9 May worked
    assert len(body["cells"]) == 4 * 2 * 2
    hub = Hub(tmp_path / "hall.db", config)
    try:
        assert hub.submit("roster.set_week", body, MANAGER_NODE).ok
        assert attendance.windows_due(hub.db, config, date(2026, 5, 9), 1) == [1, 2]
        assert attendance.windows_due(hub.db, config, date(2026, 5, 5), 0) == []
    finally:
        hub.close()
