"""The simulated keypad follows datasheet §4, rule by rule (time passed in, no I/O)."""

from __future__ import annotations

import random

import pytest

from devices.keypad.codec import (
    Ack,
    CancelRating,
    ConfirmEvent,
    ErrorCode,
    ErrorReply,
    Event,
    EventKind,
    Frame,
    Func,
    Mode,
    Poll,
    PollReply,
    QueryStatus,
    Request,
    SetMode,
    ShowStaff,
    StartRating,
    Status,
    request_frame,
)
from devices.keypad.sim_device import SimKeypad


class FixedRng(random.Random):
    """randrange() answers from a list: lets a test pick boot_id and the first event_no."""

    def __init__(self, values: list[int]) -> None:
        super().__init__(0)
        self.values = list(values)

    def randrange(self, *args: int) -> int:  # type: ignore[override]
        return self.values.pop(0) if self.values else super().randrange(*args)


def send(dev: SimKeypad, request: Request, now_s: float = 0.0, addr: int | None = None):
    return dev.handle(request_frame(dev.addr if addr is None else addr, request), now_s)


def drain(dev: SimKeypad) -> list[Event]:
    events = []
    while True:
        reply = send(dev, Poll())
        assert isinstance(reply, PollReply)
        if reply.event is None:
            return events
        events.append(reply.event)
        assert send(dev, ConfirmEvent(reply.event.event_no)) == Ack()


@pytest.fixture
def dev() -> SimKeypad:
    device = SimKeypad(3, rng=random.Random(7))
    drain(device)                                   # the power-up event
    return device


# §4.1 ---------------------------------------------------------------------------


def test_press_without_open_rating_does_nothing(dev: SimKeypad) -> None:
    assert dev.press(5, 1.0) is False
    assert send(dev, Poll()) == PollReply(None)


def test_first_press_closes_the_rating_later_presses_do_nothing(dev: SimKeypad) -> None:
    assert send(dev, StartRating(0x2A, 30, True), 10.0) == Ack()
    assert dev.press(4, 16.4) is True
    assert dev.press(1, 17.0) is False
    events = drain(dev)
    assert [(e.kind, e.handle, e.level, e.elapsed_ds) for e in events] == [(EventKind.PRESS, 0x2A, 4, 64)]


def test_keys_are_lit_only_while_a_rating_is_open(dev: SimKeypad) -> None:
    assert send(dev, QueryStatus()).mode == Mode.SERVING
    send(dev, StartRating(1, 30, False))
    assert send(dev, QueryStatus()).mode == Mode.RATING
    dev.press(5, 1.0)
    assert send(dev, QueryStatus()).mode == Mode.SERVING


@pytest.mark.parametrize("keys, levels", [(5, {1, 2, 3, 4, 5}), (4, {2, 3, 4, 5}), (3, {2, 3, 4})])
def test_key_models(keys: int, levels: set[int]) -> None:
    device = SimKeypad(1, keys=keys, rng=random.Random(1))
    drain(device)
    assert send(device, QueryStatus()).keys == keys
    for level in range(0, 7):
        send(device, StartRating(level + 100, 30, False))
        assert device.press(level, 1.0) is (level in levels)
    assert sorted(e.level for e in drain(device)) == sorted(levels)


# §4.2 ---------------------------------------------------------------------------


def test_poll_returns_the_oldest_until_confirmed(dev: SimKeypad) -> None:
    for handle in (1, 2):
        send(dev, StartRating(handle, 30, False))
        dev.press(5, 1.0)
    first = send(dev, Poll()).event
    assert send(dev, Poll()).event == first and first.handle == 1
    assert send(dev, QueryStatus()).pending == 2
    assert send(dev, ConfirmEvent(first.event_no)) == Ack()
    assert send(dev, Poll()).event.handle == 2


def test_confirm_of_an_event_that_is_not_the_oldest(dev: SimKeypad) -> None:
    assert send(dev, ConfirmEvent(1234)) == ErrorReply(ErrorCode.NOT_OLDEST)   # empty buffer
    for handle in (1, 2):
        send(dev, StartRating(handle, 30, False))
        dev.press(5, 1.0)
    second = dev.events[1]
    assert send(dev, ConfirmEvent(second.event_no)) == ErrorReply(ErrorCode.NOT_OLDEST)
    assert len(dev.events) == 2


def test_buffer_of_32_full_refuses_start_rating(dev: SimKeypad) -> None:
    for handle in range(32):
        assert send(dev, StartRating(handle, 30, False)) == Ack()
        assert dev.press(3, 1.0)
    assert send(dev, QueryStatus()).pending == 32
    assert send(dev, StartRating(99, 30, False)) == ErrorReply(ErrorCode.BUFFER_FULL)
    assert send(dev, QueryStatus()).mode == Mode.SERVING
    send(dev, ConfirmEvent(send(dev, Poll()).event.event_no))
    assert send(dev, StartRating(99, 30, False)) == Ack()


# §4.3 ---------------------------------------------------------------------------


def test_start_replaces_the_open_rating_without_an_event(dev: SimKeypad) -> None:
    send(dev, StartRating(1, 30, False), 0.0)
    send(dev, StartRating(2, 30, False), 1.0)
    dev.press(5, 2.0)
    assert [(e.handle, e.elapsed_ds) for e in drain(dev)] == [(2, 10)]


def test_start_with_the_same_handle_changes_nothing(dev: SimKeypad) -> None:
    send(dev, StartRating(7, 10, False), 0.0)
    assert send(dev, StartRating(7, 10, True), 8.0) == Ack()        # resent after a lost reply
    dev.tick(10.0)                                                  # timer was not restarted
    assert [(e.kind, e.handle, e.elapsed_ds) for e in drain(dev)] == [(EventKind.TIMEOUT, 7, 100)]


def test_timeout_produces_a_0x02_event(dev: SimKeypad) -> None:
    send(dev, StartRating(5, 5, True), 100.0)
    dev.tick(104.9)
    assert dev.events == type(dev.events)()
    assert dev.press(4, 105.0) is False           # the timeout wins at the deadline
    events = drain(dev)
    assert [(e.kind, e.handle, e.level, e.elapsed_ds) for e in events] == [(EventKind.TIMEOUT, 5, 0, 50)]


# §4.4 ---------------------------------------------------------------------------


def test_cancel_closes_without_event_and_is_fine_without_rating(dev: SimKeypad) -> None:
    assert send(dev, CancelRating()) == Ack()
    send(dev, StartRating(1, 30, False))
    assert send(dev, CancelRating()) == Ack()
    assert dev.press(5, 1.0) is False
    assert drain(dev) == []


# §4.5 ---------------------------------------------------------------------------


def test_power_up_state_and_event() -> None:
    device = SimKeypad(4, rng=FixedRng([0x1234, 500]))
    status = send(device, QueryStatus())
    assert status == Status(2, 1, 5, Mode.SERVING, 1, 0x1234)
    assert device.staff is None and device.rating is None
    assert drain(device) == [Event(500, EventKind.POWER_UP, 0, 0, 0)]


def test_reboot_keeps_unconfirmed_events_loses_identity_mode_and_rating(dev: SimKeypad) -> None:
    send(dev, ShowStaff("A01", 5, "王𬀩", "𠇔"))
    send(dev, SetMode(Mode.PAUSED))
    send(dev, StartRating(1, 30, False))
    dev.press(5, 1.0)
    send(dev, StartRating(2, 30, False))
    old_boot = dev.boot_id
    dev.power_up(2.0)
    status = send(dev, QueryStatus())
    assert status.boot_id != old_boot and status.mode == Mode.SERVING and status.pending == 2
    assert dev.staff is None and dev.rating is None
    assert dev.press(5, 3.0) is False
    assert [e.kind for e in drain(dev)] == [EventKind.PRESS, EventKind.POWER_UP]


def test_power_up_event_is_dropped_when_the_buffer_is_full(dev: SimKeypad) -> None:
    for handle in range(32):
        send(dev, StartRating(handle, 30, False))
        dev.press(3, 1.0)
    dev.power_up(2.0)
    assert len(dev.events) == 32 and all(e.kind == EventKind.PRESS for e in dev.events)


def test_show_staff_and_set_mode_are_stored(dev: SimKeypad) -> None:
    assert send(dev, ShowStaff("A01", 5, "王𬀩", "𠇔办")) == Ack()
    assert dev.staff == ShowStaff("A01", 5, "王𬀩", "𠇔办")
    assert send(dev, SetMode(Mode.CLOSED)) == Ack()
    assert send(dev, QueryStatus()).mode == Mode.CLOSED


# §4.7 ---------------------------------------------------------------------------


def test_event_no_counts_up_from_a_random_start_and_wraps() -> None:
    device = SimKeypad(1, rng=FixedRng([7, 0xFFFE]))
    for handle in (1, 2):
        send(device, StartRating(handle, 30, False))
        device.press(5, 1.0)
    assert [e.event_no for e in drain(device)] == [0xFFFE, 0xFFFF, 0]


def test_boot_id_changes_at_every_power_up() -> None:
    device = SimKeypad(1, rng=FixedRng([9, 1, 9, 9, 10, 2]))
    assert device.boot_id == 9
    device.power_up(1.0)                          # the rng repeats 9: the device picks again
    assert device.boot_id == 10


# Errors (§3) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        Frame(3, Func.QUERY_STATUS, b"\x00"),
        Frame(3, Func.SHOW_STAFF, b"A       \x05\x09ab\x00"),
        Frame(3, Func.SHOW_STAFF, b"A       \x06\x00\x00"),          # stars 6
        Frame(3, Func.START_RATING, bytes(5)),
        Frame(3, Func.START_RATING, bytes(4) + b"\x04\x00"),          # timeout 4 s
        Frame(3, Func.START_RATING, bytes(4) + b"\x1e\x02"),          # voice 2
        Frame(3, Func.CANCEL_RATING, b"\x00"),
        Frame(3, Func.SET_MODE, b"\x03"),
        Frame(3, Func.POLL, b"\x00"),
        Frame(3, Func.CONFIRM_EVENT, b"\x00"),
    ],
)
def test_bad_data_is_error_1(dev: SimKeypad, frame: Frame) -> None:
    assert dev.handle(frame, 0.0) == ErrorReply(ErrorCode.BAD_DATA)


@pytest.mark.parametrize("func", [0x00, 0x08, 0x20, 0x7F])
def test_unknown_function_is_error_2(dev: SimKeypad, func: int) -> None:
    assert dev.handle(Frame(3, func, b""), 0.0) == ErrorReply(ErrorCode.UNKNOWN_FUNCTION)


def test_bad_fields_change_nothing(dev: SimKeypad) -> None:
    dev.handle(Frame(3, Func.START_RATING, bytes(4) + b"\x04\x00"), 0.0)
    assert dev.rating is None
