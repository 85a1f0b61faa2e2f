"""A hall's days of work made through its real hub (the same commands the nodes send), for the
city tests: 办件 at two windows, ratings on the kiosks (some 差评, whose cases are called back
and rectified), sign-ins (some late) and sign-outs."""

from __future__ import annotations

import random
from concurrent.futures import Future
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from config.schema import HallConfig
from hall_server.core.export_runner import ExportRunner
from hall_server.core.hub import Hub
from hall_server.domain.city_records import CitySink
from tests.hall_server.conftest import Driver, at


def work_days(hall: Driver, first: date, days: int, per_day: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    for d in range(days):
        day = first + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        late = rng.random() < 0.3
        hall.now = at(9, 12 if late else 0, day=day)
        hall.sign_in(1, "1001")
        hall.sign_in(2, "1002")
        for i in range(per_day):
            window = 1 + i % 2
            hall.serve(window, "A", rng.choice(("S001", "S002")), minutes=rng.uniform(2, 25))
            if rng.random() < 0.75:
                level = rng.choice((5, 5, 5, 4, 4, 3, 2, 1))
                body: dict[str, Any] = {"level": level}
                if level <= 2:
                    body["tags"] = ["N01"]
                r = hall.ok("rating.submit", body, f"kiosk-{window}")
                if r.get("case_id") and rng.random() < 0.7:
                    hall.ok("case.callback", {"case_id": r["case_id"], "note": "已回访"}, "web")
                    if rng.random() < 0.6:
                        hall.ok("case.rectify", {"case_id": r["case_id"], "note": "已整改"}, "web")
            hall.advance(rng.uniform(30, 300))
        hall.now = max(hall.now, at(17, 35, day=day))
        for window in (1, 2):
            hall.ok("window.sign_out", {}, f"terminal-{window}")


def runner(hub: Hub, url: str, code: str, key: str, now_ms: int) -> ExportRunner:
    """The hall's forwarding runner, its cursor moved through `hub` (the tests' writer)."""
    def submit(type_: str, body: dict[str, Any], node: str) -> "Future[Any]":
        fut: Future[Any] = Future()
        fut.set_result(hub.submit(type_, body, node, now_ms=now_ms))
        return fut
    return ExportRunner(hub, submit, None, 1.0, city=CitySink(url, code, key))


def new_hub(path: Path, config: HallConfig) -> Hub:
    return Hub(path, config)
