"""The README's demo: starts a living hall, reports it, and stops without leaving processes behind."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, free_port, free_port_pair


def _descendants(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry.name))
                out += _descendants(int(entry.name))
    return out


def test_the_demo_runs_a_living_hall_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    http = f"127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [sys.executable, "-m", "demo", "--data", str(data), "--for", "25", "--speed", "120",
         "--status-every", "5", "--http", http, "--bus", f"127.0.0.1:{free_port_pair()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "演示大厅已启动" in proc.stdout and "演示已停止" in proc.stdout
    assert f"http://{http}/floor" in proc.stdout and f"http://{http}/screen/hall" in proc.stdout
    first_screen, _, statuses = proc.stdout.partition("按 Ctrl-C 停止全部进程。")
    assert re.search(r"管理员\s+admin\s+密码 \S+", first_screen), first_screen     # the logins, once
    assert proc.stdout.count("admin ") == 1
    for part in ("大厅服务器", "评价按键模拟器", "凭条打印模拟器", "设备网关", "客流模拟"):
        assert part in first_screen, part
    lines = [line for line in statuses.splitlines() if line.strip() and "演示已停止" not in line]
    assert lines and all(re.match(r"^\[大厅时间 \d\d:\d\d\] ", line) for line in lines), lines
    assert all(re.search(r"[A-Za-z]{3,}", line.split("]", 1)[1]) is None for line in lines), lines   # Chinese only
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "Traceback" not in (data / "demo.log").read_text(errors="replace")
    assert _descendants(os.getpid()) == [], "the demo left processes behind"
    given = [json.loads(line) for line in (data / "ratings-given.jsonl").read_text().splitlines()]
    given = [g for g in given if "level" in g]
    assert given, "citizens rated within a simulated morning"
    channels = {g["channel"] for g in given}
    assert {"kiosk", "keypad"} <= channels, channels
    import sqlite3

    db = sqlite3.connect(data / "hall.db")
    assert db.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] > 0
    recorded = {pub: (level, channel, json.loads(tags)) for pub, level, channel, tags in db.execute(
        "SELECT j.pub, r.level, r.channel, r.tags FROM ratings r JOIN jobs j ON j.id = r.job_id WHERE r.round = 1")}
    expected = {g["job"]: (g["level"], g["channel_code"], g["tags"]) for g in given}
    assert recorded == expected


def test_the_demo_refuses_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "demo", "--data", str(tmp_path), "--http", f"127.0.0.1:{port}"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 2
    assert "in use" in proc.stderr and "Traceback" not in proc.stderr


def test_the_demo_with_gui_opens_a_kiosk_and_a_terminal_and_stops_them(tmp_path: Path) -> None:
    """`--gui`: a kiosk and a window terminal for a person (whether or not a display is there,
    the demo runs on and stops them with everything else)."""
    data = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "demo", "--data", str(data), "--for", "5", "--no-traffic", "--gui",
         "--gui-window", "2", "--http", f"127.0.0.1:{free_port()}", "--bus", f"127.0.0.1:{free_port_pair()}"],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2号窗口评价器" in proc.stdout and "2号窗口终端" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert _descendants(os.getpid()) == [], "the demo left processes behind"
