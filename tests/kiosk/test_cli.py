"""`python -m kiosk`: help, clear errors without tracebacks, and a real headless run on a bus."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.kiosk.conftest import DEMO, ROOT, kivy_env
from tests.kiosk.hall import Hall, wait


def run(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=kivy_env(tmp), capture_output=True,
                          text=True, timeout=60)


def test_help_documents_every_flag(tmp_path: Path) -> None:
    r = run("--help", tmp=tmp_path)
    assert r.returncode == 0
    for flag in ("--config", "--window", "--mode", "--bus", "--keys", "--node", "--data", "--lang", "--fullscreen",
                 "--windowed", "--qr-base", "--http", "--printer", "--prompt-audio", "--no-sound", "--headless", "--trace"):
        assert flag in r.stdout, flag


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    from hallnet.keys import new_node_key

    new_node_key(tmp_path / "srv", "kiosk-3")
    return new_node_key(tmp_path / "srv", "dispenser-1")


@pytest.mark.parametrize("args, says", [
    (["--config", str(DEMO)], "--window N is required"),
    (["--config", str(DEMO), "--mode", "tickets", "--window", "3"], "--window is for the evaluator"),
    (["--config", str(DEMO), "--window", "3"], "--keys DIR is required"),
    (["--config", str(DEMO), "--window", "3", "--keys", "{keys}", "--bus", "nowhere"], "--bus"),
    (["--config", "/nonexistent/hall", "--window", "3", "--keys", "{keys}"], "/nonexistent/hall"),
    (["--config", str(DEMO), "--window", "99", "--keys", "{keys}"], "not in the hall configuration"),
    (["--config", str(DEMO), "--window", "4", "--keys", "{keys}"], "kiosk-4.key_secret"),
    (["--config", str(DEMO), "--window", "3", "--keys", "{keys}", "--prompt-audio", "/no/such.wav"], "no such file"),
    (["--config", str(DEMO), "--window", "x"], "invalid int value"),
    (["--config", str(DEMO), "--window", "3", "--size", "big"], "WIDTHxHEIGHT"),
    (["--config", str(DEMO), "--window", "3", "--keys", "{keys}", "--http", "hall:8080"], "--http hall:8080: expected"),
])
def test_bad_arguments_say_what_is_wrong(tmp_path: Path, keys: Path, args: list[str], says: str) -> None:
    r = run(*[a.replace("{keys}", str(keys)) for a in args], "--data", str(tmp_path / "data"), tmp=tmp_path)
    assert r.returncode == 2, r.stderr
    assert says in r.stderr
    assert "Traceback" not in r.stderr


def _launch(tmp_path: Path, hall: Hall, *args: str) -> tuple[subprocess.Popen, list[dict]]:
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(DEMO), "--bus", hall.address,
                             "--keys", str(hall.root / "keys" / "issued"), "--data", str(tmp_path / "data"),
                             "--headless", "--trace", "--no-sound", *args],
                            cwd=ROOT, env=kivy_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events: list[dict] = []

    def read() -> None:
        for line in proc.stdout:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass

    threading.Thread(target=read, daemon=True).start()
    return proc, events


def _drawn(events: list[dict], screen: str) -> bool:
    return any(e["event"] == "drawn" and e.get("screen") == screen for e in events)


def test_the_evaluator_runs_and_shows_the_rating(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    hall = Hall(tmp_path / "srv").start_bus()
    hall.keys("kiosk-3")
    proc, events = _launch(tmp_path, hall, "--window", "3")
    try:
        assert wait(lambda: _drawn(events, "identity"), 30), events
        hall.finish_job()
        assert wait(lambda: _drawn(events, "rate"), 15), events
        assert (tmp_path / "data" / "kiosk-3-outbox.db").exists()
    finally:
        proc.kill()
        proc.wait()
        hall.close()


def test_the_dispenser_runs(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    hall = Hall(tmp_path / "srv").start_bus()
    hall.keys("dispenser-1")
    proc, events = _launch(tmp_path, hall, "--mode", "tickets", "--printer", "sim://printer-9")
    try:
        assert wait(lambda: _drawn(events, "home"), 30), events
    finally:
        proc.kill()
        proc.wait()
        hall.close()
