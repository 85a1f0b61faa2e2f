"""Property tests: the codec never raises anything but CodecError, never hangs, round-trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.keypad.codec import (
    MAX_DATA,
    CodecError,
    ConfirmEvent,
    Event,
    Frame,
    PollReply,
    SetMode,
    ShowStaff,
    StartRating,
    Status,
    decode,
    encode,
    parse_reply,
    parse_request,
    reply_frame,
    request_frame,
)

frames = st.builds(
    Frame,
    addr=st.integers(0, 255),
    func=st.integers(0, 255),
    data=st.binary(max_size=MAX_DATA),
)
# Streams rich in the bytes that matter to the framer.
streams = st.lists(
    st.one_of(st.sampled_from([0x68, 0x16, 0xFE, 0x02, 0x00]), st.integers(0, 255)), max_size=400
).map(bytes)

thorough = settings(max_examples=200, deadline=None)
quick = settings(deadline=None)


@thorough
@given(streams)
def test_decode_never_raises_and_always_progresses_or_asks_for_more(buf: bytes) -> None:
    consumed, frame = decode(buf)
    assert 0 <= consumed <= len(buf)
    if frame is not None:
        assert consumed >= 8
    elif consumed < len(buf):
        assert buf[consumed] == 0x68                     # what is kept is a possible frame start


@thorough
@given(streams, st.integers(1, 17))
def test_streaming_any_bytes_terminates(stream: bytes, chunk_size: int) -> None:
    buf = bytearray()
    for i in range(0, len(stream), chunk_size):
        buf += stream[i : i + chunk_size]
        for _ in range(len(buf) + 1):                    # each round eats a frame or stops
            consumed, frame = decode(buf)
            del buf[:consumed]
            if frame is None:
                break
        else:
            raise AssertionError("decode looped without consuming")
    assert len(buf) <= 255                               # never holds more than one frame's worth


@quick
@given(frames, st.integers(0, 4))
def test_encode_decode_round_trip(frame: Frame, preamble: int) -> None:
    raw = encode(frame, preamble=preamble)
    assert decode(raw) == (len(raw), frame)


@quick
@given(st.binary(max_size=60).map(lambda b: b.replace(b"\x68", b"")), frames)
def test_frame_found_after_garbage_without_68(garbage: bytes, frame: Frame) -> None:
    raw = garbage + encode(frame)
    assert decode(raw) == (len(raw), frame)


@quick
@given(frames)
def test_typed_parsers_raise_only_codec_errors(frame: Frame) -> None:
    for parse in (parse_request, *(lambda f, fn=fn: parse_reply(f, fn) for fn in range(0, 9))):
        try:
            parse(frame)
        except CodecError:
            pass


@quick
@given(st.text(max_size=8), st.integers(-1, 6), st.text(max_size=80), st.text(max_size=80))
def test_show_staff_round_trips_or_refuses_with_a_codec_error(no: str, stars: int, name: str, dept: str) -> None:
    staff = ShowStaff(no, stars, name, dept)
    try:
        frame = request_frame(3, staff)
    except CodecError:
        return
    parsed = parse_request(decode(encode(frame))[1])
    assert parsed == ShowStaff(no.rstrip(" "), stars, name, dept)


@quick
@given(st.integers(0, 0xFFFFFFFF), st.integers(5, 180), st.booleans(), st.integers(0, 2), st.integers(0, 0xFFFF))
def test_requests_round_trip(handle: int, timeout_s: int, voice: bool, mode: int, event_no: int) -> None:
    for request in (StartRating(handle, timeout_s, voice), SetMode(mode), ConfirmEvent(event_no)):
        assert parse_request(decode(encode(request_frame(17, request)))[1]) == request


@quick
@given(
    st.builds(Event, st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(0, 0xFFFFFFFF),
              st.integers(0, 255), st.integers(0, 0xFFFF)),
    st.builds(Status, st.integers(0, 255), st.integers(0, 255), st.sampled_from([3, 4, 5]),
              st.integers(0, 3), st.integers(0, 255), st.integers(0, 0xFFFF)),
)
def test_replies_round_trip(event: Event, status: Status) -> None:
    assert parse_reply(decode(encode(reply_frame(9, 6, PollReply(event))))[1], 6) == PollReply(event)
    assert parse_reply(decode(encode(reply_frame(9, 1, status)))[1], 1) == status


junk = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
                 st.text(max_size=10), st.binary(max_size=300), st.lists(st.integers(), max_size=3))


@quick
@given(junk, junk, junk, junk)
def test_builders_given_anything_raise_only_codec_errors(a: object, b: object, c: object, d: object) -> None:
    attempts = [
        lambda: encode(Frame(a, b, c)),                              # type: ignore[arg-type]
        lambda: encode(Frame(1, 2, b""), preamble=a),                 # type: ignore[arg-type]
        lambda: decode(a),                                            # type: ignore[arg-type]
        lambda: request_frame(a, ShowStaff(b, c, d, a)),              # type: ignore[arg-type]
        lambda: request_frame(3, StartRating(a, b, c)),               # type: ignore[arg-type]
        lambda: request_frame(3, SetMode(a)),                         # type: ignore[arg-type]
        lambda: request_frame(3, ConfirmEvent(a)),                    # type: ignore[arg-type]
        lambda: reply_frame(a, 6, PollReply(Event(a, b, c, d, a))),   # type: ignore[arg-type]
        lambda: reply_frame(3, b, Status(a, b, c, d, a, b)),          # type: ignore[arg-type]
    ]
    for attempt in attempts:
        try:
            attempt()
        except CodecError:
            pass
