"""The EKP-2 codec: the datasheet's bytes exactly, framing split every way, resynchronisation."""

from __future__ import annotations

import pytest

from devices.keypad.codec import (
    Ack,
    BadField,
    BadLength,
    CancelRating,
    CodecError,
    ConfirmEvent,
    ErrorCode,
    ErrorReply,
    Event,
    EventKind,
    Frame,
    FrameTooLong,
    Func,
    Mode,
    Poll,
    PollReply,
    QueryStatus,
    SetMode,
    ShowStaff,
    StartRating,
    Status,
    UnexpectedReply,
    UnknownFunction,
    decode,
    encode,
    parse_reply,
    parse_request,
    reply_frame,
    request_frame,
)

H = bytes.fromhex

# Datasheet §5, verbatim.
EXAMPLE_POLL = H("68 02 02 68 03 06 09 16")
EXAMPLE_POLL_EMPTY = H("68 02 02 68 03 86 89 16")
EXAMPLE_START = H("68 08 08 68 03 03 00 00 00 2A 1E 01 4F 16")
EXAMPLE_START_ACK = H("68 02 02 68 03 83 86 16")
EXAMPLE_EVENT = H("68 0C 0C 68 03 86 01 01 01 00 00 00 2A 04 00 40 FA 16")
EXAMPLE_CONFIRM = H("68 04 04 68 03 07 01 01 0C 16")
EXAMPLE_EVENT_VALUE = Event(event_no=0x0101, kind=EventKind.PRESS, handle=0x2A, level=4, elapsed_ds=64)

RARE_NAME = "王𬀩"            # 𬀩 U+2C029, CJK extension E: a 4-byte GB18030 sequence
RARE_DEPT = "𠇔乡镇便民服务中心"   # 𠇔 U+201D4, CJK extension B

ALL_FRAMES: list[Frame] = [
    request_frame(3, QueryStatus()),
    request_frame(3, ShowStaff("A0123", 5, RARE_NAME, RARE_DEPT)),
    request_frame(32, StartRating(0xFFFFFFFF, 180, False)),
    request_frame(1, CancelRating()),
    request_frame(0, SetMode(Mode.CLOSED)),
    request_frame(3, Poll()),
    request_frame(3, ConfirmEvent(0xFFFF)),
    reply_frame(3, Func.QUERY_STATUS, Status(2, 1, 4, Mode.RATING, 31, 0xBEEF)),
    reply_frame(3, Func.SHOW_STAFF, Ack()),
    reply_frame(3, Func.POLL, PollReply(None)),
    reply_frame(3, Func.POLL, PollReply(EXAMPLE_EVENT_VALUE)),
    reply_frame(3, Func.START_RATING, ErrorReply(ErrorCode.BUFFER_FULL)),
    reply_frame(3, 0x09, ErrorReply(ErrorCode.UNKNOWN_FUNCTION)),
    Frame(0x68, 0x68, bytes([0x68, 0x16, 0xFE] * 82 + [0x68, 0x16])),   # 248 data bytes, all tricky
]


def decode_stream(chunks: list[bytes]) -> tuple[list[Frame], bytes]:
    """Feed chunks as a receiver would; the frames found and the bytes still waiting."""
    buf = bytearray()
    frames: list[Frame] = []
    for chunk in chunks:
        buf += chunk
        while True:
            consumed, frame = decode(buf)
            del buf[:consumed]
            if frame is None:
                break
            frames.append(frame)
    return frames, bytes(buf)


# --------------------------------------------------------------------------- §5 worked example


def test_worked_example_requests_encode_exactly() -> None:
    assert encode(request_frame(3, Poll())) == EXAMPLE_POLL
    assert encode(request_frame(3, StartRating(0x0000002A, 30, True))) == EXAMPLE_START
    assert encode(request_frame(3, ConfirmEvent(0x0101))) == EXAMPLE_CONFIRM


def test_worked_example_replies_encode_exactly() -> None:
    assert encode(reply_frame(3, Func.POLL, PollReply(None))) == EXAMPLE_POLL_EMPTY
    assert encode(reply_frame(3, Func.START_RATING, Ack())) == EXAMPLE_START_ACK
    assert encode(reply_frame(3, Func.POLL, PollReply(EXAMPLE_EVENT_VALUE))) == EXAMPLE_EVENT


def test_worked_example_decodes_to_typed_values() -> None:
    assert parse_request(decode(EXAMPLE_POLL)[1]) == Poll()
    assert parse_request(decode(EXAMPLE_START)[1]) == StartRating(0x2A, 30, True)
    assert parse_request(decode(EXAMPLE_CONFIRM)[1]) == ConfirmEvent(0x0101)
    assert parse_reply(decode(EXAMPLE_POLL_EMPTY)[1], Func.POLL) == PollReply(None)
    assert parse_reply(decode(EXAMPLE_START_ACK)[1], Func.START_RATING) == Ack()
    reply = parse_reply(decode(EXAMPLE_EVENT)[1], Func.POLL)
    assert reply == PollReply(EXAMPLE_EVENT_VALUE)
    assert reply.event is not None and reply.event.elapsed_ds / 10 == 6.4


# --------------------------------------------------------------------------- framing


@pytest.mark.parametrize("frame", ALL_FRAMES, ids=lambda f: f"{f.addr:02x}-{f.func:02x}-{len(f.data)}")
def test_every_frame_whole_split_at_every_byte_and_byte_by_byte(frame: Frame) -> None:
    raw = encode(frame)
    assert decode(raw) == (len(raw), frame)
    for cut in range(len(raw) + 1):
        assert decode_stream([raw[:cut], raw[cut:]]) == ([frame], b"")
    assert decode_stream([bytes([b]) for b in raw]) == ([frame], b"")


def test_every_prefix_asks_for_more_without_consuming() -> None:
    for frame in ALL_FRAMES:
        raw = encode(frame)
        for cut in range(len(raw)):
            assert decode(raw[:cut]) == (0, None)


def test_all_frames_back_to_back_in_any_chunking() -> None:
    stream = b"".join(encode(f) for f in ALL_FRAMES)
    for size in (1, 2, 3, 7, 64, len(stream)):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert decode_stream(chunks) == (ALL_FRAMES, b"")


@pytest.mark.parametrize("preamble", range(5))
def test_fe_preamble_is_skipped(preamble: int) -> None:
    raw = encode(request_frame(3, Poll()), preamble=preamble)
    assert raw[:preamble] == b"\xfe" * preamble
    assert decode(raw) == (len(raw), request_frame(3, Poll()))
    assert decode_stream([bytes([b]) for b in raw]) == ([request_frame(3, Poll())], b"")


def test_preamble_longer_than_four_is_refused_by_the_encoder() -> None:
    with pytest.raises(BadField):
        encode(request_frame(3, Poll()), preamble=5)


@pytest.mark.parametrize("garbage", [b"\x00", b"\xff\x16\x16", bytes(range(0x69, 0x100)), b"\xfe" * 9])
def test_frame_after_garbage(garbage: bytes) -> None:
    frames, rest = decode_stream([garbage + EXAMPLE_POLL])
    assert frames == [decode(EXAMPLE_POLL)[1]] and rest == b""
    consumed, frame = decode(garbage)
    assert (consumed, frame) == (len(garbage), None)     # garbage is dropped at once


def corrupt(raw: bytes, index: int, value: int) -> bytes:
    out = bytearray(raw)
    out[index] = value
    return bytes(out)


BAD_FRAMES = {
    "bad checksum": corrupt(EXAMPLE_START, -2, 0x50),
    "L mismatch": corrupt(EXAMPLE_START, 2, 0x07),
    "missing 16": corrupt(EXAMPLE_START, -1, 0x17),
    "second start not 68": corrupt(EXAMPLE_START, 3, 0x69),
    "L too small": H("68 01 01 68 03 03 16"),
    "L too large": H("68 FB FB 68") + bytes(253),
    "L zero": H("68 00 00 68 16"),
}


@pytest.mark.parametrize("bad", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_bad_frame_is_dropped_and_the_next_one_found(bad: bytes) -> None:
    assert decode_stream([bad + EXAMPLE_POLL]) == ([decode(EXAMPLE_POLL)[1]], b"")
    for cut in range(len(bad) + len(EXAMPLE_POLL) + 1):
        stream = bad + EXAMPLE_POLL
        assert decode_stream([stream[:cut], stream[cut:]]) == ([decode(EXAMPLE_POLL)[1]], b"")


def test_rescan_starts_at_the_byte_after_the_discarded_68() -> None:
    # A 68 whose frame is bad (L mismatch); right after it, a whole valid frame begins.
    stream = H("68 05") + EXAMPLE_CONFIRM
    assert decode(stream) == (len(stream), decode(EXAMPLE_CONFIRM)[1])
    # The valid frame hides inside the DATA of a frame whose checksum is wrong.
    outer = bytearray(encode(Frame(3, 0x06, EXAMPLE_POLL)))
    outer[-2] ^= 0xFF
    assert decode_stream([bytes(outer)]) == ([decode(EXAMPLE_POLL)[1]], b"")


def test_wild_length_after_garbage_68_is_rejected_without_waiting() -> None:
    # 68 then L=0x68, L=0x02: L mismatch is seen at the third byte, no need for 0x68 more bytes.
    assert decode(H("68 68 02")) == (1, None)
    assert decode(H("68 68 02 02 68 03 06 09 16"))[1] == decode(EXAMPLE_POLL)[1]


# --------------------------------------------------------------------------- encoder limits


def test_frame_too_long() -> None:
    assert len(encode(Frame(1, 2, bytes(248)))) == 256
    with pytest.raises(FrameTooLong):
        encode(Frame(1, 2, bytes(249)))


@pytest.mark.parametrize("frame", [Frame(256, 1), Frame(1, -1), Frame(-1, 1)])
def test_frame_bytes_out_of_range(frame: Frame) -> None:
    with pytest.raises(BadField):
        encode(frame)


def test_request_address_range() -> None:
    request_frame(0, Poll())
    request_frame(32, Poll())
    with pytest.raises(BadField):
        request_frame(33, Poll())


def test_codec_errors_are_all_codec_errors() -> None:
    for error in (FrameTooLong, BadField, BadLength, UnknownFunction, UnexpectedReply):
        assert issubclass(error, CodecError)


# --------------------------------------------------------------------------- functions


def test_show_staff_layout_and_rare_characters() -> None:
    frame = request_frame(3, ShowStaff("A01", 5, RARE_NAME, RARE_DEPT))
    name, dept = RARE_NAME.encode("gb18030"), RARE_DEPT.encode("gb18030")
    assert len(name) == 6                        # 王 2 bytes + 𬀩 4 bytes
    assert frame.data == b"A01     " + bytes([5, len(name)]) + name + bytes([len(dept)]) + dept
    parsed = parse_request(decode(encode(frame))[1])
    assert parsed == ShowStaff("A01", 5, RARE_NAME, RARE_DEPT)


def test_show_staff_fills_the_250_byte_limit_exactly() -> None:
    # L = ADDR + FUNC + staff_no(8) + stars + name_len + dept_len + text = 250 -> 237 text bytes.
    fitting = ShowStaff("12345678", 0, "王" * 59, "办" * 59 + "x")          # 118 + 119 = 237
    frame = request_frame(1, fitting)
    assert len(frame.data) == 248 and parse_request(decode(encode(frame))[1]) == fitting
    with pytest.raises(FrameTooLong):
        ShowStaff("12345678", 0, "王" * 59, "办" * 59 + "xy").data()


@pytest.mark.parametrize(
    "staff",
    [
        ShowStaff("123456789", 1, "a", "b"),       # staff_no too long
        ShowStaff("工号", 1, "a", "b"),             # not ASCII
        ShowStaff("A\n", 1, "a", "b"),              # not printable
        ShowStaff("A", 6, "a", "b"),                # stars 0–5
        ShowStaff("A", 1, "\ud800", "b"),           # lone surrogate: no GB18030 form
    ],
)
def test_show_staff_bad_fields(staff: ShowStaff) -> None:
    with pytest.raises(BadField):
        staff.data()


def test_show_staff_name_longer_than_its_length_byte() -> None:
    with pytest.raises(FrameTooLong):
        ShowStaff("A", 1, "x" * 256, "").data()


@pytest.mark.parametrize(
    "data",
    [b"", b"A       \x05", b"A       \x05\x05ab", b"A       \x05\x01a\x02b", b"A       \x05\x01a\x00z"],
)
def test_show_staff_bad_lengths(data: bytes) -> None:
    with pytest.raises(BadLength):
        parse_request(Frame(3, Func.SHOW_STAFF, data))


def test_show_staff_bad_text_from_the_wire() -> None:
    with pytest.raises(BadField):
        parse_request(Frame(3, Func.SHOW_STAFF, b"A       \x05\x01\x81\x00"))   # truncated GB18030
    with pytest.raises(BadField):
        parse_request(Frame(3, Func.SHOW_STAFF, b"A\x80      \x05\x00\x00"))   # staff_no not ASCII


@pytest.mark.parametrize("timeout_s", [4, 181, 0, 255])
def test_start_rating_timeout_range(timeout_s: int) -> None:
    with pytest.raises(BadField):
        StartRating(1, timeout_s, True).data()
    with pytest.raises(BadField):
        parse_request(Frame(3, Func.START_RATING, bytes(4) + bytes([timeout_s, 1])))


def test_start_rating_fields() -> None:
    assert StartRating(0x01020304, 5, False).data() == H("01 02 03 04 05 00")
    assert parse_request(Frame(3, 3, H("01 02 03 04 B4 01"))) == StartRating(0x01020304, 180, True)
    with pytest.raises(BadField):
        parse_request(Frame(3, 3, H("01 02 03 04 1E 02")))        # voice 0/1
    with pytest.raises(BadField):
        StartRating(1 << 32, 30, True).data()


def test_set_mode_range() -> None:
    for mode in (0, 1, 2):
        assert parse_request(request_frame(3, SetMode(mode))) == SetMode(mode)
    with pytest.raises(BadField):
        SetMode(3).data()                        # 3 is only reported by QUERY_STATUS
    with pytest.raises(BadField):
        parse_request(Frame(3, Func.SET_MODE, b"\x03"))


@pytest.mark.parametrize(
    "frame",
    [
        Frame(3, Func.QUERY_STATUS, b"\x00"),
        Frame(3, Func.CANCEL_RATING, b"\x00"),
        Frame(3, Func.POLL, b"\x00"),
        Frame(3, Func.SET_MODE, b""),
        Frame(3, Func.START_RATING, bytes(5)),
        Frame(3, Func.CONFIRM_EVENT, b"\x01"),
    ],
)
def test_wrong_data_length_is_bad_length(frame: Frame) -> None:
    with pytest.raises(BadLength):
        parse_request(frame)


@pytest.mark.parametrize("func", [0x00, 0x08, 0x7F, 0x86, 0xC3])
def test_unknown_function(func: int) -> None:
    with pytest.raises(UnknownFunction):
        parse_request(Frame(3, func, b""))


def test_status_reply_fields() -> None:
    status = Status(fw_major=2, fw_minor=1, keys=3, mode=Mode.RATING, pending=32, boot_id=0xA1B2)
    frame = reply_frame(7, Func.QUERY_STATUS, status)
    assert frame.func == 0x81 and frame.data == H("02 01 03 03 20 A1 B2")
    assert parse_reply(frame, Func.QUERY_STATUS) == status
    with pytest.raises(BadField):
        parse_reply(Frame(7, 0x81, H("02 01 06 00 00 00 00")), Func.QUERY_STATUS)   # keys 6
    with pytest.raises(BadField):
        parse_reply(Frame(7, 0x81, H("02 01 05 04 00 00 00")), Func.QUERY_STATUS)   # mode 4
    with pytest.raises(BadLength):
        parse_reply(Frame(7, 0x81, H("02 01 05 00 00 00")), Func.QUERY_STATUS)


def test_poll_reply_empty_or_one_event() -> None:
    for event in (
        Event(0, EventKind.POWER_UP, 0, 0, 0),
        Event(0xFFFF, EventKind.TIMEOUT, 0xDEADBEEF, 0, 1800),
        Event(1, 0x33, 1, 9, 0xFFFF),            # unknown kind and level parse: upstream judges
    ):
        frame = reply_frame(5, Func.POLL, PollReply(event))
        assert len(frame.data) == 10
        assert parse_reply(frame, Func.POLL) == PollReply(event)
    with pytest.raises(BadLength):
        parse_reply(Frame(5, 0x86, bytes(9)), Func.POLL)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_error_replies(code: ErrorCode) -> None:
    frame = reply_frame(3, Func.CONFIRM_EVENT, ErrorReply(code))
    assert frame.func == 0xC7 and frame.is_error and frame.base_func == Func.CONFIRM_EVENT
    assert parse_reply(frame, Func.CONFIRM_EVENT) == ErrorReply(code)


def test_error_reply_with_unlisted_code_is_kept_as_a_number() -> None:
    assert parse_reply(Frame(3, 0xC1, b"\x09"), Func.QUERY_STATUS) == ErrorReply(9)


def test_reply_that_does_not_answer_the_request() -> None:
    with pytest.raises(UnexpectedReply):
        parse_reply(Frame(3, 0x86, b""), Func.QUERY_STATUS)
    with pytest.raises(UnexpectedReply):
        parse_reply(Frame(3, 0x06, b""), Func.POLL)         # a request, not a reply
    with pytest.raises(BadLength):
        parse_reply(Frame(3, 0x83, b"\x00"), Func.START_RATING)   # acks carry no data
