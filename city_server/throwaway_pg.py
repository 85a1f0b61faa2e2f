"""A PostgreSQL server of its own in a temporary folder, for tests and the city demo.

Debian's PostgreSQL 15 (installed by scripts/setup.sh); `initdb` refuses to run as root, so the
cluster belongs to the `postgres` user when we are root. It listens on a Unix socket in its own
folder only (no TCP), and `stop()` removes everything. `HALL_TEST_PG_DSN` (tests) names an
existing server instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


class PgUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the server did not start."""


class ThrowawayPg:
    def __init__(self, port: int = 5432) -> None:
        self.port = port
        self.folder: Path | None = None

    @property
    def dsn(self) -> str:
        assert self.folder is not None
        return f"host={self.folder} port={self.port} user=postgres dbname=postgres"

    def dsn_for(self, dbname: str) -> str:
        return self.dsn.replace("dbname=postgres", f"dbname={dbname}")

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        full = list(cmd)
        if os.geteuid() == 0:
            full = ["runuser", "-u", "postgres", "--", *full]
        return subprocess.run(full, capture_output=True, text=True, timeout=120)

    def start(self) -> "ThrowawayPg":
        if not (BIN / "initdb").exists():
            raise PgUnavailable(f"no PostgreSQL 15 in {BIN}: run scripts/setup.sh")
        self.folder = Path(tempfile.mkdtemp(prefix="hall-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        done = self._run(str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                         "--no-sync")
        if done.returncode != 0:
            raise PgUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}")
        opts = (f"-p {self.port} -k {self.folder} -c listen_addresses='' -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        done = self._run(str(BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.folder / "pg.log"),
                         "-w", "-t", "60", "start")
        if done.returncode != 0:
            log = (self.folder / "pg.log").read_text(errors="replace")[-800:] if (self.folder / "pg.log").exists() else ""
            raise PgUnavailable(f"pg_ctl start failed: {done.stderr.strip()[-300:]} {log}")
        deadline = time.monotonic() + 30
        while not (self.folder / f".s.PGSQL.{self.port}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.folder is None:
            return
        self._run(str(BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
