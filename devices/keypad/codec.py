"""EKP-2 keypad codec: bytes <-> frames <-> typed messages. Pure: no I/O, no clock.

Framing (datasheet §2)::

    [FE]*  68  L  L  68  ADDR  FUNC  DATA…  CS  16

`decode(buf)` finds the first valid frame in `buf`. It skips anything before a 68 (the FE
wake-up preamble and line garbage alike); on a bad L, L≠L, a missing second 68, a bad CS or a
missing 16 it discards that first 68 and rescans from the byte after it. It never raises.

The framing lives in `devices.keypad.framing` (its names are re-exported here). The typed
layer (§3) turns a `Frame` into a request (host -> device) or a reply
(device -> host) and back. Every failure is a `CodecError` subclass; nothing else escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Union

from devices.keypad.framing import (
    END, ERROR_BITS, MAX_DATA, MAX_L, MAX_PREAMBLE, MIN_L, OVERHEAD, PREAMBLE, REPLY_BIT, START, BadField,
    CodecError, Frame, FrameTooLong, check_byte, checksum, decode, encode, wire_size,
)

BROADCAST = 0
MAX_ADDRESS = 32
FIFO_SIZE = 32                 # §4.2: events a device keeps until confirmed
STAFF_NO_LEN = 8


class BadLength(BadField):
    """DATA has the wrong length for its function (device error 0x01)."""


class UnknownFunction(CodecError):
    """A function code §3 does not define (device error 0x02)."""


class UnexpectedReply(CodecError):
    """A frame that is not a reply to the request it is parsed against."""


class Func(IntEnum):
    QUERY_STATUS = 0x01
    SHOW_STAFF = 0x02
    START_RATING = 0x03
    CANCEL_RATING = 0x04
    SET_MODE = 0x05
    POLL = 0x06
    CONFIRM_EVENT = 0x07


class Mode(IntEnum):
    SERVING = 0                # welcome
    PAUSED = 1                 # 暂停服务
    CLOSED = 2                 # 下班
    RATING = 3                 # only reported by QUERY_STATUS while a rating is open


class EventKind(IntEnum):
    PRESS = 0x01
    TIMEOUT = 0x02
    POWER_UP = 0x10


class ErrorCode(IntEnum):
    BAD_DATA = 0x01
    UNKNOWN_FUNCTION = 0x02
    NOT_OLDEST = 0x03
    BUFFER_FULL = 0x04


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadField(f"{name} must be {low}–{high}, got {value!r}")


def _check_address(addr: int) -> None:
    _check_range("address", addr, BROADCAST, MAX_ADDRESS)


# --------------------------------------------------------------------------- requests (host -> device)


@dataclass(frozen=True)
class QueryStatus:
    FUNC = Func.QUERY_STATUS

    def data(self) -> bytes:
        return b""


@dataclass(frozen=True)
class ShowStaff:
    """亮身份: who serves at this window. Text is sent as GB18030 (rare characters included)."""

    FUNC = Func.SHOW_STAFF
    staff_no: str              # 工号, printable ASCII, at most 8 characters (space padded on the wire)
    stars: int                 # 0–5
    name: str
    dept: str

    def data(self) -> bytes:
        if not isinstance(self.staff_no, str) or len(self.staff_no) > STAFF_NO_LEN or not all(
            0x20 <= ord(c) <= 0x7E for c in self.staff_no
        ):
            raise BadField(f"staff_no must be at most {STAFF_NO_LEN} printable ASCII characters, got {self.staff_no!r}")
        _check_range("stars", self.stars, 0, 5)
        name, dept = _gb18030("name", self.name), _gb18030("dept", self.dept)
        data = (
            self.staff_no.ljust(STAFF_NO_LEN).encode("ascii")
            + bytes((self.stars, len(name))) + name + bytes((len(dept),)) + dept
        )
        if len(data) > MAX_DATA:
            raise FrameTooLong(
                f"name and dept take {len(name) + len(dept)} GB18030 bytes; together at most "
                f"{MAX_DATA - STAFF_NO_LEN - 3} fit in one frame"
            )
        return data

    @classmethod
    def parse(cls, data: bytes) -> ShowStaff:
        if len(data) < STAFF_NO_LEN + 3:
            raise BadLength(f"SHOW_STAFF needs at least {STAFF_NO_LEN + 3} bytes, got {len(data)}")
        raw_no = data[:STAFF_NO_LEN]
        if not all(0x20 <= b <= 0x7E for b in raw_no):
            raise BadField("staff_no is not printable ASCII")
        stars, name_len = data[STAFF_NO_LEN], data[STAFF_NO_LEN + 1]
        name_end = STAFF_NO_LEN + 2 + name_len
        if len(data) < name_end + 1:
            raise BadLength("name_len runs past the end of the data")
        dept_len = data[name_end]
        if len(data) != name_end + 1 + dept_len:
            raise BadLength("name_len + dept_len do not match the data length")
        _check_range("stars", stars, 0, 5)
        return cls(
            staff_no=raw_no.decode("ascii").rstrip(" "),
            stars=stars,
            name=_from_gb18030("name", data[STAFF_NO_LEN + 2 : name_end]),
            dept=_from_gb18030("dept", data[name_end + 1 :]),
        )


@dataclass(frozen=True)
class StartRating:
    FUNC = Func.START_RATING
    handle: int                # 0 – 2**32-1, chosen by the host; echoed in the rating's event
    timeout_s: int             # 5–180
    voice: bool                # spoken prompt

    def data(self) -> bytes:
        _check_range("handle", self.handle, 0, 0xFFFFFFFF)
        _check_range("timeout_s", self.timeout_s, 5, 180)
        return self.handle.to_bytes(4, "big") + bytes((self.timeout_s, 1 if self.voice else 0))

    @classmethod
    def parse(cls, data: bytes) -> StartRating:
        _need_len("START_RATING", data, 6)
        _check_range("timeout_s", data[4], 5, 180)
        _check_range("voice", data[5], 0, 1)
        return cls(int.from_bytes(data[:4], "big"), data[4], bool(data[5]))


@dataclass(frozen=True)
class CancelRating:
    FUNC = Func.CANCEL_RATING

    def data(self) -> bytes:
        return b""


@dataclass(frozen=True)
class SetMode:
    FUNC = Func.SET_MODE
    mode: int                  # Mode.SERVING, PAUSED or CLOSED

    def data(self) -> bytes:
        _check_range("mode", self.mode, Mode.SERVING, Mode.CLOSED)
        return bytes((self.mode,))

    @classmethod
    def parse(cls, data: bytes) -> SetMode:
        _need_len("SET_MODE", data, 1)
        _check_range("mode", data[0], Mode.SERVING, Mode.CLOSED)
        return cls(Mode(data[0]))


@dataclass(frozen=True)
class Poll:
    FUNC = Func.POLL

    def data(self) -> bytes:
        return b""


@dataclass(frozen=True)
class ConfirmEvent:
    FUNC = Func.CONFIRM_EVENT
    event_no: int

    def data(self) -> bytes:
        _check_range("event_no", self.event_no, 0, 0xFFFF)
        return self.event_no.to_bytes(2, "big")

    @classmethod
    def parse(cls, data: bytes) -> ConfirmEvent:
        _need_len("CONFIRM_EVENT", data, 2)
        return cls(int.from_bytes(data, "big"))


Request = Union[QueryStatus, ShowStaff, StartRating, CancelRating, SetMode, Poll, ConfirmEvent]
_EMPTY_REQUESTS = {Func.QUERY_STATUS: QueryStatus(), Func.CANCEL_RATING: CancelRating(), Func.POLL: Poll()}
_PARSED_REQUESTS = {
    Func.SHOW_STAFF: ShowStaff.parse,
    Func.START_RATING: StartRating.parse,
    Func.SET_MODE: SetMode.parse,
    Func.CONFIRM_EVENT: ConfirmEvent.parse,
}


def request_frame(addr: int, request: Request) -> Frame:
    """The frame that sends `request` to device `addr` (0 = broadcast)."""
    _check_address(addr)
    return Frame(addr, request.FUNC, request.data())


def parse_request(frame: Frame) -> Request:
    """What a device reads from a host frame. UnknownFunction -> error 0x02, BadField -> 0x01."""
    if frame.func in _EMPTY_REQUESTS:
        _need_len(Func(frame.func).name, frame.data, 0)
        return _EMPTY_REQUESTS[Func(frame.func)]
    parse = _PARSED_REQUESTS.get(frame.func)  # type: ignore[call-overload]
    if parse is None:
        raise UnknownFunction(f"function 0x{frame.func:02X} is not defined")
    return parse(frame.data)


# --------------------------------------------------------------------------- replies (device -> host)


@dataclass(frozen=True)
class Status:
    """QUERY_STATUS reply."""

    fw_major: int
    fw_minor: int
    keys: int                  # 3, 4 or 5
    mode: int                  # Mode; RATING while a rating is open
    pending: int               # unconfirmed events in the buffer
    boot_id: int               # random at every power-up

    def data(self) -> bytes:
        check_byte("fw_major", self.fw_major)
        check_byte("fw_minor", self.fw_minor)
        if self.keys not in (3, 4, 5):
            raise BadField(f"keys must be 3, 4 or 5, got {self.keys!r}")
        _check_range("mode", self.mode, Mode.SERVING, Mode.RATING)
        check_byte("pending", self.pending)
        _check_range("boot_id", self.boot_id, 0, 0xFFFF)
        return bytes((self.fw_major, self.fw_minor, self.keys, self.mode, self.pending)) + self.boot_id.to_bytes(2, "big")

    @classmethod
    def parse(cls, data: bytes) -> Status:
        _need_len("QUERY_STATUS reply", data, 7)
        if data[2] not in (3, 4, 5):
            raise BadField(f"keys must be 3, 4 or 5, got {data[2]}")
        _check_range("mode", data[3], Mode.SERVING, Mode.RATING)
        return cls(data[0], data[1], data[2], Mode(data[3]), data[4], int.from_bytes(data[5:7], "big"))


@dataclass(frozen=True)
class Event:
    """One buffered device event (POLL reply DATA).

    Values are parsed leniently (any kind, any level): an event the host cannot parse could
    never be confirmed and would block the device's FIFO for good. Upstream judges the values.
    """

    event_no: int              # counts up from a random start at power-up, wraps 65535 -> 0
    kind: int                  # EventKind
    handle: int                # the rating's handle; 0 for POWER_UP
    level: int                 # 1–5 for PRESS, 0 otherwise
    elapsed_ds: int            # tenths of a second since START_RATING

    SIZE = 10

    def data(self) -> bytes:
        _check_range("event_no", self.event_no, 0, 0xFFFF)
        check_byte("kind", self.kind)
        _check_range("handle", self.handle, 0, 0xFFFFFFFF)
        check_byte("level", self.level)
        _check_range("elapsed_ds", self.elapsed_ds, 0, 0xFFFF)
        return (
            self.event_no.to_bytes(2, "big") + bytes((self.kind,)) + self.handle.to_bytes(4, "big")
            + bytes((self.level,)) + self.elapsed_ds.to_bytes(2, "big")
        )

    @classmethod
    def parse(cls, data: bytes) -> Event:
        _need_len("event", data, cls.SIZE)
        return cls(
            event_no=int.from_bytes(data[0:2], "big"),
            kind=data[2],
            handle=int.from_bytes(data[3:7], "big"),
            level=data[7],
            elapsed_ds=int.from_bytes(data[8:10], "big"),
        )


@dataclass(frozen=True)
class PollReply:
    """POLL reply: the oldest unconfirmed event, or None when the buffer is empty."""

    event: Event | None

    def data(self) -> bytes:
        return b"" if self.event is None else self.event.data()

    @classmethod
    def parse(cls, data: bytes) -> PollReply:
        return cls(None if not data else Event.parse(data))


@dataclass(frozen=True)
class Ack:
    """A normal reply without data (SHOW_STAFF, START_RATING, CANCEL_RATING, SET_MODE, CONFIRM_EVENT)."""


@dataclass(frozen=True)
class ErrorReply:
    """FUNC OR 0xC0 with one code byte (kept as int if the code is not one of §3's)."""

    code: int

    def data(self) -> bytes:
        check_byte("code", self.code)
        return bytes((self.code,))

    @classmethod
    def parse(cls, data: bytes) -> ErrorReply:
        _need_len("error reply", data, 1)
        try:
            return cls(ErrorCode(data[0]))
        except ValueError:
            return cls(data[0])


Reply = Union[Status, PollReply, Ack, ErrorReply]


def reply_frame(addr: int, request_func: int, reply: Reply) -> Frame:
    """The frame device `addr` sends to answer a request with function `request_func`."""
    _check_range("address", addr, 1, MAX_ADDRESS)
    check_byte("func", request_func)
    if isinstance(reply, ErrorReply):
        return Frame(addr, (request_func | ERROR_BITS) & 0xFF, reply.data())
    data = b"" if isinstance(reply, Ack) else reply.data()
    return Frame(addr, (request_func | REPLY_BIT) & 0xFF, data)


def parse_reply(frame: Frame, request_func: int) -> Reply:
    """The typed reply in `frame`, which must answer a request with function `request_func`."""
    if frame.func == (request_func | ERROR_BITS) & 0xFF:
        return ErrorReply.parse(frame.data)
    if frame.func != (request_func | REPLY_BIT) & 0xFF:
        raise UnexpectedReply(f"function 0x{frame.func:02X} does not answer 0x{request_func:02X}")
    if request_func == Func.QUERY_STATUS:
        return Status.parse(frame.data)
    if request_func == Func.POLL:
        return PollReply.parse(frame.data)
    if request_func in _PARSED_REQUESTS or request_func == Func.CANCEL_RATING:
        _need_len(f"reply to 0x{request_func:02X}", frame.data, 0)
        return Ack()
    raise UnknownFunction(f"function 0x{request_func:02X} is not defined")


# --------------------------------------------------------------------------- helpers


def _need_len(what: str, data: bytes, n: int) -> None:
    if len(data) != n:
        raise BadLength(f"{what} needs {n} data bytes, got {len(data)}")


def _gb18030(name: str, text: str) -> bytes:
    if not isinstance(text, str):
        raise BadField(f"{name} must be text, got {type(text).__name__}")
    try:
        raw = text.encode("gb18030")
    except UnicodeEncodeError as exc:
        raise BadField(f"{name} cannot be encoded in GB18030: {exc.reason}") from None
    if len(raw) > 0xFF:
        raise FrameTooLong(f"{name} takes {len(raw)} GB18030 bytes; its length byte allows 255")
    return raw


def _from_gb18030(name: str, raw: bytes) -> str:
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise BadField(f"{name} is not valid GB18030: {exc.reason}") from None


__all__ = [
    "Ack", "BadField", "BadLength", "BROADCAST", "CancelRating", "checksum", "CodecError",
    "ConfirmEvent", "decode", "encode", "END", "ERROR_BITS", "ErrorCode", "ErrorReply", "Event",
    "EventKind", "FIFO_SIZE", "Frame", "FrameTooLong", "Func", "MAX_ADDRESS", "MAX_DATA", "MAX_L",
    "MAX_PREAMBLE", "MIN_L", "Mode", "OVERHEAD", "parse_reply", "parse_request", "Poll", "PollReply",
    "PREAMBLE", "QueryStatus", "Reply", "REPLY_BIT", "reply_frame", "Request", "request_frame",
    "SetMode", "ShowStaff", "STAFF_NO_LEN", "START", "StartRating", "Status", "UnexpectedReply",
    "UnknownFunction", "wire_size",
]
