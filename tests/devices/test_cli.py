"""`python -m devices`: help everywhere, clean errors, and the simulators driven as processes."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest
import serial

from devices.control_lines import send_control_line
from devices.keypad.codec import (
    ConfirmEvent,
    EventKind,
    Func,
    Poll,
    decode,
    encode,
    parse_reply,
    request_frame,
)
from devices.printer.receipts import Slip, slip_bytes

ROOT = Path(__file__).resolve().parents[2]
H = bytes.fromhex


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devices", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("args", [[], ["simulate"], ["simulate", "keypad"], ["simulate", "printer"]])
def test_help_everywhere(args: list[str]) -> None:
    result = run(*args, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


@pytest.mark.parametrize("args, message", [
    ([], "needs --config DIR and --keys DIR"),
    (["--config", "x", "--keys", "y"], "x"),
    (["--config", "config/examples/demo-hall", "--keys", "/nonexistent"], "/nonexistent"),
    (["--config", "config/examples/demo-hall", "--keys", "y", "--map", "nothing"], "expected NAME=URL"),
    (["--config", "config/examples/demo-hall", "--keys", "y", "--bus", "nowhere"], "HOST:PORT"),
])
def test_the_gateway_refuses_bad_arguments_clearly(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [
    ["simulate"], ["simulate", "fax"], ["simulate", "keypad", "--addresses", "0-3"],
    ["simulate", "keypad", "--addresses", "a"], ["simulate", "keypad", "--baud", "1200"],
    ["simulate", "keypad", "--keys", "6"], ["simulate", "keypad", "--noise", "2"],
    ["simulate", "keypad", "--reply-ms", "40-5"], ["--bogus"],
])
def test_bad_arguments_exit_2_without_traceback(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "error" in result.stderr


class Process:
    """A simulator process; its stdout read by a thread so that no read can hang a test."""

    def __init__(self, *args: str, announces: str = "PTY /dev/") -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "devices", *args], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.line()
        assert first.startswith(announces), first      # its first line names where it listens
        self.path = first.split(" ", 1)[1]

    def _read(self) -> None:
        for line in self.proc.stdout:                   # type: ignore[union-attr]
            self._lines.put(line.rstrip("\n"))

    def line(self, timeout_s: float = 10.0) -> str:
        try:
            return self._lines.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError("the simulator printed nothing") from None

    def say(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")              # type: ignore[union-attr]
        self.proc.stdin.flush()                          # type: ignore[union-attr]
        return self.line().strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def keypad_sim(tmp_path: Path) -> Iterator[tuple[Process, str]]:
    sock = str(tmp_path / "keypad.sock")
    process = Process("simulate", "keypad", "--addresses", "1-4", "--seed", "7", "--control", sock)
    yield process, sock
    process.close()


def exchange(port: serial.Serial, raw: bytes, timeout_s: float = 1.0) -> bytes:
    """Write one frame; the raw bytes of the one reply frame."""
    port.reset_input_buffer()
    port.write(raw)
    buf = b""
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        buf += port.read(max(1, port.in_waiting))
        consumed, frame = decode(buf)
        if frame is not None:
            return buf[consumed - len(encode(frame)) : consumed]
    raise AssertionError(f"no reply to {raw.hex(' ')}")


def test_keypad_simulator_speaks_the_datasheet_bytes(keypad_sim: tuple[Process, str]) -> None:
    process, sock = keypad_sim
    port = serial.serial_for_url(process.path, baudrate=9600, timeout=0.05)
    try:
        # Drain keypad 3's power-up event, then replay datasheet §5 over the pty.
        power_up = parse_reply(decode(exchange(port, encode(request_frame(3, Poll()))))[1], Func.POLL).event
        assert power_up is not None and power_up.kind == EventKind.POWER_UP
        exchange(port, encode(request_frame(3, ConfirmEvent(power_up.event_no))))
        assert exchange(port, H("68 02 02 68 03 06 09 16")) == H("68 02 02 68 03 86 89 16")
        assert exchange(port, H("68 08 08 68 03 03 00 00 00 2A 1E 01 4F 16")) == H("68 02 02 68 03 83 86 16")
        assert process.say("press 3 4") == "ok pressed"
        assert process.say("press 3 5") == "ok ignored (no open rating or no such key)"
        reply = exchange(port, H("68 02 02 68 03 06 09 16"))
        event = parse_reply(decode(reply)[1], Func.POLL).event
        assert reply[:10] == H("68 0C 0C 68 03 86") + event.event_no.to_bytes(2, "big") + H("01 00")
        assert (event.handle, event.level) == (0x2A, 4)
        assert exchange(port, encode(request_frame(3, ConfirmEvent(event.event_no)))) == H("68 02 02 68 03 87 8A 16")
        status = json.loads(send_control_line(sock, "status 3")[3:])
        assert status["3"]["pending"] == 0 and status["3"]["open_handle"] is None
        assert send_control_line(sock, "noise lots").startswith("error:")
        assert process.say("frobnicate").startswith("error: unknown command")
        assert process.say("reboot 9").startswith("error:")
        assert process.say("silent 2 on") == "ok"
        assert send_control_line(sock, "quit") == "bye"
        assert process.proc.wait(timeout=5) == 0
    finally:
        port.close()
    assert not os.path.exists(sock)


def test_keypad_simulator_stops_on_sigterm_and_keeps_running_without_stdin() -> None:
    process = Process("simulate", "keypad", "--addresses", "1")
    try:
        process.proc.stdin.close()                       # type: ignore[union-attr]
        time.sleep(0.3)
        assert process.proc.poll() is None
        process.proc.terminate()
        assert process.proc.wait(timeout=5) == 0
        assert "Traceback" not in process.proc.stderr.read()  # type: ignore[union-attr]
    finally:
        process.close()


def test_printer_simulator_decodes_and_writes_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "printed.jsonl"
    process = Process("simulate", "printer", "--out", str(out))
    slip = Slip("政务服务中心", "5号窗口", "社保卡申领", "SB-77", datetime(2025, 5, 6, 11, 0), "https://h.cn/r/77")
    try:
        port = serial.serial_for_url(process.path, baudrate=9600)
        port.write(slip_bytes(slip))
        assert process.line() == "--- document 1 (cut: partial) ---"
        shown = [process.line() for _ in range(11)]     # one line per block of the slip
        assert shown[0] == "政务服务中心" and "[QR M size 6] https://h.cn/r/77" in shown
        assert shown[-1] == "[feed 2]"
        port.close()
        assert process.say("status") == "ok 1 documents"
        assert process.say("quit") == "bye"
        assert process.proc.wait(timeout=5) == 0
    finally:
        process.close()
    [doc] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert doc["qr"] == ["https://h.cn/r/77"] and doc["lines"][0] == "政务服务中心"
