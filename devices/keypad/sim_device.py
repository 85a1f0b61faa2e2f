"""One simulated EKP-2 keypad: the device's behaviour (datasheet §4), no I/O.

Time is passed in (`now_s`, seconds on any monotonic clock). The bus (`sim_bus.py`) does the
framing, addressing and reply timing; this class only answers frames and key presses.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from devices.keypad.codec import (
    FIFO_SIZE,
    Ack,
    CancelRating,
    CodecError,
    ConfirmEvent,
    ErrorCode,
    ErrorReply,
    Event,
    EventKind,
    Frame,
    Mode,
    Poll,
    PollReply,
    QueryStatus,
    Reply,
    SetMode,
    ShowStaff,
    StartRating,
    Status,
    UnknownFunction,
    parse_request,
)

KEY_LEVELS: dict[int, frozenset[int]] = {
    5: frozenset({1, 2, 3, 4, 5}),
    4: frozenset({5, 4, 3, 2}),
    3: frozenset({4, 3, 2}),
}
FIRMWARE = (2, 1)


@dataclass(frozen=True)
class OpenRating:
    handle: int
    started_s: float
    timeout_s: int
    voice: bool


@dataclass(frozen=True)
class KeypadView:
    """What a test or the control interface can see of a device."""

    addr: int
    keys: int
    boot_id: int
    mode: int                  # as QUERY_STATUS reports it (3 while a rating is open)
    open_handle: int | None
    pending: int
    staff: ShowStaff | None
    events: tuple[Event, ...]


class SimKeypad:
    """An EKP-2 device. `time_scale` > 1 makes rating timers run faster (for tests)."""

    def __init__(self, addr: int, *, keys: int = 5, rng: random.Random | None = None,
                 now_s: float = 0.0, time_scale: float = 1.0) -> None:
        if keys not in KEY_LEVELS:
            raise ValueError(f"keys must be 3, 4 or 5, got {keys}")
        self.addr = addr
        self.keys = keys
        self.time_scale = time_scale
        self._rng = rng or random.Random()
        self.events: deque[Event] = deque()          # survives reboots (flash)
        self.boot_id = -1
        self.power_up(now_s)

    # ----------------------------------------------------------------- power

    def power_up(self, now_s: float) -> None:
        """§4.5: new boot_id, random event_no start, no identity, mode 0, no rating, one 0x10 event."""
        self.boot_id = self._pick_boot_id()
        self._next_event_no = self._rng.randrange(0x10000)
        self.staff: ShowStaff | None = None
        self.mode = Mode.SERVING
        self.rating: OpenRating | None = None
        # With a full buffer there is no room for the power-up event; the new boot_id still tells.
        self._push(EventKind.POWER_UP, handle=0, level=0, elapsed_ds=0)

    def _pick_boot_id(self) -> int:
        while True:
            boot_id = self._rng.randrange(0x10000)
            if boot_id != self.boot_id:
                return boot_id

    # ----------------------------------------------------------------- citizen side

    def press(self, level: int, now_s: float) -> bool:
        """A key press. True when it closed the open rating with an event (§4.1)."""
        self.tick(now_s)
        if self.rating is None or level not in KEY_LEVELS[self.keys]:
            return False
        rating, self.rating = self.rating, None
        return self._push(EventKind.PRESS, rating.handle, level, self._elapsed_ds(rating, now_s))

    def tick(self, now_s: float) -> None:
        """Close a rating whose time is up with a 0x02 event."""
        rating = self.rating
        if rating is not None and now_s >= self.deadline_s():
            self.rating = None
            self._push(EventKind.TIMEOUT, rating.handle, 0, rating.timeout_s * 10)

    def deadline_s(self) -> float:
        """When the open rating times out (inf without one)."""
        if self.rating is None:
            return float("inf")
        return self.rating.started_s + self.rating.timeout_s / self.time_scale

    def _elapsed_ds(self, rating: OpenRating, now_s: float) -> int:
        return min(0xFFFF, max(0, round((now_s - rating.started_s) * self.time_scale * 10)))

    def _push(self, kind: int, handle: int, level: int, elapsed_ds: int) -> bool:
        if len(self.events) >= FIFO_SIZE:
            return False
        self.events.append(Event(self._next_event_no, kind, handle, level, elapsed_ds))
        self._next_event_no = (self._next_event_no + 1) & 0xFFFF
        return True

    # ----------------------------------------------------------------- host side

    def handle(self, frame: Frame, now_s: float) -> Reply | None:
        """Act on a host frame addressed to this device or broadcast; the reply, or None for none.

        The caller has already dropped frames with a bad checksum (§2) and never sends
        broadcast replies (§1): this returns what the device would answer all the same.
        """
        self.tick(now_s)
        try:
            request = parse_request(frame)
        except UnknownFunction:
            return ErrorReply(ErrorCode.UNKNOWN_FUNCTION)
        except CodecError:                               # BadField, BadLength, FrameTooLong
            return ErrorReply(ErrorCode.BAD_DATA)
        if isinstance(request, QueryStatus):
            return self.status()
        if isinstance(request, ShowStaff):
            self.staff = request
        elif isinstance(request, StartRating):
            return self._start(request, now_s)
        elif isinstance(request, CancelRating):
            self.rating = None
        elif isinstance(request, SetMode):
            self.mode = Mode(request.mode)
        elif isinstance(request, Poll):
            return PollReply(self.events[0] if self.events else None)
        elif isinstance(request, ConfirmEvent):
            if not self.events or self.events[0].event_no != request.event_no:
                return ErrorReply(ErrorCode.NOT_OLDEST)
            self.events.popleft()
        return Ack()

    def _start(self, request: StartRating, now_s: float) -> Reply:
        if self.rating is not None and self.rating.handle == request.handle:
            return Ack()                                 # §4.3: a resend changes nothing
        if len(self.events) >= FIFO_SIZE:
            return ErrorReply(ErrorCode.BUFFER_FULL)     # §4.2: keys blink, rating refused
        self.rating = OpenRating(request.handle, now_s, request.timeout_s, request.voice)
        return Ack()

    def status(self) -> Status:
        mode = Mode.RATING if self.rating is not None else self.mode
        fw_major, fw_minor = FIRMWARE
        return Status(fw_major, fw_minor, self.keys, mode, len(self.events), self.boot_id)

    def view(self) -> KeypadView:
        return KeypadView(
            addr=self.addr, keys=self.keys, boot_id=self.boot_id, mode=self.status().mode,
            open_handle=None if self.rating is None else self.rating.handle,
            pending=len(self.events), staff=self.staff, events=tuple(self.events),
        )
