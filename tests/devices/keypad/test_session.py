"""The keypad session against simulated keypads on a virtual clock (deterministic, no threads)."""

from __future__ import annotations

import pytest

from devices.keypad.codec import BadField, EventKind, FrameTooLong, Func, Mode, ShowStaff, StartRating, request_frame
from devices.keypad.session import KeypadSession, KeypadState, NoSuchKeypad

from .harness import Harness

RARE_NAME, RARE_DEPT = "王𬀩", "𠇔乡便民服务中心"


def ready(h: Harness, *addrs: int) -> bool:
    return all(h.session.state(a) is KeypadState.READY for a in addrs)


def test_defaults_are_the_datasheets() -> None:
    h = Harness([1])
    link = KeypadSession(h.wire, [1], on_event=lambda a, e: True).link
    assert (link.reply_timeout_s, link.tries, link.quiet_s) == (0.150, 3, 0.004)


def test_first_contact_brings_every_device_online_and_clears_power_up_events() -> None:
    h = Harness([1, 2, 3])
    h.run(2)
    assert ready(h, 1, 2, 3)
    assert h.online == [(1, True), (2, True), (3, True)]
    assert h.events == [] and all(h.view(a).pending == 0 for a in (1, 2, 3))


def test_wanted_state_is_applied_and_a_press_is_delivered_once_then_confirmed() -> None:
    h = Harness([1, 2])
    h.run(2)
    h.session.show_staff(2, "A0123", 4, RARE_NAME, RARE_DEPT)
    h.session.set_mode(2, Mode.PAUSED)
    h.session.set_mode(2, Mode.SERVING)
    h.session.start_rating(2, 0x2A, 30, voice=True)
    h.run_until(lambda: h.view(2).open_handle == 0x2A and ready(h, 2))
    view = h.view(2)
    assert view.staff == ShowStaff("A0123", 4, RARE_NAME, RARE_DEPT) and view.mode == Mode.RATING
    assert h.press(2, 4)
    h.run_until(lambda: h.events and h.view(2).pending == 0)
    h.run(20)
    [(addr, event)] = h.events
    assert addr == 2 and (event.kind, event.handle, event.level) == (EventKind.PRESS, 0x2A, 4)
    assert h.view(2).mode == Mode.SERVING and ready(h, 2)


def test_event_is_confirmed_only_after_upstream_stored_it() -> None:
    h = Harness([1], event_retry_s=1.0)
    h.run(2)
    h.accept = lambda addr, event: False
    h.session.start_rating(1, 7, 30)
    h.run_until(lambda: h.view(1).open_handle == 7)
    h.press(1, 5)
    h.run_until(lambda: h.offered)
    start_s = h.clock.now_s
    h.run_for(0.9)
    assert len(h.offered) == 1 and h.view(1).pending == 1         # not offered again before 1 s
    h.run_for(0.2)
    assert len(h.offered) == 2 and h.view(1).pending == 1
    h.accept = lambda addr, event: True
    h.run_until(lambda: h.view(1).pending == 0)
    assert h.clock.now_s - start_s >= 2.0 and len(h.events) == 1
    assert h.view(1).open_handle is None                           # the rating closed on the press


def test_on_event_raising_counts_as_not_stored() -> None:
    h = Harness([1], event_retry_s=0.5)
    h.run(2)

    def explode(addr: int, event: object) -> bool:
        raise RuntimeError("outbox down")

    h.accept = explode  # type: ignore[assignment]
    h.session.start_rating(1, 7, 30)
    h.run_until(lambda: h.view(1).open_handle == 7)
    h.press(1, 3)
    h.run_for(0.3)
    assert h.view(1).pending == 1
    h.accept = lambda addr, event: True
    h.run_until(lambda: h.view(1).pending == 0)
    assert len(h.events) == 1


def test_lost_confirm_reply_does_not_deliver_twice() -> None:
    h = Harness([1])
    h.run(2)
    h.session.start_rating(1, 9, 30)
    h.run_until(lambda: h.view(1).open_handle == 9)
    h.press(1, 2)
    h.wire.lose_replies[Func.CONFIRM_EVENT] = 1    # confirmed on the device, the ack is lost
    h.run_until(lambda: h.view(1).pending == 0)
    h.run(10)
    assert len(h.events) == 1 and ready(h, 1)


def test_lost_confirms_then_same_event_again_is_not_delivered_twice() -> None:
    h = Harness([1], reprobe_s=0.5)
    h.run(2)
    h.session.start_rating(1, 9, 30)
    h.run_until(lambda: h.view(1).open_handle == 9)
    h.press(1, 2)
    h.wire.lose_requests[Func.CONFIRM_EVENT] = 3    # all three tries lost: device goes offline
    h.run_until(lambda: h.session.state(1) is KeypadState.OFFLINE)
    assert h.view(1).pending == 1
    h.run_until(lambda: h.view(1).pending == 0)     # back online, polls the same event, confirms
    h.run(10)
    assert len(h.events) == 1 and h.online == [(1, True), (1, False), (1, True)]


def test_reboot_mid_rating_restores_identity_mode_and_the_rating() -> None:
    h = Harness([1, 2])
    h.run(2)
    h.session.show_staff(1, "A01", 5, RARE_NAME, RARE_DEPT)
    h.session.set_mode(1, Mode.SERVING)
    h.session.start_rating(1, 0x55, 30)
    h.run_until(lambda: h.view(1).open_handle == 0x55)
    h.run_for(10.0)
    old_boot = h.view(1).boot_id
    h.bus.reboot(1, h.clock.now_s)
    assert h.view(1).open_handle is None and h.view(1).staff is None
    h.run_until(lambda: h.view(1).open_handle == 0x55)
    view = h.view(1)
    assert view.boot_id != old_boot and view.staff == ShowStaff("A01", 5, RARE_NAME, RARE_DEPT)
    assert 19 <= h.bus.device(1).rating.timeout_s <= 21                # what was left of 30 s
    h.press(1, 5)
    h.run_until(lambda: h.events)
    assert [(a, e.handle, e.level) for a, e in h.events] == [(1, 0x55, 5)]
    assert h.online == [(1, True), (2, True)]                          # never reported offline


@pytest.mark.parametrize("status_every_s", [30.0, 0.0], ids=["via-power-up-event", "via-boot-id"])
def test_press_just_before_a_reboot_is_delivered_and_the_rating_not_reopened(status_every_s: float) -> None:
    h = Harness([1], status_every_s=status_every_s)
    h.run(2)
    h.session.start_rating(1, 0x77, 30)
    h.run_until(lambda: h.view(1).open_handle == 0x77)
    h.press(1, 1)                                  # pressed, then power lost before the host polled
    h.bus.reboot(1, h.clock.now_s)
    h.run_until(lambda: h.events and h.view(1).pending == 0 and ready(h, 1))
    h.run(30)
    assert [(e.handle, e.level) for _, e in h.events] == [(0x77, 1)]
    assert h.view(1).open_handle is None           # one press per rating: not re-opened


def test_reboot_detected_by_boot_id_restores_before_events_are_drained() -> None:
    h = Harness([1], status_every_s=0.0)
    h.run(2)
    h.session.show_staff(1, "B7", 2, "李四", "窗口")
    h.session.set_mode(1, Mode.CLOSED)
    h.run_until(lambda: ready(h, 1))
    h.bus.reboot(1, h.clock.now_s)
    h.run_until(lambda: h.view(1).staff is not None and h.view(1).mode == Mode.CLOSED)
    assert h.events == []


def test_buffer_full_keeps_draining_events_then_retries_the_start() -> None:
    h = Harness([1])
    h.run(2)
    h.accept = lambda addr, event: False                 # upstream down: nothing confirmed
    for handle in range(1, 33):
        h.session.start_rating(1, handle, 30)
        h.run_until(lambda: h.view(1).open_handle == handle)
        assert h.press(1, 5)
    assert h.view(1).pending == 32
    h.session.start_rating(1, 100, 30)
    h.run(20)
    assert h.view(1).open_handle is None                 # refused with 0x04
    assert h.session.state(1) is KeypadState.SYNCING
    h.accept = lambda addr, event: True
    h.run_until(lambda: h.view(1).open_handle == 100, max_cycles=5000)
    h.run_until(lambda: h.view(1).pending == 0, max_cycles=5000)
    assert [e.handle for _, e in h.events] == list(range(1, 33))
    assert ready(h, 1)


def test_silent_device_goes_offline_and_comes_back_with_its_wanted_state() -> None:
    h = Harness([1, 2], reprobe_s=1.0)
    h.run(2)
    h.bus.set_silent(2, True)
    h.run_until(lambda: h.session.state(2) is KeypadState.OFFLINE)
    assert h.online[-1] == (2, False)
    h.session.show_staff(2, "C3", 3, RARE_NAME, "")     # wanted while offline
    h.run_for(2.0)
    assert h.session.state(2) is KeypadState.OFFLINE and ready(h, 1)
    h.bus.set_silent(2, False)
    h.run_until(lambda: ready(h, 2))
    assert h.online[-1] == (2, True) and h.view(2).staff == ShowStaff("C3", 3, RARE_NAME, "")


def test_offline_device_is_reprobed_with_one_try_every_reprobe_s() -> None:
    h = Harness([1, 2], reprobe_s=2.0)
    h.bus.set_silent(2, True)
    h.run_until(lambda: h.session.state(2) is KeypadState.OFFLINE)
    sent_before = sum(1 for _, f in h.wire.sent if f.addr == 2)
    h.run_for(10.0)
    probes = sum(1 for _, f in h.wire.sent if f.addr == 2) - sent_before
    assert 4 <= probes <= 6


def test_devices_with_an_open_rating_are_polled_far_more_often() -> None:
    h = Harness(range(1, 17), idle_every=8)
    h.run(3)
    h.session.start_rating(5, 1, 180)
    h.run_until(lambda: h.view(5).open_handle == 1)
    h.wire.sent.clear()
    h.run(80)
    polls = h.wire.polls()
    assert polls[5] >= 80
    assert all(8 <= polls[a] <= 12 for a in range(1, 17) if a != 5)


def test_bus_is_quiet_at_least_4_ms_after_every_reply() -> None:
    h = Harness([1, 2, 3])
    h.run(20)
    writes = [t for t, _ in h.wire.sent]
    for end_s in h.wire.reply_ends_s:
        later = [t for t in writes if t > end_s]
        if later:
            assert later[0] - end_s >= 0.004 - 1e-9


def test_cancel_rating_closes_it_without_an_event() -> None:
    h = Harness([1])
    h.run(2)
    h.session.start_rating(1, 3, 30)
    h.run_until(lambda: h.view(1).open_handle == 3)
    h.session.cancel_rating(1)
    h.run_until(lambda: h.view(1).open_handle is None)
    assert h.press(1, 5) is False and h.events == []


def test_press_for_a_rating_no_longer_wanted_is_reported_with_its_handle() -> None:
    h = Harness([1])
    h.run(2)
    h.session.start_rating(1, 0xA1, 30)
    h.run_until(lambda: h.view(1).open_handle == 0xA1)
    h.session.start_rating(1, 0xA2, 30)                  # gateway moved on...
    h.press(1, 4)                                        # ...but the citizen pressed first
    h.run_until(lambda: h.view(1).open_handle == 0xA2 and h.events)
    assert [(e.handle, e.level) for _, e in h.events] == [(0xA1, 4)]
    h.press(1, 3)
    h.run_until(lambda: len(h.events) == 2)
    assert [(e.handle, e.level) for _, e in h.events][1] == (0xA2, 3)


def test_timeout_event_is_delivered_and_the_rating_forgotten() -> None:
    h = Harness([1])
    h.run(2)
    h.session.start_rating(1, 0xB0, 5)
    h.run_until(lambda: h.view(1).open_handle == 0xB0)
    h.run_until(lambda: h.events, max_cycles=10000)
    [(_, event)] = h.events
    assert (event.kind, event.handle, event.level, event.elapsed_ds) == (EventKind.TIMEOUT, 0xB0, 0, 50)
    h.run(20)
    assert h.view(1).open_handle is None and ready(h, 1)


def test_three_key_model_is_reported() -> None:
    h = Harness([4], keys=3)
    h.run(2)
    [info] = h.session.info()
    assert (info.addr, info.keys, info.state) == (4, 3, KeypadState.READY)


class BrokenPort:
    timeout = None

    def write(self, data: bytes) -> int:
        raise OSError("device disconnected")

    def read(self, size: int = 1) -> bytes:
        raise OSError("device disconnected")


def test_a_dead_port_takes_devices_offline_without_raising() -> None:
    online: list[tuple[int, bool]] = []
    session = KeypadSession(BrokenPort(), [1, 2], on_event=lambda a, e: True,
                            on_online=lambda a, up: online.append((a, up)), sleep=lambda s: None)
    session.run_once()
    assert online == [(1, False), (2, False)] and session.link.stats.transport_errors == 6


def test_commands_are_validated_in_the_callers_thread() -> None:
    h = Harness([1])
    with pytest.raises(BadField):
        h.session.show_staff(1, "工号", 5, "a", "b")
    with pytest.raises(FrameTooLong):
        h.session.show_staff(1, "A", 5, "王" * 120, "办" * 10)
    with pytest.raises(BadField):
        h.session.start_rating(1, 1, 200)
    with pytest.raises(BadField):
        h.session.set_mode(1, 3)
    with pytest.raises(NoSuchKeypad):
        h.session.start_rating(9, 1, 30)
    with pytest.raises(ValueError):
        KeypadSession(h.wire, [0, 33], on_event=lambda a, e: True)


def test_noisy_bus_of_16_with_a_reboot_mid_rating_delivers_every_press_exactly_once() -> None:
    h = Harness(range(1, 17), seed=11, noise=0.01, reprobe_s=0.5)
    h.run(5)
    expected: dict[tuple[int, int], int] = {}
    handle = 0
    for round_no in range(3):
        for addr in range(1, 17):
            handle += 1
            h.session.show_staff(addr, f"S{addr:02d}", 5, RARE_NAME, RARE_DEPT)
            h.session.start_rating(addr, handle, 60)
        h.run_until(lambda: all(h.view(a).open_handle is not None for a in range(1, 17)), max_cycles=5000)
        if round_no == 1:
            h.bus.reboot(7, h.clock.now_s)           # loses its open rating
            h.run_until(lambda: h.view(7).open_handle is not None, max_cycles=5000)
        for addr in range(1, 17):
            level = (addr + round_no) % 5 + 1
            assert h.press(addr, level)
            expected[(addr, h.bus.device(addr).events[-1].handle)] = level
        h.run_until(lambda: len(h.events) == len(expected), max_cycles=20000)
    h.run(50)
    delivered = [(a, e.handle) for a, e in h.events]
    assert sorted(delivered) == sorted(expected)          # each exactly once
    assert {(a, e.handle): e.level for a, e in h.events} == expected
    assert all(e.kind == EventKind.PRESS for _, e in h.events)
    assert h.bus.bytes_corrupted > 50


def test_rating_reopened_by_a_late_duplicate_start_is_cancelled() -> None:
    # A START resent after a lost reply can reach the device after the citizen pressed: the
    # device opens the same handle again. Once the press is seen, the session closes it.
    h = Harness([1])
    h.run(2)
    h.session.start_rating(1, 0xC0, 30)
    h.run_until(lambda: h.view(1).open_handle == 0xC0)
    h.press(1, 5)
    h.bus.device(1).handle(request_frame(1, StartRating(0xC0, 30, True)), h.clock.now_s)
    assert h.view(1).open_handle == 0xC0
    h.run_until(lambda: h.events and h.view(1).open_handle is None)
    assert h.press(1, 1) is False
    h.run(20)
    assert [(e.handle, e.level) for _, e in h.events] == [(0xC0, 5)] and ready(h, 1)


def test_routine_status_checks_happen_and_are_spread_one_per_cycle() -> None:
    h = Harness(range(1, 17), status_every_s=30.0)
    h.run(5)
    per_cycle: list[int] = []
    end_s = h.clock.now_s + 65.0
    while h.clock.now_s < end_s:
        before = len(h.wire.sent)
        h.cycle()
        per_cycle.append(sum(1 for _, f in h.wire.sent[before:] if f.func == Func.QUERY_STATUS))
    assert max(per_cycle) == 1
    assert 32 <= sum(per_cycle) <= 48                    # every keypad about every 30 s


def test_a_device_that_misses_a_few_replies_is_back_within_a_second_not_reprobe_s() -> None:
    h = Harness([1, 2], reprobe_s=5.0)
    h.run(2)
    h.bus.set_silent(2, True)                     # e.g. a burst of noise on the line
    h.run_until(lambda: h.session.state(2) is KeypadState.OFFLINE)
    h.bus.set_silent(2, False)
    went_offline_s = h.clock.now_s
    h.run_until(lambda: ready(h, 2))
    assert h.clock.now_s - went_offline_s < 1.0
    assert h.online[-2:] == [(2, False), (2, True)]


def test_a_dead_device_is_reprobed_less_and_less_often() -> None:
    h = Harness([1, 2], reprobe_s=2.0)
    h.bus.set_silent(2, True)
    h.run_until(lambda: h.session.state(2) is KeypadState.OFFLINE)
    sent_before = sum(1 for _, f in h.wire.sent if f.addr == 2)
    h.run_for(20.0)
    probes = sum(1 for _, f in h.wire.sent if f.addr == 2) - sent_before
    assert 10 <= probes <= 13                     # 0.25, 0.5, 1, then every 2 s


def test_a_keypad_with_a_rating_open_is_polled_between_every_other_keypads_turn() -> None:
    """A press waits for at most one poll of each open keypad plus one other keypad's turn, however
    much else the bus has to do (here: every other keypad gets a new staff identity at once)."""
    h = Harness(range(1, 9), idle_every=8)
    h.run(3)
    h.session.start_rating(5, 1, 180)
    h.run_until(lambda: h.view(5).open_handle == 1)
    for addr in range(1, 9):
        if addr != 5:
            h.session.show_staff(addr, f"S{addr}", 4, "张三", "窗口")
    h.wire.sent.clear()
    h.run(1)
    turns = [f.addr for _, f in h.wire.sent]
    assert turns[0] == 5, "the open keypad is served first"
    others = [i for i, a in enumerate(turns) if a != 5]
    assert len({turns[i] for i in others}) == 7
    for i, j in zip(others, others[1:]):
        if turns[i] != turns[j]:      # another keypad's turn follows: the open one is polled in between
            assert 5 in turns[i + 1:j], turns
