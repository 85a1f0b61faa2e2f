"""A small hall for the domain tests: 4 windows, 3 categories, a few 事项, 4 staff (PIN 1234),
and a driver that submits commands at a chosen local time."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.loader import load_hall
from config.pins import hash_pin
from config.schema import (
    Assessment, Category, Hall, HallConfig, RatingPolicy, Service, Session, Staff, Tag, TagList, Thresholds, Window,
)
from hall_server.core.hub import Hub
from hall_server.core.writer import Applied
from tests.conftest import DEMO_HALL

TZ = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=1)
def demo_config() -> HallConfig:
    """The demo hall's configuration: what a test that needs no particular hall gives its hub."""
    return load_hall(DEMO_HALL)

DAY = date(2026, 11, 23)   # a Monday, a working day


@pytest.fixture(scope="session")
def pin_hash() -> str:
    return hash_pin("1234")


def make_config(pin_hash: str, *, default_rating: bool = False, folder: Path = Path("/nonexistent")) -> HallConfig:
    return HallConfig(
        folder=folder,
        hall=Hall(
            name="测试政务服务中心", region_code="110105", department_code="11010500001", timezone="Asia/Shanghai",
            sessions=(Session(time(9, 0), time(12, 0)), Session(time(13, 30), time(17, 30))),
            thresholds=Thresholds(wait_alert_min=30, pause_limit_min=30, recall_cap=5),
            rating=RatingPolicy(open_s=60, qr_valid_days=7, default_rating=default_rating, default_level=5),
            assessment=Assessment(),
        ),
        windows=(
            Window(1, "1号窗口", ("A",)),
            Window(2, "2号窗口", ("A", "B")),
            Window(3, "3号窗口", ("B",)),
            Window(4, "4号窗口", ("C",)),
        ),
        categories=(Category("A", "社保医保"), Category("B", "不动产"), Category("C", "综合受理")),
        services=(
            Service("S001", "社保卡申领", "A", 15, "人社局"),
            Service("S002", "医保转移", "A", 20, "医保局"),
            Service("B001", "不动产登记", "B", 30, "自然资源局"),
            Service("C001", "营业执照", "C", 10, ""),
        ),
        staff=(
            Staff("1001", "张三", "人社局", None, pin_hash, 4),
            Staff("1002", "李𠀀", "医保局", None, pin_hash, 5),        # a CJK Ext-B character (R13)
            Staff("1003", "王五", "自然资源局", None, pin_hash),
            Staff("1004", "赵六", "市场监管局", None, pin_hash),
        ),
        tags=TagList(version=2, tags=(
            Tag("N01", "服务态度差", (1, 2)), Tag("N02", "办事效率低", (1, 2)),
            Tag("N07", "材料要求繁琐", (1, 2), removed_in=2), Tag("P01", "热情周到", (4, 5)),
        )),
    )


def at(hh: int, mm: int = 0, ss: int = 0, day: date = DAY) -> int:
    return int(datetime.combine(day, time(hh, mm, ss), tzinfo=TZ).timestamp() * 1000)


@dataclass
class Driver:
    hub: Hub
    now: int

    def send(self, type_: str, body: dict[str, Any] | None = None, node: str = "terminal-1",
             now: int | None = None) -> Applied:
        if now is not None:
            self.now = now
        return self.hub.submit(type_, body or {}, node, now_ms=self.now)

    def ok(self, type_: str, body: dict[str, Any] | None = None, node: str = "terminal-1",
           now: int | None = None) -> dict[str, Any]:
        a = self.send(type_, body, node, now)
        assert a.ok, (type_, a.error, a.message)
        return a.result

    def refused(self, code: str, type_: str, body: dict[str, Any] | None = None, node: str = "terminal-1",
                now: int | None = None) -> Applied:
        a = self.send(type_, body, node, now)
        assert not a.ok and a.error == code, (type_, a.error, a.message, a.result)
        return a

    def advance(self, seconds: float) -> int:
        self.now += int(seconds * 1000)
        return self.now

    # common flows ------------------------------------------------------------------------
    def sign_in(self, window: int, staff_no: str) -> None:
        self.ok("window.sign_in", {"staff_no": staff_no, "pin": "1234"}, f"terminal-{window}")

    def serve(self, window: int, category: str = "A", service: str = "S001", minutes: float = 5,
              job_no: str | None = None) -> dict[str, Any]:
        """Take a ticket, call it at `window`, serve it for `minutes`, finish: the finish result."""
        self.ok("queue.take", {"category": category}, "dispenser-1")
        self.ok("queue.call_next", {}, f"terminal-{window}")
        self.ok("job.start", {}, f"terminal-{window}")
        self.advance(minutes * 60)
        body: dict[str, Any] = {"service_code": service}
        if job_no:
            body["job_no"] = job_no
        return self.ok("job.finish", body, f"terminal-{window}")


@pytest.fixture
def config(pin_hash: str) -> HallConfig:
    return make_config(pin_hash)


@pytest.fixture
def hub(tmp_path: Path, config: HallConfig) -> Hub:
    h = Hub(tmp_path / "hall.db", config)
    yield h
    h.close()


@pytest.fixture
def hall(hub: Hub) -> Driver:
    return Driver(hub, at(9, 0))
