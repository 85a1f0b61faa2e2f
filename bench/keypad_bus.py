"""EKP-2 keypad bus figures over a real pty with the simulator. Prints numbers; asserts nothing.

    .venv/bin/python bench/keypad_bus.py [--baud 9600,38400] [--presses 60] [--seed 1] [--no-cycles]

1. Poll cycle time (every device polled once) for 1, 8, 16 and 32 keypads, beside the wire-time
   limit computed from frame sizes (10 bits per byte) and the datasheet floor (wire time plus the
   minimum 5 ms reply delay plus the 4 ms bus silence per exchange).
2. Press -> event delivered latency, p50/p99, with 16 keypads and 4 ratings open: the session's
   smart polling beside a plain round-robin poller (the same session polling every device every
   cycle).

A pty moves bytes as fast as the kernel copies them, so the simulator paces itself at the baud
rate: a request is taken to arrive one byte time per byte, and each reply byte is released one
byte time after the previous one. Reply delays are the datasheet's 5-40 ms; the session runs
with the datasheet's defaults (150 ms timeout, 3 tries, 4 ms silence).
"""

from __future__ import annotations

import os
import sys

# bench/http.py is named like the standard library's `http` package: drop this folder from the path
# before anything imports `http.client`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import random
import statistics
import threading
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # the project root

import serial  # noqa: E402

from devices.keypad.codec import Func, Poll, PollReply, encode, reply_frame, request_frame  # noqa: E402
from devices.keypad.session import KeypadSession, KeypadState  # noqa: E402
from devices.keypad.sim_bus import BITS_PER_BYTE  # noqa: E402
from devices.keypad.sim_device import KeypadView  # noqa: E402
from devices.keypad.simulator import KeypadSimulator  # noqa: E402

POLL_BYTES = len(encode(request_frame(1, Poll())))
EMPTY_REPLY_BYTES = len(encode(reply_frame(1, Func.POLL, PollReply(None))))
EVENT_REPLY_BYTES = POLL_BYTES + 10          # a POLL reply carrying one event: 10 bytes of DATA
MIN_REPLY_DELAY_S, MEAN_REPLY_DELAY_S, MAX_REPLY_DELAY_S, QUIET_S = 0.005, 0.0225, 0.040, 0.004
OPEN_RATINGS = 4


def press_bound_s(baud: int, open_ratings: int = OPEN_RATINGS) -> float:
    """The physical bound of press → event: poll once every keypad with an open rating, plus one poll
    (the session's second POLL that verifies the event), each exchange at the datasheet's slowest:
    POLL out, the longest reply delay (40 ms), a reply carrying an event back, 4 ms of silence."""
    exchange_s = (POLL_BYTES + EVENT_REPLY_BYTES) * byte_time_s(baud) + MAX_REPLY_DELAY_S + QUIET_S
    return (open_ratings + 1) * exchange_s


def byte_time_s(baud: int) -> float:
    return BITS_PER_BYTE / baud


# --------------------------------------------------------------------------- 1. cycle time


def bench_cycle(count: int, baud: int, cycles: int, seed: int) -> tuple[float, float]:
    """Mean and max seconds per cycle with every device polled once per cycle."""
    addresses = range(1, count + 1)
    with KeypadSimulator(addresses, baud=baud, pace=True, seed=seed) as sim:
        port = serial.serial_for_url(sim.path, baudrate=baud)
        try:
            session = KeypadSession(port, addresses, on_event=lambda a, e: True, idle_every=1)
            for _ in range(20):                      # first contact, power-up events confirmed
                session.run_once()
                if all(i.state is KeypadState.READY and not i.events_pending for i in session.info()):
                    break
            durations = [session.run_once().duration_s for _ in range(cycles)]
        finally:
            port.close()
    return statistics.mean(durations), max(durations)


def print_cycle_table(baud: int, seed: int) -> None:
    per_poll_wire_s = (POLL_BYTES + EMPTY_REPLY_BYTES) * byte_time_s(baud)
    print(f"1. Poll cycle, every keypad polled once (POLL {POLL_BYTES} B + empty reply {EMPTY_REPLY_BYTES} B), "
          f"{baud} baud, idle bus")
    print(f"   {'keypads':>7}  {'measured mean':>13}  {'max':>8}  {'wire limit':>10}  {'datasheet floor':>15}  "
          f"{'expected mean':>13}")
    for count in (1, 8, 16, 32):
        cycles = max(4, 64 // count)
        mean_s, max_s = bench_cycle(count, baud, cycles, seed)
        wire_s = count * per_poll_wire_s
        floor_s = count * (per_poll_wire_s + MIN_REPLY_DELAY_S + QUIET_S)
        expected_s = count * (per_poll_wire_s + MEAN_REPLY_DELAY_S + QUIET_S)
        print(f"   {count:>7}  {mean_s * 1000:>10.1f} ms  {max_s * 1000:>5.1f} ms  {wire_s * 1000:>7.1f} ms  "
              f"{floor_s * 1000:>12.1f} ms  {expected_s * 1000:>10.1f} ms")
    print("   wire limit = bytes x 10 bits / baud; datasheet floor adds the 5 ms minimum reply delay and 4 ms")
    print("   silence per exchange; expected mean uses the mean reply delay (22.5 ms) of the 5-40 ms range.")


# --------------------------------------------------------------------------- 2. latency


@dataclass
class _Seat:
    """One window with a rating open: the driver presses, waits for delivery, re-opens."""

    addr: int
    handle: int = 0
    press_at_s: float = 0.0
    pressed_at_s: float | None = None


def bench_latency(idle_every: int, baud: int, presses: int, seed: int, open_first: bool = True) -> list[float]:
    rng = random.Random(seed)
    addresses = range(1, 17)
    seats = {a: _Seat(a) for a in (2, 6, 10, 14)}
    delivered: dict[int, float] = {}                 # handle -> when on_event saw it
    lock = threading.Lock()

    def on_event(addr: int, event: object) -> bool:
        with lock:
            delivered[event.handle] = time.monotonic()  # type: ignore[attr-defined]
        return True

    latencies: list[float] = []
    with KeypadSimulator(addresses, baud=baud, pace=True, seed=seed) as sim:
        port = serial.serial_for_url(sim.path, baudrate=baud)
        session = KeypadSession(port, addresses, on_event=on_event, idle_every=idle_every, open_first=open_first)
        stop = threading.Event()
        runner = threading.Thread(target=session.run_forever, args=(stop,), daemon=True)
        runner.start()
        try:
            settle_by_s = time.monotonic() + 30             # first contact is not measured
            while time.monotonic() < settle_by_s and not all(
                i.state is KeypadState.READY and not i.events_pending for i in session.info()
            ):
                time.sleep(0.01)
            next_handle = 1
            for seat in seats.values():
                seat.handle, next_handle = next_handle, next_handle + 1
                session.start_rating(seat.addr, seat.handle, 180)
                seat.press_at_s = 0.0
            deadline_s = time.monotonic() + 60 + presses * 2.0
            while len(latencies) < presses and time.monotonic() < deadline_s:
                now_s = time.monotonic()
                views: dict[int, KeypadView] = sim.views()
                for seat in seats.values():
                    if seat.pressed_at_s is None:
                        if views[seat.addr].open_handle == seat.handle:
                            if seat.press_at_s == 0.0:   # lit: the citizen presses a little later
                                seat.press_at_s = now_s + rng.uniform(0.5, 3.0)
                            elif now_s >= seat.press_at_s:
                                sim.press(seat.addr, rng.choice((5, 5, 5, 4, 3, 1)))
                                seat.pressed_at_s = time.monotonic()
                        continue
                    with lock:
                        seen_s = delivered.get(seat.handle)
                    if seen_s is not None:
                        latencies.append(seen_s - seat.pressed_at_s)
                        seat.handle, next_handle = next_handle, next_handle + 1
                        seat.pressed_at_s, seat.press_at_s = None, 0.0
                        session.start_rating(seat.addr, seat.handle, 180)
                time.sleep(0.002)
        finally:
            stop.set()
            runner.join(timeout=5)
            port.close()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def print_latency_table(baud: int, presses: int, seed: int) -> None:
    print()
    print(f"2. Press -> event delivered (on_event), 16 keypads, 4 ratings open, {baud} baud, {presses} presses each")
    bound_s = press_bound_s(baud)
    print(f"   physical bound (poll the {OPEN_RATINGS} open keypads once + one poll, 40 ms replies): "
          f"{bound_s * 1000:.0f} ms; goal p99 ≤ 1.3 × bound = {1.3 * bound_s * 1000:.0f} ms")
    print(f"   {'poller':<48}  {'p50':>8}  {'p99':>8}  {'max':>8}  {'n':>4}  {'p99/bound':>9}")
    for name, idle_every, open_first in (("smart: open first and between others, idle 1/8", 8, True),
                                         ("smart, address order (before): idle 1/8", 8, False),
                                         ("plain round-robin (all every cycle)", 1, False)):
        lat = bench_latency(idle_every, baud, presses, seed, open_first)
        if not lat:
            print(f"   {name:<48}  no presses delivered")
            continue
        print(f"   {name:<48}  {percentile(lat, 0.5) * 1000:>5.0f} ms  {percentile(lat, 0.99) * 1000:>5.0f} ms  "
              f"{max(lat) * 1000:>5.0f} ms  {len(lat):>4}  {percentile(lat, 0.99) / bound_s:>8.2f}×")
    print("   Latency includes the second POLL that verifies each event before it goes up (about one exchange).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baud", default="9600,38400", help="baud rates, comma-separated (default 9600,38400)")
    parser.add_argument("--no-cycles", action="store_true", help="skip the poll-cycle table")
    parser.add_argument("--presses", type=int, default=60, help="presses measured per poller (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print("Timing: the simulator paces its bytes at the baud rate (10 bits/byte) on the pty; replies 5-40 ms;")
    print("the session uses the datasheet defaults. Figures vary with machine load; nothing is asserted.")
    print()
    for baud in (int(b) for b in args.baud.split(",")):
        if baud not in (9600, 19200, 38400):
            parser.error(f"--baud {baud}: the EKP-2 runs at 9600, 19200 or 38400")
        if not args.no_cycles:
            print_cycle_table(baud, args.seed)
        print_latency_table(baud, args.presses, args.seed)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
