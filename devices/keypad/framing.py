"""EKP-2 framing (datasheet §2): bytes <-> `Frame`. Pure: no I/O, no clock.

    [FE]*  68  L  L  68  ADDR  FUNC  DATA…  CS  16

`decode(buf)` finds the first valid frame in `buf`. It skips anything before a 68 (the FE
wake-up preamble and line garbage alike); on a bad L, L≠L, a missing second 68, a bad CS or a
missing 16 it discards that first 68 and rescans from the byte after it. It never raises.
The typed messages (§3) are in `devices.keypad.codec`.
"""

from __future__ import annotations

from dataclasses import dataclass

START = 0x68
END = 0x16
PREAMBLE = 0xFE
MAX_PREAMBLE = 4
MIN_L = 2                      # ADDR + FUNC
MAX_L = 250
MAX_DATA = MAX_L - 2
OVERHEAD = 6                   # 68 L L 68 … CS 16
REPLY_BIT = 0x80
ERROR_BITS = 0xC0


class CodecError(Exception):
    """Base of every error the codec raises."""


class FrameTooLong(CodecError):
    """ADDR + FUNC + DATA would exceed the 250 bytes an L byte may announce."""


class BadField(CodecError):
    """A field value is out of range or cannot be encoded/decoded (device error 0x01)."""


# --------------------------------------------------------------------------- framing


@dataclass(frozen=True)
class Frame:
    """One frame on the wire, request or reply. `func` is the raw byte (reply bits included)."""

    addr: int
    func: int
    data: bytes = b""

    @property
    def is_request(self) -> bool:
        return not self.func & REPLY_BIT

    @property
    def is_error(self) -> bool:
        return self.func & ERROR_BITS == ERROR_BITS

    @property
    def base_func(self) -> int:
        """The function code without the reply/error bits."""
        return self.func & ~ERROR_BITS & 0xFF


def checksum(body: bytes) -> int:
    """(ADDR + FUNC + every DATA byte) mod 256."""
    return sum(body) & 0xFF


def encode(frame: Frame, preamble: int = 0) -> bytes:
    """The bytes of `frame`, optionally after `preamble` (0–4) FE wake-up bytes."""
    check_byte("addr", frame.addr)
    check_byte("func", frame.func)
    if not isinstance(preamble, int) or not 0 <= preamble <= MAX_PREAMBLE:
        raise BadField(f"preamble must be 0–{MAX_PREAMBLE} bytes, got {preamble!r}")
    if not isinstance(frame.data, (bytes, bytearray, memoryview)):
        raise BadField(f"data must be bytes, got {type(frame.data).__name__}")
    data = bytes(frame.data)
    if len(data) > MAX_DATA:
        raise FrameTooLong(f"{len(data)} data bytes; at most {MAX_DATA} fit in one frame")
    body = bytes((frame.addr, frame.func)) + data
    n = len(body)
    return bytes([PREAMBLE] * preamble) + bytes((START, n, n, START)) + body + bytes((checksum(body), END))


def decode(buf: bytes | bytearray | memoryview) -> tuple[int, Frame | None]:
    """Find the first valid frame in `buf`.

    Returns (consumed, frame). With a frame, `consumed` counts every byte up to and including its
    16. Without one, `consumed` counts the bytes that can never start a frame (drop them) and
    the rest of `buf` is an incomplete frame start: call again when more bytes have arrived.
    """
    if not isinstance(buf, (bytes, bytearray, memoryview)):
        raise BadField(f"decode needs bytes, got {type(buf).__name__}")
    buf = bytes(buf)
    size = len(buf)
    pos = buf.find(START)
    while pos >= 0:
        verdict = _frame_at(buf, pos, size)
        if isinstance(verdict, Frame):
            return pos + wire_size(verdict), verdict
        if verdict is _NEED_MORE:
            return pos, None
        pos = buf.find(START, pos + 1)        # bad frame: drop this 68, rescan after it
    return size, None


def wire_size(frame: Frame) -> int:
    """Bytes `frame` takes on the wire, without preamble."""
    return OVERHEAD + 2 + len(frame.data)


_NEED_MORE = object()
_INVALID = object()


def _frame_at(buf: bytes, pos: int, size: int) -> Frame | object:
    """The frame starting at `buf[pos]` (a 68), _NEED_MORE or _INVALID.

    Header bytes are checked as soon as they are present, so a garbage 68 followed by a wild L
    is rejected at once instead of waiting for 250 bytes that will never come.
    """
    avail = size - pos
    if avail < 2:
        return _NEED_MORE
    n = buf[pos + 1]
    if not MIN_L <= n <= MAX_L:
        return _INVALID
    if avail < 3:
        return _NEED_MORE
    if buf[pos + 2] != n:
        return _INVALID
    if avail < 4:
        return _NEED_MORE
    if buf[pos + 3] != START:
        return _INVALID
    total = OVERHEAD + n
    if avail < total:
        return _NEED_MORE
    body = buf[pos + 4 : pos + 4 + n]
    if buf[pos + 4 + n] != checksum(body) or buf[pos + 5 + n] != END:
        return _INVALID
    return Frame(body[0], body[1], body[2:])


def check_byte(name: str, value: int) -> None:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise BadField(f"{name} must be a byte 0–255, got {value!r}")
