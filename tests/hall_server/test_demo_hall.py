"""The domain against the demo hall configuration (config/examples/demo-hall)."""

from pathlib import Path

from config.loader import load_hall
from hall_server.domain import assessment, figures
from hall_server.core.hub import Hub

from .conftest import Driver, at

DEMO = Path(__file__).resolve().parents[2] / "config" / "examples" / "demo-hall"


def test_a_day_at_the_demo_hall(tmp_path: Path) -> None:
    config = load_hall(DEMO)
    hub = Hub(tmp_path / "demo.db", config)
    try:
        hall = Driver(hub, at(8, 55))
        w = config.windows[0]
        person = config.staff[0]
        hall.ok("window.sign_in", {"staff_no": person.staff_no, "pin": "1234"}, f"terminal-{w.number}")
        category = w.categories[0]
        service = next(s for s in config.services if s.category == category)
        hall.ok("queue.take", {"category": category}, "dispenser-1", now=at(9, 1))
        hall.ok("queue.call_next", {}, f"terminal-{w.number}")
        hall.ok("job.start", {}, f"terminal-{w.number}")
        hall.advance(60)
        hall.ok("job.finish", {"service_code": service.code}, f"terminal-{w.number}")
        bad_tag = config.tags.for_level(1)[0].code
        r = hall.ok("rating.submit", {"level": 1, "tags": [bad_tag]}, f"kiosk-{w.number}")
        assert r["case_id"]
        hall.ok("system.tick", {}, "system-1", now=at(9, 45))
        rep = figures.report(hub.db, config, "2026-11-23", "2026-11-23", "window")
        assert rep[0]["finished"] == 1 and rep[0]["bad_rate"] == 1.0
        m = assessment.monthly(hub.db, config, "2026-11")
        assert len(m["windows"]) == len(config.windows)
    finally:
        hub.close()
