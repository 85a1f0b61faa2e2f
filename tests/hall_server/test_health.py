"""`/api/health` tells the truth about the bus thread, the writer and the storage: a real bus on
loopback ports whose thread is killed on purpose makes health answer 503."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from hall_server.domain.context import Context, Handlers, Handling
from hall_server.assembly import hall_handlers
from hall_server.core.backend import BusBackend
from hall_server.transport.bus import Bus
from hall_server.core.hub import Hub
from hall_server.web.app import make_app
from hallnet.keys import server_keys
from tests.conftest import free_port_pair, wait_until
from tests.hall_server.conftest import demo_config


class _BusKilled(BaseException):
    """Not an Exception: nothing between the handler and the top of the bus thread stops it."""


def _kill_bus(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    raise _BusKilled("killed on purpose by the test")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")   # the kill, on purpose
def test_health_reports_a_dead_bus_and_writer_with_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Hub(tmp_path / "hall.db", demo_config(), handlers=Handlers.merged(hall_handlers(), {"test.kill_bus": Handling(_kill_bus)}))
    bus = Bus(hub, f"127.0.0.1:{free_port_pair()}", server_keys(tmp_path), tmp_path / "keys" / "nodes").start()
    try:
        app = TestClient(make_app(BusBackend(hub, bus), api_keys={}))
        assert bus.submit("audit.note", {"kind": "t"}, "test").result(10).ok
        r = app.get("/api/health")
        body = r.json()
        assert r.status_code == 200 and body["ok"] is True
        assert body["bus"]["alive"] and body["writer"]["alive"] and body["storage"]["status"] == "ok"
        assert body["writer"]["queue"] >= 0 and body["writer"]["last_commit_s"] < 10
        bus.submit("test.kill_bus", {}, "test")
        assert wait_until(lambda: not bus.alive().alive, 10)
        r = app.get("/api/health")
        body = r.json()
        assert r.status_code == 503 and body["ok"] is False
        assert body["bus"]["alive"] is False and body["writer"]["alive"] is False
    finally:
        bus.stop()
        hub.close()
