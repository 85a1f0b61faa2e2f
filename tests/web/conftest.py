"""Fixtures for the web pages: an in-process hall (LocalBackend) on the small test hall, with
jobs made at the real current time (the pages and the domain use the wall clock), accounts,
and a logged-in Starlette TestClient."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from config.pins import hash_pin
from hall_server.assembly import hall_handlers
from hall_server.core.backend import LocalBackend
from hall_server.core.hub import Hub
from hall_server.web.users import add_user
from hall_server.web.app import make_app
from hall_server.web.pages.qr_page import rating_url
from hall_server.web.pages.site import Site
from tests.hall_server.conftest import Driver, make_config

MANAGER_PW = "manager-pass-1"
VIEWER_PW = "viewer-pass-1"


class Hall:
    """The test hall at the wall clock: staff at windows, 办件 finished, their rating links."""

    def __init__(self, hub: Hub, backend: LocalBackend) -> None:
        self.hub, self.backend = hub, backend
        self.drv = Driver(hub, int(time.time() * 1000))
        self.site = Site.for_backend(backend)
        self.signed: set[int] = set()

    def sync(self) -> None:
        self.drv.now = max(self.drv.now, int(time.time() * 1000))

    def finish(self, window: int = 1, staff_no: str = "1001", category: str = "A", service: str = "S001") -> dict[str, Any]:
        self.sync()
        if window not in self.signed:
            self.drv.sign_in(window, staff_no)
            self.signed.add(window)
        res = self.drv.serve(window, category, service, minutes=0)
        return res

    def link(self, job_pub: str) -> str:
        j = self.hub.reader().execute("SELECT finished_ms FROM jobs WHERE pub = ?", [job_pub]).fetchone()
        return rating_url(self.site, "", job_pub, j[0])


@pytest.fixture(scope="session")
def pin_hash() -> str:
    return hash_pin("1234")


@pytest.fixture
def hall_env(tmp_path: Path, pin_hash: str):
    hub = Hub(tmp_path / "hall.db", make_config(pin_hash), handlers=hall_handlers())
    backend = LocalBackend(hub)
    add_user(tmp_path, "boss", "manager", MANAGER_PW)
    add_user(tmp_path, "watcher", "viewer", VIEWER_PW)
    yield Hall(hub, backend)
    hub.close()


@pytest.fixture
def client(hall_env: Hall):
    with TestClient(make_app(hall_env.backend), base_url="http://hall.test") as c:
        yield c


def login(client: TestClient, user: str = "boss", password: str = MANAGER_PW) -> str:
    """Log in; returns the CSRF token of the session (read from a page's form)."""
    r = client.post("/login", data={"user": user, "password": password, "next": "/cases"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/cases")
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert m, page.text
    return m.group(1)
