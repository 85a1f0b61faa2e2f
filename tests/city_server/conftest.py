"""A throwaway PostgreSQL server for the city tests (or HALL_TEST_PG_DSN), a fresh database per
test, and a city server process on a loopback port."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from city_server.store import migrate
from config.pins import hash_pin
from city_server.throwaway_pg import ThrowawayPg
from tests.conftest import ROOT, free_port, wait_until


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A DSN of a server we may create databases on."""
    given = os.environ.get("HALL_TEST_PG_DSN")
    if given:
        yield given
        return
    pg = ThrowawayPg(port=random.randint(20000, 60000)).start()
    try:
        yield pg.dsn
    finally:
        pg.stop()


def _with_db(dsn: str, name: str) -> str:
    parts = [p for p in dsn.split() if not p.startswith("dbname=")]
    return " ".join([*parts, f"dbname={name}"])


@pytest.fixture
def city_dsn(pg_server: str) -> Iterator[str]:
    name = f"city_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = _with_db(pg_server, name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn)
    try:
        yield dsn
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class CityProcess:
    dsn: str
    port: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "CityProcess":
        out = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "city_server", "serve", "--dsn", self.dsn,
                                      "--http", f"127.0.0.1:{self.port}"], cwd=ROOT, stdout=out, stderr=out,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        def up() -> bool:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False
        assert wait_until(up, 30), self.log.read_text(errors="replace")[-2000:]
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


@pytest.fixture
def city(city_dsn: str, tmp_path: Path) -> Iterator[CityProcess]:
    c = CityProcess(city_dsn, free_port(), tmp_path / "city.log")
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="session")
def pin_hash() -> str:
    return hash_pin("1234")
