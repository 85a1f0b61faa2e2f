"""EKP-2 transaction layer: one request, its reply, with timeouts and retries (datasheet §4.6).

The transport is any object with pyserial's `read(size)`, `write(data)` and `timeout`
(`serial.serial_for_url(...)`: a real port, a pty path, `loop://`, `socket://`). `in_waiting`
and `reset_input_buffer()` are used when the transport has them.

Per request: flush stale input, wait until the bus has been quiet ≥ 4 ms since the last reply,
write, then read until a frame from the addressed device answering this function arrives or
150 ms pass; at most 3 tries. The host does not apply the 20 ms inter-byte rule to replies: user
space cannot see byte gaps reliably (OS and USB buffering), and L, CS, 16 plus the reply timeout
already guarantee a frame is whole.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from devices.keypad.codec import CodecError, Request, Reply, decode, encode, parse_reply, request_frame

log = logging.getLogger("devices.keypad.link")

DATASHEET_REPLY_TIMEOUT_S = 0.150
DATASHEET_TRIES = 3
DATASHEET_QUIET_S = 0.004


class NoReply(Exception):
    """A device did not answer a request in any of the tries."""

    def __init__(self, addr: int, request: Request, tries: int) -> None:
        super().__init__(f"keypad {addr}: no reply to {type(request).__name__} after {tries} tries")
        self.addr = addr
        self.request = request


@dataclass
class LinkStats:
    requests: int = 0
    tries: int = 0
    timeouts: int = 0
    bad_replies: int = 0       # a frame answering us whose DATA did not parse
    transport_errors: int = 0
    bytes_out: int = 0
    bytes_in: int = 0


class KeypadLink:
    def __init__(
        self,
        transport: Any,
        *,
        reply_timeout_s: float = DATASHEET_REPLY_TIMEOUT_S,
        tries: int = DATASHEET_TRIES,
        quiet_s: float = DATASHEET_QUIET_S,
        read_slice_s: float = 0.005,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.reply_timeout_s = reply_timeout_s
        self.tries = tries
        self.quiet_s = quiet_s
        self._clock = clock
        self._sleep = sleep
        self._quiet_until_s = 0.0
        self.stats = LinkStats()
        transport.timeout = read_slice_s        # read() returns at the first byte or after this

    def request(self, addr: int, request: Request, *, tries: int | None = None) -> Reply:
        """Send `request` to device `addr`; its typed reply (ErrorReply included) or NoReply."""
        frame = request_frame(addr, request)
        raw = encode(frame)
        tries = self.tries if tries is None else tries
        self.stats.requests += 1
        for _ in range(tries):
            reply = self._exchange(raw, frame.addr, frame.func)
            if reply is not None:
                return reply
        raise NoReply(addr, request, tries)

    def _exchange(self, raw: bytes, addr: int, func: int) -> Reply | None:
        self.stats.tries += 1
        wait_s = self._quiet_until_s - self._clock()
        if wait_s > 0:
            self._sleep(wait_s)
        try:
            reset = getattr(self.transport, "reset_input_buffer", None)
            if reset is not None:
                reset()
            self.transport.write(raw)
            self.stats.bytes_out += len(raw)
            reply = self._await_reply(addr, func)
        except OSError as exc:                  # serial.SerialException is an OSError
            self.stats.transport_errors += 1
            log.warning("keypad %d: transport error: %s", addr, exc)
            self._sleep(self.reply_timeout_s)
            return None
        if reply is None:
            self.stats.timeouts += 1
        return reply

    def _await_reply(self, addr: int, func: int) -> Reply | None:
        deadline_s = self._clock() + self.reply_timeout_s
        buf = bytearray()
        while self._clock() < deadline_s:
            chunk = self.transport.read(max(1, getattr(self.transport, "in_waiting", 0) or 0))
            if not chunk:
                continue
            self.stats.bytes_in += len(chunk)
            buf += chunk
            while True:
                consumed, frame = decode(buf)
                del buf[:consumed]
                if frame is None:
                    break
                if frame.addr != addr or frame.is_request or frame.base_func != func:
                    continue                    # not ours: a late reply or another talker
                try:
                    reply = parse_reply(frame, func)
                except CodecError as exc:
                    self.stats.bad_replies += 1
                    log.debug("keypad %d: malformed reply %r: %s", addr, frame, exc)
                    continue
                self._quiet_until_s = self._clock() + self.quiet_s
                return reply
        return None
