"""Line-based control of a running simulator: from stdin and/or a unix socket.

Each line is one command; each command gets exactly one reply line (`ok …` or `error: …`).
`quit` is understood here for every simulator: it replies `bye` and sets `stopped`. End of
stdin does not stop the simulator (it may run in the background with stdin closed).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import stat
import threading
from typing import Callable, TextIO

log = logging.getLogger("devices.control")

Handler = Callable[[str], str]


class ControlLines:
    def __init__(self, handler: Handler, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 socket_path: str | None = None) -> None:
        self._handler = handler
        self._stdin = stdin
        self._stdout = stdout
        self.socket_path = socket_path
        self.stopped = threading.Event()
        self._handle_lock = threading.Lock()
        self._out_lock = threading.Lock()
        self._server: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.socket_path:
            self._server = _listen(self.socket_path)
            self._spawn(self._accept_loop, "control-socket")
        if self._stdin is not None:
            self._spawn(self._stdin_loop, "control-stdin")

    def wait_until_stopped(self) -> None:
        """Block until `quit`, SIGTERM or Ctrl-C (call from the main thread), then close."""
        signal.signal(signal.SIGTERM, lambda *_: self.stopped.set())
        try:
            while not self.stopped.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self) -> None:
        self.stopped.set()
        if self._server is not None:
            self._server.close()
            self._server = None
            with contextlib.suppress(OSError):
                os.unlink(self.socket_path or "")

    def handle(self, line: str) -> str | None:
        """The reply to one control line (None for blank lines and # comments)."""
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        if line == "quit":
            self.stopped.set()
            return "bye"
        with self._handle_lock:
            try:
                return self._handler(line)
            except Exception as exc:        # a control line must never kill the simulator
                log.exception("control line %r failed", line)
                return f"error: {exc}"

    def write(self, text: str) -> None:
        """Print a line on stdout without interleaving with control replies."""
        if self._stdout is None:
            return
        with self._out_lock:
            self._stdout.write(text + "\n")
            self._stdout.flush()

    # ----------------------------------------------------------------- loops

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _stdin_loop(self) -> None:
        assert self._stdin is not None
        for line in self._stdin:
            reply = self.handle(line)
            if reply is not None:
                self.write(reply)
            if self.stopped.is_set():
                return

    def _accept_loop(self) -> None:
        while not self.stopped.is_set() and self._server is not None:
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return                          # closed
            self._spawn(self._serve_connection, "control-conn", conn)

    def _serve_connection(self, conn: socket.socket) -> None:
        conn.settimeout(None)
        with conn, conn.makefile("r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                reply = self.handle(line)
                if reply is not None:
                    try:
                        conn.sendall((reply + "\n").encode("utf-8"))
                    except OSError:
                        return
                if self.stopped.is_set():
                    return


def _listen(path: str) -> socket.socket:
    """A unix stream socket at `path`, replacing a stale socket file (never another file)."""
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    server.settimeout(0.2)
    return server


def send_control_line(path: str, line: str, timeout_s: float = 5.0) -> str:
    """Send one line to a simulator's control socket and return its reply (for demo scripts)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(path)
        sock.sendall((line.rstrip("\n") + "\n").encode("utf-8"))
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.decode("utf-8").rstrip("\n")
