"""The host side of one EKP-2 bus: keeps every keypad in the state the gateway wants.

The gateway says what it wants per device (`show_staff`, `set_mode`, `start_rating`,
`cancel_rating`; any thread, never blocking). The session thread polls the bus and converges
each device to that wanted state, restoring it after a reboot or an outage. Events go up through
`on_event(addr, event) -> bool`; only when it returns True (stored upstream) does the session
send CONFIRM_EVENT, so nothing is lost if the gateway or the hall server is down.

Per device, one `KeypadState` changed in one place (`_set_state`):

    UNKNOWN --probe ok--> SYNCING <--> READY        (SYNCING: wanted state not yet applied)
       |                     |           |
       +--probe fails--> OFFLINE <--no reply after 3 tries
                             |
                             +--re-probe ok--> SYNCING

Polling is smart: a device with a rating open, events pending or commands to apply is served
every cycle, the ones with a rating open first and again after every other device that used the
bus (so a press waits for one poll of each open keypad plus one other exchange, at most); an idle
one every `idle_every`-th cycle; an offline one is re-probed with a single
try after `first_reprobe_s`, the wait doubling up to `reprobe_s`. Every event is read twice (two
POLLs agreeing) before it goes up: the additive checksum lets some two-byte corruptions through, and a rating level is final.

Converging a device to the wanted state (the commands to send, and sending them) is in
`devices.keypad.converge`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable

from devices.keypad.codec import (
    FIFO_SIZE,
    MAX_ADDRESS,
    Ack,
    ConfirmEvent,
    ErrorCode,
    ErrorReply,
    Event,
    EventKind,
    Mode,
    Poll,
    PollReply,
    QueryStatus,
    SetMode,
    ShowStaff,
    StartRating,
    Status,
)
from devices.keypad.converge import Converger
from devices.keypad.link import (
    DATASHEET_QUIET_S,
    DATASHEET_REPLY_TIMEOUT_S,
    DATASHEET_TRIES,
    KeypadLink,
    NoReply,
)
from devices.keypad.tracking import (
    UNKNOWN_RATING,
    CycleStats,
    KeypadInfo,
    KeypadState,
    Tracked,
    WantedRating,
    event_key,
)

log = logging.getLogger("devices.keypad.session")

OnEvent = Callable[[int, Event], bool]
OnOnline = Callable[[int, bool], None]

_MAX_POLLS_PER_SERVICE = 3


class NoSuchKeypad(KeyError):
    """The session has no keypad with this address."""


class KeypadSession(Converger):
    def __init__(
        self,
        transport: Any,
        addresses: Iterable[int],
        *,
        on_event: OnEvent,
        on_online: OnOnline | None = None,
        reply_timeout_s: float = DATASHEET_REPLY_TIMEOUT_S,
        tries: int = DATASHEET_TRIES,
        quiet_s: float = DATASHEET_QUIET_S,
        idle_every: int = 8,
        reprobe_s: float = 5.0,
        first_reprobe_s: float = 0.25,
        status_every_s: float = 30.0,
        event_retry_s: float = 1.0,
        idle_sleep_s: float = 0.01,
        open_first: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        addrs = sorted(set(addresses))
        if not addrs or not all(1 <= a <= MAX_ADDRESS for a in addrs):
            raise ValueError(f"keypad addresses must be 1–{MAX_ADDRESS}, got {addrs}")
        if idle_every < 1:
            raise ValueError("idle_every must be at least 1")
        self.link = KeypadLink(transport, reply_timeout_s=reply_timeout_s, tries=tries,
                               quiet_s=quiet_s, clock=clock, sleep=sleep)
        self._on_event = on_event
        self._on_online = on_online
        self.idle_every = idle_every
        self.reprobe_s = reprobe_s
        self.first_reprobe_s = min(first_reprobe_s, reprobe_s)
        self.status_every_s = status_every_s
        self.event_retry_s = event_retry_s
        self.idle_sleep_s = idle_sleep_s
        self.open_first = open_first      # False: plain address order, no re-polls (a baseline)
        self._clock = clock
        self._keypads = {a: Tracked(a, i) for i, a in enumerate(addrs)}
        self._lock = threading.Lock()
        self._kick = threading.Event()
        self._cycle = 0
        self._routine_status_left = 1

    # ================================================================= gateway API

    def show_staff(self, addr: int, staff_no: str, stars: int, name: str, dept: str) -> None:
        """亮身份. Raises BadField/FrameTooLong at once if it cannot be sent."""
        staff = ShowStaff(staff_no, stars, name, dept)
        staff.data()                                       # validate now, in the caller's thread
        k = self._keypad(addr)
        with self._lock:
            k.want_staff = staff
            k.staff_version += 1
        self._kick.set()

    def set_mode(self, addr: int, mode: int) -> None:
        """Mode.SERVING (welcome), PAUSED (暂停服务) or CLOSED (下班)."""
        SetMode(mode).data()
        k = self._keypad(addr)
        with self._lock:
            k.want_mode = Mode(mode)
            k.mode_version += 1
        self._kick.set()

    def start_rating(self, addr: int, handle: int, timeout_s: int, voice: bool = True) -> None:
        """Open a rating. Its outcome arrives as an event (PRESS or TIMEOUT) with this handle."""
        StartRating(handle, timeout_s, voice).data()
        k = self._keypad(addr)
        with self._lock:
            k.want_rating = WantedRating(handle, timeout_s, bool(voice))
        self._kick.set()

    def cancel_rating(self, addr: int) -> None:
        k = self._keypad(addr)
        with self._lock:
            k.want_rating = None
        self._kick.set()

    def state(self, addr: int) -> KeypadState:
        return self._keypad(addr).state

    def info(self) -> list[KeypadInfo]:
        with self._lock:
            return [
                KeypadInfo(k.addr, k.state, k.boot_id, k.keys, k.firmware,
                           None if k.want_rating is None else k.want_rating.handle, k.events_pending)
                for k in self._keypads.values()
            ]

    # ================================================================= run loop

    def run_once(self) -> CycleStats:
        """One poll cycle over the bus."""
        started_s = self._clock()
        stats = CycleStats()
        self._cycle += 1
        self._routine_status_left = 1
        requests_before = self.link.stats.requests
        # Keypads with a rating open first, then the others; after each other keypad that used the
        # bus, the open ones again: a press waits at most for one poll of every open keypad plus one
        # other exchange, however much else the bus has to do.
        keypads = list(self._keypads.values())
        if self.open_first:
            keypads.sort(key=lambda k: not (k.state.online and k.open_rating is not None))
        for k in keypads:
            now_s = self._clock()
            before = self.link.stats.requests
            opened = k.state.online and k.open_rating is not None
            if k.state.online:
                if self._due(k, now_s):
                    stats.served += 1
                    stats.delivered += self._serve(k)
            elif now_s >= k.next_probe_s:
                stats.served += 1
                stats.delivered += self._probe(k)
            if self.open_first and not opened and self.link.stats.requests != before:
                stats.delivered += self._repoll_open()
        stats.exchanges = self.link.stats.requests - requests_before
        stats.duration_s = self._clock() - started_s
        return stats

    def _repoll_open(self) -> int:
        """Serve every online keypad with a rating open once more (between other keypads' turns)."""
        delivered = 0
        for k in self._keypads.values():
            if k.state.online and k.open_rating is not None:
                delivered += self._serve(k)
        return delivered

    def run_forever(self, stop: threading.Event) -> None:
        """Poll until `stop` is set. Meant for a thread of its own."""
        while not stop.is_set():
            try:
                stats = self.run_once()
            except Exception:                              # keep the bus alive whatever happens
                log.exception("keypad session: poll cycle failed")
                stop.wait(1.0)
                continue
            if stats.exchanges == 0:
                self._kick.wait(self.idle_sleep_s)
                self._kick.clear()

    # ================================================================= per device

    def _due(self, k: Tracked, now_s: float) -> bool:
        if self._status_needed(k) or self._plan(k):
            return True
        if k.events_pending:
            return now_s >= k.event_retry_s
        if k.open_rating is not None:
            return True
        return (self._cycle + k.slot) % self.idle_every == 0

    def _probe(self, k: Tracked) -> int:
        # First contact: the datasheet's 3 tries. Re-probing an offline device: one try, so a bus
        # with dead devices still serves the live ones.
        tries = None if k.state is KeypadState.UNKNOWN else 1
        try:
            status = self.link.request(k.addr, QueryStatus(), tries=tries)
        except NoReply:
            self._probe_later(k)
            self._set_state(k, KeypadState.OFFLINE)
            return 0
        k.probe_backoff_s = 0.0
        if isinstance(status, Status):
            k.forget_device_state()                        # commands may have been lost meanwhile
            self._on_status(k, status)
        else:
            k.status_due = True
        self._set_state(k, KeypadState.SYNCING)
        return self._serve(k)

    def _probe_later(self, k: Tracked) -> None:
        """Re-probe soon after a device stops answering (on a noisy bus it usually answers again at
        once), then less and less often, up to `reprobe_s`, so dead devices cost little bus time."""
        k.probe_backoff_s = (self.first_reprobe_s if k.probe_backoff_s == 0.0
                             else min(self.reprobe_s, k.probe_backoff_s * 2))
        k.next_probe_s = self._clock() + k.probe_backoff_s

    def _serve(self, k: Tracked) -> int:
        """Status if due, apply wanted state, poll. Returns events delivered."""
        delivered = 0
        try:
            if self._status_needed(k):
                self._routine_status_left -= 1
                status = self.link.request(k.addr, QueryStatus())
                if isinstance(status, Status):
                    self._on_status(k, status)
            self._converge(k)
            delivered = self._poll(k)
        except NoReply as exc:
            log.warning("%s", exc)
            k.probe_backoff_s = 0.0
            self._probe_later(k)
            k.candidate = None
            self._set_state(k, KeypadState.OFFLINE)
            return delivered
        self._set_state(k, KeypadState.READY if self._converged(k) else KeypadState.SYNCING)
        return delivered

    def _status_needed(self, k: Tracked) -> bool:
        if k.status_due:
            return True
        # After a rating closed, make sure no rating nobody wants was left open (a START resent
        # after a lost reply can re-open one). A wanted rating's START replaces it anyway.
        if k.stray_check and self._wanted(k)[4] is None:
            return True
        # Routine checks (a reboot whose power-up event did not fit in a full buffer): at most
        # one per cycle, so devices first contacted together do not all fall due together.
        return self._routine_status_left > 0 and self._clock() >= k.next_status_s

    def _on_status(self, k: Tracked, status: Status) -> None:
        k.status_due = False
        k.stray_check = False
        k.next_status_s = self._clock() + self.status_every_s
        k.keys = status.keys
        k.firmware = f"{status.fw_major}.{status.fw_minor}"
        if k.boot_id is not None and status.boot_id != k.boot_id:
            log.info("keypad %d: new boot_id %04X (was %04X): rebooted", k.addr, status.boot_id, k.boot_id)
            self._rebooted(k)
        k.boot_id = status.boot_id
        k.events_pending = k.events_pending or status.pending > 0
        if status.mode == Mode.RATING:
            if k.open_rating is None:
                k.open_rating = UNKNOWN_RATING            # cancel or replace it
        else:
            k.open_rating = None
            if status.pending:
                k.hold_start = True    # a closing event for the wanted rating may be among them
        if status.pending < FIFO_SIZE:
            k.buffer_full = False

    def _rebooted(self, k: Tracked) -> None:
        k.forget_device_state()
        k.open_rating = None
        k.candidate = None

    # ----------------------------------------------------------------- events

    def _poll(self, k: Tracked) -> int:
        for _ in range(_MAX_POLLS_PER_SERVICE):
            reply = self.link.request(k.addr, Poll())
            if not isinstance(reply, PollReply):
                log.warning("keypad %d: POLL refused: %s", k.addr, reply)
                return 0
            event = reply.event
            if event is None:
                k.events_pending = False
                k.candidate = None
                k.hold_start = False                      # every older event has been seen
                k.buffer_full = False
                return 0
            k.events_pending = True
            if event != k.candidate:
                k.candidate = event                       # read it again before trusting it
                continue
            return self._handle_event(k, event)
        return 0

    def _handle_event(self, k: Tracked, event: Event) -> int:
        key = event_key(event)
        delivered = 0
        if key not in k.delivered:
            if event.kind == EventKind.POWER_UP:
                log.info("keypad %d: power-up event %d", k.addr, event.event_no)
                self._rebooted(k)
                k.hold_start = False                      # the older events came before it
                k.status_due = True                       # learn the new boot_id
                k.remember(key)
            else:
                self._rating_closed(k, event)
                if self._clock() < k.event_retry_s or not self._deliver(k, event):
                    return 0
                k.remember(key)
                delivered = 1
        reply = self.link.request(k.addr, ConfirmEvent(event.event_no))
        # NOT_OLDEST means an earlier CONFIRM got through and only its reply was lost.
        if isinstance(reply, Ack) or (isinstance(reply, ErrorReply) and reply.code == ErrorCode.NOT_OLDEST):
            k.candidate = None
            k.buffer_full = False
        return delivered

    def _rating_closed(self, k: Tracked, event: Event) -> None:
        if event.kind not in (EventKind.PRESS, EventKind.TIMEOUT):
            return
        with self._lock:
            if k.want_rating is not None and k.want_rating.handle == event.handle:
                k.want_rating = None
        if k.open_rating == event.handle:
            k.open_rating = None
        if k.rating_deadline is not None and k.rating_deadline[0] == event.handle:
            k.rating_deadline = None
        k.stray_check = True

    def _deliver(self, k: Tracked, event: Event) -> bool:
        try:
            stored = bool(self._on_event(k.addr, event))
        except Exception:
            log.exception("keypad %d: on_event failed", k.addr)
            stored = False
        if not stored:
            k.event_retry_s = self._clock() + self.event_retry_s
        return stored

    # ----------------------------------------------------------------- state

    def _set_state(self, k: Tracked, state: KeypadState) -> None:
        old = k.state
        if state is old:
            return
        k.state = state
        log.info("keypad %d: %s -> %s", k.addr, old.value, state.value)
        if old.online != state.online or old is KeypadState.UNKNOWN:
            if self._on_online is not None:
                try:
                    self._on_online(k.addr, state.online)
                except Exception:
                    log.exception("keypad %d: on_online failed", k.addr)

    def _keypad(self, addr: int) -> Tracked:
        try:
            return self._keypads[addr]
        except KeyError:
            raise NoSuchKeypad(f"no keypad with address {addr} on this bus") from None
