"""Issue 15: notifications to the duty officers, store-and-forward, against a real local HTTP
server (企业微信 / 钉钉 robots) and a real local SMTP server started by the test. A five-minute
outage is simulated with the sender's injectable clock (and the hub's `now_ms`), not by waiting."""

from __future__ import annotations

import dataclasses
from datetime import date
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from config.schema import HallConfig, NotifyPolicy
from hall_server.core.hub import Hub
from hall_server.core.notify_runner import NotifyRunner
from hall_server.domain.common import rows

from .conftest import Driver, at, make_config
from .notify_servers import RobotServer, SmtpServer

SECRET = "SECtest0123456789"
PHONE, TEXT = "13900001111", "私密原话：他翻白眼"


def _config(pin_hash: str, robots: RobotServer, smtp: SmtpServer, **extra: Any) -> HallConfig:
    base = make_config(pin_hash)
    policy = NotifyPolicy(wecom_webhook=f"{robots.url}/wecom?key=k1", dingtalk_webhook=f"{robots.url}/dingtalk?access_token=t1",
                          dingtalk_secret=SECRET, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="hall@example.cn",
                          smtp_to=("duty@example.cn",), retry_first_s=5, retry_max_s=60, timeout_s=5, **extra)
    return dataclasses.replace(base, hall=dataclasses.replace(base.hall, notify=policy))


class SimClock:
    def __init__(self, start_ms: int) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now


def _runner(hub: Hub, clock: SimClock) -> NotifyRunner:
    def submit(type_: str, body: dict[str, Any], node: str) -> Future[Any]:
        fut: Future[Any] = Future()
        fut.set_result(hub.submit(type_, body, node, now_ms=clock()))
        return fut

    return NotifyRunner(hub.reader, hub.config.hall.notify, submit, clock_ms=clock)


@pytest.fixture
def servers():
    with RobotServer(SECRET) as robots, SmtpServer() as smtp:
        yield robots, smtp


def _bad(hall: Driver) -> int:
    hall.ok("window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-2")
    hall.serve(2)
    return hall.ok("rating.submit", {"level": 1, "tags": ["N01", "N02"], "text": TEXT, "phone": PHONE},
                   "kiosk-2")["case_id"]


def test_a_bad_rating_reaches_each_channel_once_after_a_five_minute_outage(tmp_path: Path, pin_hash: str,
                                                                           servers) -> None:
    robots, smtp = servers
    hub = Hub(tmp_path / "hall.db", _config(pin_hash, robots, smtp))
    try:
        hall = Driver(hub, at(10, 0))
        robots.down = True                                  # the robots are down from the start …
        case_id = _bad(hall)
        queued = rows(hub.reader(), "SELECT channel, text FROM notify_outbox ORDER BY id")
        assert [m["channel"] for m in queued] == ["wecom", "dingtalk", "email"]      # with the 差评, same commit
        clock = SimClock(hall.now)
        runner = _runner(hub, clock)
        start, recovered = hall.now, hall.now + 5 * 60_000   # … for five minutes
        delivered_at: dict[str, int] = {}
        while clock.now <= start + 10 * 60_000:
            robots.down = clock.now < recovered
            runner.run_once()
            for path in ("/wecom", "/dingtalk"):
                if robots.delivered(path) and path not in delivered_at:
                    delivered_at[path] = clock.now
            clock.now += 1_000
        # once each, within a minute of the robots coming back; e-mail was up: sent at once
        assert len(robots.delivered("/wecom")) == 1 and len(robots.delivered("/dingtalk")) == 1
        assert all(recovered <= t_ <= recovered + 60_000 for t_ in delivered_at.values()), delivered_at
        tries = [h for h in robots.hits if h.path == "/wecom"]
        assert 5 <= len(tries) <= 12                        # backoff: 5, 10, 20, 40, 60, 60 … s, not every second
        assert len(smtp.messages) == 1 and smtp.envelopes[0][1] == ["<duty@example.cn>"]
        assert robots.bad_signatures == 0 and "sign" in robots.delivered("/dingtalk")[0].query
        hit = robots.delivered("/wecom")[0]
        assert hit.body["msgtype"] == "text" and hit.headers["X-Hall-Message-Id"]
        content = hit.body["text"]["content"]
        assert "2号窗口" in content and "李𠀀" in content and "非常不满意" in content and "服务态度差" in content
        assert f"#{case_id}" in content
        mail = smtp.messages[0]
        assert f"#{case_id}" in str(mail["Subject"]) and mail["Message-ID"]
        for body in [content, robots.delivered("/dingtalk")[0].body["text"]["content"],
                     mail.get_content()]:
            assert PHONE not in body and TEXT not in body and "私密" not in body
        stored = rows(hub.reader(), "SELECT sent_ms, attempts FROM notify_outbox")
        assert all(m["sent_ms"] for m in stored)
        before = len(robots.hits)
        clock.now += 3_600_000
        assert runner.run_once() == 0 and len(robots.hits) == before   # nothing sent twice
    finally:
        hub.close()


def test_overdue_items_and_a_lockout_are_notified_and_an_unreachable_channel_loses_nothing(
        tmp_path: Path, pin_hash: str, servers) -> None:
    robots, smtp = servers
    config = _config(pin_hash, robots, smtp)
    config = dataclasses.replace(config, hall=dataclasses.replace(config.hall, notify=dataclasses.replace(
        config.hall.notify, wecom_webhook="http://127.0.0.1:9/nothing-listens", dingtalk_webhook="", smtp_host="")))
    hub = Hub(tmp_path / "hall.db", config)
    try:
        hall = Driver(hub, at(10, 0))
        hall.ok("ledger.add", {"source": "hotline", "title": "12345转办：推诿", "due_workdays": 1}, "manager-boss")
        hall.ok("system.tick", {}, "system-1", now=at(17, 31, day=date(2026, 11, 24)))
        for _ in range(5):
            hall.send("window.sign_in", {"staff_no": "1003", "pin": "0000"}, "terminal-3")
        texts = [m["text"] for m in rows(hub.reader(), "SELECT text FROM notify_outbox ORDER BY id")]
        assert len(texts) == 2 and "12345转办：推诿" in texts[0] and "超过整改期限" in texts[0]
        assert "王五" in texts[1] and "锁定" in texts[1]
        clock = SimClock(hall.now)
        runner = _runner(hub, clock)
        assert runner.run_once() == 0                      # connection refused: kept, retried later
        m = rows(hub.reader(), "SELECT attempts, next_ms, sent_ms, last_error FROM notify_outbox ORDER BY id")[0]
        assert m["attempts"] == 1 and m["sent_ms"] is None and m["next_ms"] == clock.now + 5_000 and m["last_error"]
    finally:
        hub.close()


def test_no_channel_no_outbox(hall: Driver) -> None:
    _bad(hall)
    assert rows(hall.hub.reader(), "SELECT * FROM notify_outbox") == []


def test_the_sender_thread_delivers_within_seconds(tmp_path: Path, pin_hash: str, servers) -> None:
    import threading
    import time

    from hall_server.core.backend import LocalBackend
    from hall_server.core.notify_runner import runner_for

    robots, smtp = servers
    config = _config(pin_hash, robots, smtp)
    config = dataclasses.replace(config, hall=dataclasses.replace(config.hall, notify=dataclasses.replace(
        config.hall.notify, every_s=0.1, smtp_host="")))
    hub = Hub(tmp_path / "hall.db", config)
    backend = LocalBackend(hub)
    lock = threading.Lock()

    def submit(type_: str, body: dict[str, Any], node: str) -> Future[Any]:
        fut: Future[Any] = Future()
        with lock:
            fut.set_result(backend.command_sync(type_, body, node))
        return fut

    try:
        with lock:                                   # at the wall clock, which the sender's clock also reads
            hall = Driver(hub, int(time.time() * 1000))
            hall.ok("window.sign_in", {"staff_no": "1002", "pin": "1234"}, "terminal-2")
            hall.serve(2, minutes=0)
            hall.ok("rating.submit", {"level": 2, "tags": ["N02"]}, "kiosk-2")
        runner = runner_for(hub, submit)
        assert runner is not None
        runner.start()
        deadline = time.monotonic() + 10
        while not (robots.delivered("/wecom") and robots.delivered("/dingtalk")) and time.monotonic() < deadline:
            time.sleep(0.05)
        runner.stop()
        assert len(robots.delivered("/wecom")) == 1 and len(robots.delivered("/dingtalk")) == 1
        assert rows(hub.reader(), "SELECT COUNT(*) AS n FROM notify_outbox WHERE sent_ms IS NULL")[0]["n"] == 0
    finally:
        hub.close()
