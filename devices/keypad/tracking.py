"""What the keypad session wants and knows about each keypad, and the records it hands out.

The session (`session.py`) owns the logic; this module only holds the per-device bookkeeping
(`Tracked`) and the small public types the gateway sees (`KeypadState`, `KeypadInfo`, …).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from devices.keypad.codec import Event, Mode, Request, ShowStaff

UNKNOWN_RATING = -1            # the device has some rating open, we do not know which
DELIVERED_MEMORY = 64          # event keys remembered per device (the device FIFO holds 32)


class KeypadState(Enum):
    UNKNOWN = "unknown"        # not heard from yet
    SYNCING = "syncing"        # answering; identity, mode or rating still to (re)apply
    READY = "ready"            # answering and in the wanted state
    OFFLINE = "offline"        # stopped answering; re-probed every reprobe_s

    @property
    def online(self) -> bool:
        return self in (KeypadState.SYNCING, KeypadState.READY)


@dataclass(frozen=True)
class WantedRating:
    handle: int
    timeout_s: int
    voice: bool


@dataclass(frozen=True)
class KeypadInfo:
    """A snapshot of one device as the session sees it (for health screens and logs)."""

    addr: int
    state: KeypadState
    boot_id: int | None
    keys: int | None
    firmware: str | None
    wanted_rating: int | None
    events_pending: bool


@dataclass
class CycleStats:
    exchanges: int = 0         # requests that got a reply or ran out of tries
    served: int = 0            # devices served this cycle
    delivered: int = 0         # events handed to on_event that returned True
    duration_s: float = 0.0


@dataclass(frozen=True)
class Step:
    """One command of a convergence plan and what to record once the device acknowledges it."""

    request: Request
    on_ack: Callable[[], None]


class Tracked:
    """Everything the session tracks for one address."""

    def __init__(self, addr: int, slot: int) -> None:
        self.addr = addr
        self.slot = slot                                  # idle polling phase
        self.state = KeypadState.UNKNOWN
        # Wanted state: written by gateway threads under the session lock.
        self.want_staff: ShowStaff | None = None
        self.staff_version = 0
        self.want_mode: Mode | None = None
        self.mode_version = 0
        self.want_rating: WantedRating | None = None
        # What we know the device has (session thread only).
        self.staff_applied = -1                           # staff_version acknowledged
        self.mode_applied = -1
        self.open_rating: int | None = None               # handle, _UNKNOWN_RATING or None
        self.rating_deadline: tuple[int, float] | None = None   # (handle, when it times out)
        self.last_started: int | None = None              # handle of the last START sent
        self.hold_start = False       # re-open last_started only once older events have been seen
        self.buffer_full = False      # START refused with 0x04; drain events first
        self.start_retry_s = 0.0
        self.boot_id: int | None = None
        self.keys: int | None = None
        self.firmware: str | None = None
        self.next_probe_s = 0.0
        self.probe_backoff_s = 0.0     # the wait before the next re-probe; doubles while it fails
        self.next_status_s = 0.0
        self.status_due = False
        self.stray_check = False      # a rating closed: check no unwanted one is open
        self.events_pending = False
        self.candidate: Event | None = None               # read once, waiting for a second read
        self.event_retry_s = 0.0                          # when to offer a refused event again
        self.delivered: OrderedDict[tuple[int, ...], None] = OrderedDict()

    def remember(self, key: tuple[int, ...]) -> None:
        self.delivered[key] = None
        while len(self.delivered) > DELIVERED_MEMORY:
            self.delivered.popitem(last=False)

    def forget_device_state(self) -> None:
        """After a reboot or an outage: nothing we sent may still be in effect."""
        self.staff_applied = -1
        self.mode_applied = -1
        self.buffer_full = False


def event_key(event: Event) -> tuple[int, ...]:
    """Identity of an event for de-duplication. The FIFO survives reboots and event_no restarts
    at random, so the number alone is not enough; a handle is closed by at most one event."""
    return (event.event_no, event.kind, event.handle, event.level, event.elapsed_ds)
