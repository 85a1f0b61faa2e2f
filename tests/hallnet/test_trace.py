"""Stage tracing: off by default; on, marks reach a file per process and load back per message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hallnet import trace

ROOT = Path(__file__).resolve().parents[2]


def test_tracing_is_off_unless_asked_for() -> None:
    out = subprocess.run([sys.executable, "-c", "from hallnet import trace; print(trace.ON)"], cwd=ROOT,
                         env={k: v for k, v in os.environ.items() if k != "HALLNET_TRACE"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_marks_are_written_at_exit_and_read_back_per_message(tmp_path: Path) -> None:
    code = ("from hallnet import trace\n"
            "trace.mark('put', 'a', 100)\ntrace.mark('stored', 'a', 250)\ntrace.mark('put', 'b', 300)\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "HALLNET_TRACE": str(tmp_path)},
                   check=True)
    assert trace.load(tmp_path) == {"a": {"put": 100, "stored": 250}, "b": {"put": 300}}
