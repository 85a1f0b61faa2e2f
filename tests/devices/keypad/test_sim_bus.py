"""The simulated bus: framing, addressing, reply timing, gaps, noise and pacing (§1, §2, §4.6)."""

from __future__ import annotations

import random

import pytest

from devices.keypad.codec import (
    Frame,
    Func,
    Mode,
    Poll,
    PollReply,
    QueryStatus,
    SetMode,
    StartRating,
    decode,
    encode,
    parse_reply,
    request_frame,
)
from devices.keypad.sim_bus import SimBus, UnknownDevice
from devices.keypad.sim_device import SimKeypad

POLL_3 = encode(request_frame(3, Poll()))


def make_bus(addresses=(1, 2, 3), **kwargs) -> SimBus:
    rng = random.Random(5)
    bus = SimBus([SimKeypad(a, rng=rng) for a in addresses], rng=rng, **kwargs)
    for device in bus.devices.values():
        device.events.clear()                      # no power-up events in the way
    return bus


def replies(bus: SimBus, until_s: float) -> list[Frame]:
    out = bus.due(until_s)
    frames = []
    while out:
        consumed, frame = decode(out)
        out = out[consumed:]
        if frame is None:
            break
        frames.append(frame)
    return frames


def test_reply_comes_5_to_40_ms_after_the_request() -> None:
    bus = make_bus()
    for i in range(50):
        t0 = 100.0 + i
        bus.receive(POLL_3, t0)
        assert bus.due(t0 + 0.0049) == b""
        start_s = bus.next_deadline_s()
        assert 0.005 <= start_s - t0 <= 0.040
        assert bus.due(start_s) == encode(Frame(3, 0x86, b""))


def test_only_the_addressed_device_answers() -> None:
    bus = make_bus()
    bus.receive(encode(request_frame(2, QueryStatus())), 0.0)
    [frame] = replies(bus, 1.0)
    assert frame.addr == 2 and parse_reply(frame, Func.QUERY_STATUS).boot_id == bus.devices[2].boot_id
    bus.receive(encode(request_frame(9, QueryStatus())), 2.0)       # nobody has address 9
    assert replies(bus, 3.0) == []


def test_broadcast_is_acted_on_but_never_answered() -> None:
    bus = make_bus()
    bus.receive(encode(request_frame(0, SetMode(Mode.CLOSED))), 0.0)
    assert replies(bus, 1.0) == []
    assert all(d.mode == Mode.CLOSED for d in bus.devices.values())


def test_bad_checksum_is_ignored() -> None:
    bus = make_bus()
    bad = bytearray(encode(request_frame(3, SetMode(Mode.PAUSED))))
    bad[-2] ^= 0x01
    bus.receive(bytes(bad), 0.0)
    assert replies(bus, 1.0) == [] and bus.devices[3].mode == Mode.SERVING


def test_frame_split_across_reads_is_whole() -> None:
    bus = make_bus()
    bus.receive(POLL_3[:3], 0.0)
    bus.receive(POLL_3[3:], 0.015)                # 15 ms gap: fine
    assert len(replies(bus, 1.0)) == 1


def test_gap_of_more_than_20_ms_aborts_the_frame() -> None:
    bus = make_bus()
    bus.receive(POLL_3[:3], 0.0)
    bus.receive(POLL_3[3:], 0.021)
    assert replies(bus, 1.0) == []
    bus.receive(POLL_3, 2.0)                      # the next whole frame is served
    assert len(replies(bus, 3.0)) == 1


def test_silent_device_neither_acts_nor_answers_and_slow_device_answers_late() -> None:
    bus = make_bus()
    bus.set_silent(3, True)
    bus.receive(encode(request_frame(3, SetMode(Mode.PAUSED))), 0.0)
    assert replies(bus, 1.0) == [] and bus.devices[3].mode == Mode.SERVING
    bus.set_silent(3, False)
    bus.set_slow(3, 200)
    bus.receive(POLL_3, 2.0)
    assert replies(bus, 2.2) == []
    assert len(replies(bus, 2.25)) == 1


def test_replies_of_other_devices_heard_on_the_bus_are_ignored() -> None:
    bus = make_bus()
    bus.receive(encode(Frame(3, 0x86, b"")), 0.0)
    assert replies(bus, 1.0) == [] and bus.frames_seen == 1


def test_pacing_sends_at_the_baud_rate() -> None:
    bus = make_bus(pace=True, baud=9600, reply_delay_ms=(5.0, 5.0))
    byte_s = 10 / 9600
    bus.receive(POLL_3, 0.0)                      # 8 bytes arrive over 8.3 ms
    reply_start_s = 8 * byte_s + 0.005
    assert bus.due(reply_start_s + 0.5 * byte_s) == b""
    assert len(bus.due(reply_start_s + 3.5 * byte_s)) == 3
    assert len(bus.due(reply_start_s + 8 * byte_s)) == 5


def test_noise_corrupts_bytes_and_corrupted_requests_get_no_reply() -> None:
    bus = make_bus(noise=1.0)
    bus.receive(POLL_3, 0.0)
    assert replies(bus, 1.0) == [] and bus.bytes_corrupted == len(POLL_3)
    bus.set_noise(0.0)
    bus.receive(POLL_3, 2.0)
    assert replies(bus, 3.0) == [Frame(3, 0x86, b"")]
    with pytest.raises(ValueError):
        bus.set_noise(1.5)


def test_rating_timer_runs_on_due() -> None:
    bus = make_bus()
    bus.receive(encode(request_frame(1, StartRating(4, 5, False))), 0.0)
    replies(bus, 0.1)
    assert bus.next_deadline_s() == pytest.approx(5.0, abs=0.05)
    bus.due(5.1)
    assert bus.devices[1].events[0].kind == 0x02


def test_control_of_unknown_device() -> None:
    bus = make_bus()
    with pytest.raises(UnknownDevice):
        bus.press(9, 5, 0.0)


def test_press_and_reboot_through_the_bus() -> None:
    bus = make_bus()
    assert bus.press(1, 5, 0.0) is False
    old = bus.devices[1].boot_id
    bus.reboot(1, 1.0)
    assert bus.devices[1].boot_id != old
    bus.receive(encode(request_frame(1, Poll())), 2.0)
    [frame] = replies(bus, 3.0)
    assert parse_reply(frame, Func.POLL).event.kind == 0x10
    assert isinstance(parse_reply(frame, Func.POLL), PollReply)
