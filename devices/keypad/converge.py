"""Converging one keypad to what the gateway wants: the commands that would bring the device to
the wanted staff card, mode and rating, and sending them. A mixin of
`devices.keypad.session.KeypadSession` (which runs it on the session thread)."""

from __future__ import annotations

import logging
import math
import threading
from typing import Callable

from devices.keypad.codec import Ack, CancelRating, ErrorCode, ErrorReply, Mode, SetMode, ShowStaff, StartRating
from devices.keypad.link import KeypadLink
from devices.keypad.tracking import Step, Tracked, WantedRating

log = logging.getLogger("devices.keypad.session")


class Converger:
    link: KeypadLink
    event_retry_s: float
    _lock: threading.Lock
    _clock: Callable[[], float]

    def _wanted(self, k: Tracked) -> tuple[ShowStaff | None, int, Mode | None, int, WantedRating | None]:
        """A consistent copy of what the gateway wants (it may change it from another thread)."""
        with self._lock:
            return k.want_staff, k.staff_version, k.want_mode, k.mode_version, k.want_rating

    def _converged(self, k: Tracked) -> bool:
        want_staff, staff_version, want_mode, mode_version, want_rating = self._wanted(k)
        return (
            (want_staff is None or k.staff_applied == staff_version)
            and (want_mode is None or k.mode_applied == mode_version)
            and k.open_rating == (None if want_rating is None else want_rating.handle)
        )

    def _plan(self, k: Tracked) -> list[Step]:
        """The commands that would bring the device to the wanted state, and may be sent now."""
        want_staff, staff_version, want_mode, mode_version, want_rating = self._wanted(k)
        steps: list[Step] = []
        if want_staff is not None and k.staff_applied != staff_version:
            steps.append(Step(want_staff, lambda: setattr(k, "staff_applied", staff_version)))
        if want_mode is not None and k.mode_applied != mode_version:
            steps.append(Step(SetMode(want_mode), lambda: setattr(k, "mode_applied", mode_version)))
        if want_rating is None:
            if k.open_rating is not None:
                steps.append(Step(CancelRating(), lambda: setattr(k, "open_rating", None)))
        elif k.open_rating != want_rating.handle and not self._start_blocked(k, want_rating):
            start = StartRating(want_rating.handle, self._remaining_s(k, want_rating), want_rating.voice)
            steps.append(Step(start, lambda: self._rating_opened(k, want_rating)))
        return steps

    def _start_blocked(self, k: Tracked, rating: WantedRating) -> bool:
        if k.buffer_full or self._clock() < k.start_retry_s:
            return True
        # Re-opening a handle we already sent is safe only once every older event has been seen:
        # its press may be waiting in the FIFO (e.g. pressed just before a reboot).
        return k.hold_start and k.last_started == rating.handle

    def _converge(self, k: Tracked) -> None:
        for step in self._plan(k):
            if isinstance(step.request, StartRating):
                k.last_started = step.request.handle
            reply = self.link.request(k.addr, step.request)
            if isinstance(reply, Ack):
                step.on_ack()
            elif isinstance(reply, ErrorReply) and reply.code == ErrorCode.BUFFER_FULL:
                log.warning("keypad %d: event buffer full, rating waits until events are confirmed", k.addr)
                k.buffer_full = True
                k.events_pending = True
            else:
                # Fields are validated before they are queued, so a refusal means a corrupted
                # frame or a firmware fault: try again later rather than flooding the bus.
                log.warning("keypad %d: %s refused: %s", k.addr, type(step.request).__name__, reply)
                if isinstance(step.request, StartRating):
                    k.start_retry_s = self._clock() + self.event_retry_s
                else:
                    step.on_ack()

    def _rating_opened(self, k: Tracked, rating: WantedRating) -> None:
        k.open_rating = rating.handle
        k.stray_check = False
        if k.rating_deadline is None or k.rating_deadline[0] != rating.handle:
            k.rating_deadline = (rating.handle, self._clock() + rating.timeout_s)

    def _remaining_s(self, k: Tracked, rating: WantedRating) -> int:
        """The full timeout the first time; after a reboot, what is left of it (5 s at least)."""
        if k.rating_deadline is None or k.rating_deadline[0] != rating.handle:
            return rating.timeout_s
        left_s = math.ceil(k.rating_deadline[1] - self._clock())
        return max(5, min(rating.timeout_s, left_s))
