"""Real local receivers for the notification tests: an HTTP server standing in for the 企业微信 /
钉钉 group robots (it can be "down": 503), and a tiny SMTP server written with socketserver
(aiosmtpd is not a dependency; the standard library has no SMTP server since 3.12)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socketserver
import threading
from dataclasses import dataclass, field
import email.policy
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Hit:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict[str, Any]
    status: int
    accepted: bool           # a 2xx with errcode 0: the robot took it


class RobotServer:
    """POSTs to /wecom and /dingtalk; `down` answers 503; a signed 钉钉 request is checked."""

    def __init__(self, dingtalk_secret: str = "") -> None:
        self.down = False
        self.hits: list[Hit] = []
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                status = 503 if outer.down else 200
                if url.path == "/dingtalk" and dingtalk_secret and status == 200:
                    ts = query.get("timestamp", [""])[0]
                    want = base64.b64encode(hmac.new(dingtalk_secret.encode(), f"{ts}\n{dingtalk_secret}".encode(),
                                                     hashlib.sha256).digest()).decode()
                    if query.get("sign", [""])[0] != want:
                        outer.bad_signatures += 1
                        status = 200
                        answer = {"errcode": 310000, "errmsg": "sign not match"}
                    else:
                        answer = {"errcode": 0, "errmsg": "ok"}
                else:
                    answer = {"errcode": 0, "errmsg": "ok"}
                outer.hits.append(Hit(url.path, query, dict(self.headers), json.loads(raw or b"{}"), status,
                                      status == 200 and answer["errcode"] == 0))
                data = json.dumps(answer).encode() if status == 200 else b"busy"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def delivered(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path and h.accepted]

    def __enter__(self) -> "RobotServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass
class SmtpServer:
    """Enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self) -> None:
                self.reply("220 localhost test SMTP")
                sender, rcpts = "", []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode("utf-8", "replace").strip()
                    verb = cmd[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250-localhost" if verb == "EHLO" else "250 localhost")
                        if verb == "EHLO":
                            self.reply("250 8BITMIME")
                    elif verb == "MAIL":
                        sender, rcpts = cmd.split(":", 1)[1].strip(), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip())
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        data = b""
                        while True:
                            chunk = self.rfile.readline()
                            if chunk in (b".\r\n", b".\n", b""):
                                break
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        outer.messages.append(message_from_bytes(data, policy=email.policy.default))
                        outer.envelopes.append((sender, rcpts))
                        self.reply("250 queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SmtpServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
