"""Issue #16: the city demo (`python -m demo.city`) runs a throwaway PostgreSQL, the city server,
three hall servers with the traffic simulator, each forwarding; within half a minute the city holds
办件 of all three halls; Ctrl-C stops every process and removes the temporary folder."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import ROOT


def _demo_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("city-demo-*"))


def test_the_city_demo_forwards_three_halls_and_cleans_up() -> None:
    before = _demo_folders()
    base = random.randint(21000, 39000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo.city", "--speed", "60", "--start", "09:20", "--status-every", "2",
         "--http", f"127.0.0.1:{base}", "--hall-http", str(base + 1), "--hall-bus", str(base + 10)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: list[str] = []
    seen: dict[str, int] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("市级已收到"):
                seen = {name: int(n) for name, n in re.findall(r"(\S+政务服务中心): 办件 (\d+)", line)}
                if len(seen) == 3 and all(n > 0 for n in seen.values()):
                    break
        assert len(seen) == 3 and all(n > 0 for n in seen.values()), "\n".join(lines[-40:])
        assert any(f"市级页面: http://127.0.0.1:{base}/ranking" in x for x in lines)
        assert any(x.startswith("登录: city / ") for x in lines)
        during = _demo_folders() - before
        assert len(during) == 1
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, rest
        assert "临时数据已清除" in rest
        assert not any(p.exists() for p in during)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
