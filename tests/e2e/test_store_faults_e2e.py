"""Storage faults and the writer's edges with real processes, real ZeroMQ sockets and real disks:
an unstorable body leaves an honest client's outbox for good, two nodes may use the same message id,
a full disk (a real tmpfs) refuses by name and recovers without a restart, a read-only data folder
(a real read-only mount) stops the start, and a dead bus thread ends the process non-zero."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import msgpack
import pytest
import zmq

from hallnet import messages as m
from hallnet.address import BusAddress
from hallnet.client import HallClient
from hallnet.keys import apply_client_keys, load_node_keys
from tests.conftest import ROOT, ServerProcess, wait_http, wait_until

CRASHING = ROOT / "tests" / "e2e" / "crashing_server.py"


def _dealer(ctx: zmq.Context, srv: ServerProcess, keys: Path, node: str) -> zmq.Socket:
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    apply_client_keys(sock, load_node_keys(keys, node))
    sock.connect(BusAddress.parse(srv.bus).commands)
    return sock


def _ask(sock: zmq.Socket, env: m.Envelope, timeout_s: float = 10.0) -> dict[str, Any]:
    """Send one envelope as a node would, return the server's reply body for it."""
    sock.send(m.encode(env))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sock.poll(100):
            got = m.decode(sock.recv())
            if got.type == m.REPLY and got.body.get("ref") == env.id:
                return got.body
    raise TimeoutError(f"no reply to {env.type} {env.id}")


def _http(url: str, body: dict[str, Any] | None = None, form: str | None = None) -> tuple[int, str]:
    data, ctype = None, None
    if body is not None:
        data, ctype = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data, ctype = form.encode(), "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype} if ctype else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


@dataclass
class _LoggedServer(ServerProcess):
    """A server whose log lives outside its data folder (a full data disk cannot take log lines)."""

    log_file: Path = Path("server.log")
    script: list[str] | None = None

    def start(self) -> "_LoggedServer":
        self.log_path = self.log_file
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *(self.script or ["-m", "hall_server"]), "--config", str(self.config),
                 "--data", str(self.data), "--bus", self.bus, "--http", f"127.0.0.1:{self.http_port}",
                 "--log-level", "WARNING"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_http(self.http + "/api/health", proc=self.proc)
        return self


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small real tmpfs (root only); unmounted after the test."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Write a ballast file until the filesystem says ENOSPC."""
    ballast = folder / "ballast"
    with open(ballast, "wb", buffering=0) as f:
        for chunk in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass
    return ballast


# --- bodies the server cannot store ----------------------------------------------------------

def test_an_unstorable_body_is_refused_for_good_and_leaves_the_outbox(server: ServerProcess, tmp_path: Path) -> None:
    keys = server.new_key("kiosk-1")
    server.start()
    client = HallClient("kiosk-1", server.bus, load_node_keys(keys, "kiosk-1"), tmp_path / "outbox.db",
                        subscribe=False, heartbeat_s=0.3, silence_s=1.5, resend_s=0.5)
    with client:
        deep: dict[str, Any] = {}
        for _ in range(1000):                              # as deep as msgpack itself will pack
            deep = {"d": deep}
        for detail in ({"raw": b"\x00\xff"}, {"x": msgpack.ExtType(7, b"e")}, {"n": float("nan")},
                       {"big": 2 ** 64 - 1}, deep):
            reply = client.call("audit.note", {"kind": "bad", "subject": "s", "detail": detail}, timeout_s=10)
            assert (reply["ok"], reply["error"], reply["retry"]) == (False, "bad_request", False), reply
        assert wait_until(lambda: client.pending_count() == 0, 10), "the refused messages must leave the outbox"
        good = client.call("audit.note", {"kind": "good", "subject": "s", "detail": {"n": 1}}, timeout_s=10)
        assert good["ok"], good
    server.stop()
    db = sqlite3.connect(server.data / "hall.db")
    kinds = [r[0] for r in db.execute("SELECT kind FROM audit WHERE kind LIKE 'note.%'")]
    db.close()
    assert kinds == ["note.good"]


def test_the_same_message_id_from_two_nodes_is_applied_for_each(server: ServerProcess) -> None:
    keys = server.new_key("kiosk-1")
    server.new_key("kiosk-2")
    server.start()
    ctx = zmq.Context()
    try:
        one, two = _dealer(ctx, server, keys, "kiosk-1"), _dealer(ctx, server, keys, "kiosk-2")
        same = m.new_id()
        a = _ask(one, m.Envelope(type="audit.note", node="kiosk-1", seq=1, id=same, body={"kind": "t", "subject": "1"}))
        b = _ask(two, m.Envelope(type="audit.note", node="kiosk-2", seq=1, id=same, body={"kind": "t", "subject": "2"}))
        again = _ask(one, m.Envelope(type="audit.note", node="kiosk-1", seq=1, id=same,
                                     body={"kind": "t", "subject": "1"}))
        assert a["ok"] and b["ok"] and again == a
        assert b["result"] == {"count": 1}, "kiosk-2's note counts for kiosk-2, not as kiosk-1's resend"
        one.close()
        two.close()
    finally:
        ctx.term()
    server.stop()
    db = sqlite3.connect(server.data / "hall.db")
    rows = db.execute("SELECT node, subject FROM audit WHERE kind = 'note.t' ORDER BY id").fetchall()
    db.close()
    assert rows == [("kiosk-1", "1"), ("kiosk-2", "2")]


# --- disk full, read-only ------------------------------------------------------------------------------

def test_a_full_disk_refuses_by_name_logs_once_and_recovers_without_a_restart(tmpfs: Path, tmp_path: Path) -> None:
    """Disk full for real: the data folder is on an 8 MB tmpfs that a ballast file fills up."""
    srv = _LoggedServer(data=tmpfs / "data", log_file=tmp_path / "server.log")
    srv.data.mkdir()
    keys = srv.new_key("kiosk-1")
    srv.new_key("kiosk-2")
    srv.start()
    ctx = zmq.Context()
    client = HallClient("kiosk-2", srv.bus, load_node_keys(keys, "kiosk-2"), tmp_path / "outbox.db",
                        subscribe=False, heartbeat_s=0.3, silence_s=1.5, resend_s=0.5)
    try:
        raw = _dealer(ctx, srv, keys, "kiosk-1")
        assert _ask(raw, m.Envelope(type="audit.note", node="kiosk-1", seq=1, body={"kind": "t", "subject": "0"}))["ok"]
        ballast = _fill(tmpfs)
        pad = {"pad": "x" * 60_000}                       # the WAL must grow: the disk has no room for it
        for i in range(1, 41):                             # a flood of writes, all refused by name
            r = _ask(raw, m.Envelope(type="audit.note", node="kiosk-1", seq=i + 1,
                                     body={"kind": "t", "subject": str(i), "detail": pad}), timeout_s=5)
            assert (r["ok"], r["retry"], r["error"]) == (False, True, "storage_full"), r
        client.start()
        client.send("audit.note", {"kind": "t", "subject": "from kiosk-2", "detail": pad})
        status, text = _http(srv.http + "/api/health")
        health = json.loads(text)
        assert status == 503 and health["storage"]["status"] == "full" and health["bus"]["alive"]
        status, text = _http(srv.http + "/api/comments", body={"text": "很好"})
        assert status == 503 and json.loads(text)["error"] == "storage_full"
        status, text = _http(srv.http + "/c", form="text=%E5%BE%88%E5%A5%BD")
        assert status == 503 and "存储空间已满" in text
        time.sleep(1.5)
        assert client.pending_count() == 1, "not stored, so not acknowledged: it stays in the outbox"
        ballast.unlink()                                   # space is back; the same process carries on
        assert wait_until(lambda: client.pending_count() == 0, 15)
        again = _ask(raw, m.Envelope(type="audit.note", node="kiosk-1", seq=99, body={"kind": "t", "subject": "after"}))
        assert again["ok"]
        status, text = _http(srv.http + "/api/health")
        assert status == 200 and json.loads(text)["storage"]["status"] == "ok"
        assert srv.proc is not None and srv.proc.poll() is None
        raw.close()
    finally:
        client.stop()
        ctx.term()
        srv.stop()
    log = (tmp_path / "server.log").read_text("utf-8", "replace")
    full_lines = [line for line in log.splitlines() if "storage full" in line]
    assert 1 <= len(full_lines) <= 2, log[-3000:]            # one line per 10 s, not one per message
    assert "Traceback" not in log, log[-3000:]
    assert "storage writable again" in log
    db = sqlite3.connect(srv.data / "hall.db")
    subjects = {r[0] for r in db.execute("SELECT subject FROM audit WHERE kind = 'note.t'")}
    db.close()
    assert subjects == {"0", "from kiosk-2", "after"}, "nothing refused was stored, everything acked is"


def test_the_server_refuses_to_start_on_a_read_only_data_folder(tmpfs: Path, tmp_path: Path) -> None:
    """A real read-only mount (tmpfs remounted ro; root ignores permission bits, not a ro mount)."""
    srv = ServerProcess(data=tmpfs / "data")
    srv.data.mkdir()
    srv.new_key("kiosk-1")
    srv.start()
    assert srv.stop() == 0
    (srv.data / "server.log").unlink()
    done = subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for data in (srv.data, tmpfs / "missing"):
        run = subprocess.run([sys.executable, "-m", "hall_server", "--config", str(srv.config), "--data", str(data),
                              "--bus", srv.bus, "--http", f"127.0.0.1:{srv.http_port}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert run.returncode == 2, run.stderr
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "Read-only file system" in lines[0] and str(data) in lines[0], run.stderr
        assert "Traceback" not in run.stderr


def test_the_server_refuses_to_start_when_its_database_file_is_read_only(server: ServerProcess) -> None:
    """The folder stays writable, the database file does not: a read-only bind mount of hall.db
    onto itself (root ignores permission bits, not a read-only mount)."""
    server.start()
    assert server.stop() == 0
    db = server.data / "hall.db"
    done = subprocess.run(["mount", "--bind", str(db), str(db)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here (needs root): {done.stderr.strip()}")
    try:
        done = subprocess.run(["mount", "-o", "remount,ro,bind", str(db)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        run = subprocess.run([sys.executable, "-m", "hall_server", "--config", str(server.config),
                              "--data", str(server.data), "--bus", server.bus, "--http", f"127.0.0.1:{server.http_port}"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
    finally:
        subprocess.run(["umount", str(db)], capture_output=True)
    assert run.returncode == 2, run.stderr
    line, = run.stderr.strip().splitlines()
    assert "not writable" in line and "hall.db: Read-only file system" in line, line


# --- a dead bus thread ---------------------------------------------------------------------------------

def test_the_process_exits_non_zero_when_the_bus_thread_dies(tmp_path: Path) -> None:
    srv = _LoggedServer(data=tmp_path / "data", log_file=tmp_path / "server.log", script=[str(CRASHING)])
    srv.data.mkdir()
    keys = srv.new_key("kiosk-1")
    srv.start()
    ctx = zmq.Context()
    try:
        raw = _dealer(ctx, srv, keys, "kiosk-1")
        raw.send(m.encode(m.Envelope(type="test.kill_bus", node="kiosk-1", seq=1, body={})))
        assert srv.proc is not None
        code = srv.proc.wait(15)
        raw.close()
    finally:
        ctx.term()
        srv.kill()
    log = (tmp_path / "server.log").read_text("utf-8", "replace")
    assert code == 3, log[-2000:]
    assert "the bus thread died" in log
