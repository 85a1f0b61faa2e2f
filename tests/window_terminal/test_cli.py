"""`python -m window_terminal`: --help documents every option; bad arguments get one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hallnet.keys import new_node_key

from .conftest import DEMO_HALL, ROOT


def run(*args: str, timeout_s: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "window_terminal", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout_s, env={"PATH": "/usr/bin:/bin", "KIVY_NO_ARGS": "1"})


def test_help_documents_every_option() -> None:
    r = run("--help")
    assert r.returncode == 0
    for option in ("--config", "--window", "--bus", "--keys", "--data", "--lang", "--fullscreen", "--windowed"):
        assert option in r.stdout, option
    assert "--qr-base" not in r.stdout and "--map" not in r.stdout     # issue #11: the gateway prints slips
    assert "F1" in r.stdout and "F12" in r.stdout


@pytest.mark.parametrize("args, expected", [
    (["--window", "3"], "--config"),
    (["--config", str(DEMO_HALL)], "--window"),
    (["--config", str(DEMO_HALL), "--window", "x"], "invalid int value"),
    (["--config", str(DEMO_HALL), "--window", "99"], "no such window"),
    (["--config", "/nonexistent/hall", "--window", "3"], "/nonexistent/hall"),
    (["--config", str(DEMO_HALL), "--window", "3", "--bus", "nonsense"], "--bus"),
    (["--config", str(DEMO_HALL), "--window", "3", "--lang", "fr"], "invalid choice"),
    (["--config", str(DEMO_HALL), "--window", "3", "--fullscreen", "--windowed"], "not allowed"),
])
def test_bad_arguments_are_explained_without_a_traceback(tmp_path: Path, args: list[str], expected: str) -> None:
    r = run(*args, "--data", str(tmp_path / "data"))
    assert r.returncode == 2
    assert expected in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_keys_say_how_to_issue_them(tmp_path: Path) -> None:
    r = run("--config", str(DEMO_HALL), "--window", "3", "--data", str(tmp_path), "--keys", str(tmp_path / "nokeys"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "terminal-3" in r.stderr and "keys new terminal-3" in r.stderr


def test_keys_of_another_node_are_not_taken(tmp_path: Path) -> None:
    issued = new_node_key(tmp_path / "server", "terminal-4")
    r = run("--config", str(DEMO_HALL), "--window", "3", "--data", str(tmp_path), "--keys", str(issued))
    assert r.returncode == 2 and "terminal-3.key_secret" in r.stderr


def test_the_terminal_runs_against_a_real_server_and_stops_cleanly(server, tmp_path: Path, monkeypatch) -> None:
    import json
    import os
    import signal
    import time
    import urllib.request

    monkeypatch.setenv("HALL_MANAGER_KEY", "test-manager-key")     # /api/nodes names nodes to managers only
    server.start()
    issued = server.new_key("terminal-3")
    env = {"PATH": "/usr/bin:/bin", "SDL_VIDEODRIVER": "offscreen", "KIVY_HOME": str(tmp_path / "kivy"),
           "HOME": str(tmp_path)}
    log = open(tmp_path / "terminal.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "window_terminal", "--config", str(DEMO_HALL), "--window", "3",
                             "--bus", server.bus, "--keys", str(issued), "--data", str(tmp_path / "data"),
                             "--windowed"], cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        alive = False
        while time.monotonic() < deadline and not alive:
            assert proc.poll() is None, (tmp_path / "terminal.log").read_text()
            nodes_request = urllib.request.Request(server.http + "/api/nodes",
                                                   headers={"X-Api-Key": "test-manager-key"})
            with urllib.request.urlopen(nodes_request, timeout=2) as r:
                nodes = json.loads(r.read())["nodes"]
            alive = bool(nodes.get("terminal-3", {}).get("alive"))
            time.sleep(0.2)
        assert alive, nodes
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    text = (tmp_path / "terminal.log").read_text()
    assert proc.returncode == 0, text
    assert "window_terminal/" not in text and "hallnet/" not in text      # no traceback of ours (Kivy's
    #                                                                     own input probing may log one)
    assert (tmp_path / "data" / "terminal-3.outbox.db").exists()
