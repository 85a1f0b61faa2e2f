"""The hall's clock: real time, or a demo clock that starts at a chosen moment and runs faster.

Shared by the hall server and every node that must agree with it on the demo's simulated time
(the traffic simulator, the keypad gateway stamping when a key was pressed).

The demo and the chaos test run a whole hall day in minutes: `--clock-start 2026-11-23T08:30+08:00
--clock-speed 60`. The anchor (the real moment the demo clock started) is a flag too, so a server
restarted mid-demo continues the same simulated time instead of jumping back.
"""

from __future__ import annotations

import argparse

import time
from dataclasses import dataclass
from datetime import datetime


class BadClock(ValueError):
    pass


@dataclass(frozen=True)
class Clock:
    start_ms: int | None = None     # simulated time at the anchor; None = real time
    anchor_s: float = 0.0           # real epoch seconds when the simulated clock read start_ms
    speed: float = 1.0

    def at(self, real_s: float) -> int:
        """The clock's reading (ms) at the real epoch moment `real_s`."""
        real_ms = int(real_s * 1000)
        if self.start_ms is None:
            return real_ms
        return self.start_ms + int((real_ms - self.anchor_s * 1000) * self.speed)

    def __call__(self) -> int:
        real_ms = time.time_ns() // 1_000_000
        if self.start_ms is None:
            return real_ms
        return self.start_ms + int((real_ms - self.anchor_s * 1000) * self.speed)

    @classmethod
    def parse(cls, start: str | None, speed: float = 1.0, anchor_s: float | None = None) -> "Clock":
        if not (0 < speed <= 10_000):
            raise BadClock(f"--clock-speed {speed}: must be above 0 and at most 10000")
        if start is None:
            if speed != 1.0:
                raise BadClock("--clock-speed needs --clock-start")
            return cls()
        try:
            dt = datetime.fromisoformat(start)
        except ValueError:
            raise BadClock(f"--clock-start {start!r}: expected an ISO time such as 2026-11-23T08:30+08:00") from None
        if dt.tzinfo is None:
            raise BadClock(f"--clock-start {start!r}: give the UTC offset, e.g. +08:00")
        return cls(start_ms=int(dt.timestamp() * 1000), anchor_s=time.time() if anchor_s is None else anchor_s,
                   speed=speed)


def add_clock_flags(parser: "argparse.ArgumentParser") -> None:
    """The demo clock's flags, for a program that must agree with the hall server's clock."""
    parser.add_argument("--clock-start", metavar="ISO",
                        help="the hall's demo clock, as given to the hall server (default: real time)")
    parser.add_argument("--clock-speed", metavar="N", type=float, default=1.0, help="the demo clock's speed-up")
    parser.add_argument("--clock-anchor", metavar="EPOCH_S", type=float, help="the demo clock's anchor")


def clock_from_flags(args: "argparse.Namespace") -> Clock:
    """The Clock the flags describe; raises BadClock with a message naming the flag."""
    return Clock.parse(args.clock_start, args.clock_speed, args.clock_anchor)
