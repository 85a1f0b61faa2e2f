"""The command path of a node's client: the messages in flight between its outbox and the server.

Owned by the client's I/O thread (not thread-safe). It loads what the outbox stored, in order,
sends what is due, takes the server's answers and deletes acknowledged messages from the outbox:
  - new messages are sent at once, in order, at most `window` unanswered at a time;
  - a message unanswered for `resend_s` while the server is there is sent again (a scan every
    RESEND_SCAN_S finds them: the common turn looks only at what is new);
  - `busy` (over the node's quota): send nothing for `retry_after_ms`, halve the window, then
    resend every unacknowledged message from the oldest, in order;
  - acknowledged messages are deleted from the outbox in groups: at most DELETE_EVERY_S after the
    first waiting one, or at once when DELETE_BATCH wait (a delete lost in a crash only means a
    resend, which the server answers as a duplicate).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any, Callable

from hallnet import messages as m
from hallnet import trace
from hallnet.outbox import Outbox

RESEND_SCAN_S = 0.25        # how often the unanswered messages are checked for a resend
DELETE_EVERY_S = 0.05       # acknowledged messages wait at most this long for their delete
DELETE_BATCH = 256          # …or are deleted at once when this many wait
DELETE_RETRY_S = 0.005      # a delete that met a put storing is tried again after this

SendFrame = Callable[[bytes], bool]


class _Inflight:
    __slots__ = ("n", "frame", "sent_s", "queued")

    def __init__(self, n: int, frame: bytes) -> None:
        self.n = n
        self.frame = frame
        self.sent_s = 0.0       # 0 = not (successfully) sent yet; in the future = backing off
        self.queued = True      # in the send queue


class CommandWindow:
    def __init__(self, outbox: Outbox, *, resend_s: float, max_inflight: int) -> None:
        self.outbox = outbox
        self.resend_s = resend_s
        self.max_inflight = max_inflight
        self.window = max_inflight          # unanswered messages allowed at once (halved on busy)
        self.paused_until_s = 0.0           # the server said busy: send no message before this
        self.busy = 0                       # `busy` answers received
        self.acked = 0                      # messages acknowledged and deleted from the outbox
        self._inflight: OrderedDict[str, _Inflight] = OrderedDict()
        self._queue: deque[str] = deque()   # ids due for a (re)send, oldest first
        self._loaded_n = 0                  # outbox rows up to here are in flight or acknowledged
        self._more_rows = True              # there may be stored rows not yet loaded
        self._puts_seen = -1
        self._next_scan_s = 0.0
        self._unacked: list[str] = []       # acknowledged, not yet deleted from the outbox
        self._delete_due_s = 0.0
        self.turn_ns = 0                    # when the I/O thread's turn began (HALLNET_TRACE only)

    def __len__(self) -> int:
        return len(self._inflight)

    # --- loading and sending -------------------------------------------------------------------

    def load(self) -> None:
        """Take new outbox rows: at start, after new puts, or when the window had been full."""
        if len(self._inflight) >= self.max_inflight or not (self._more_rows or self.outbox.puts != self._puts_seen):
            return
        self._puts_seen = self.outbox.puts
        room = self.max_inflight - len(self._inflight)
        rows = self.outbox.next_rows(self._loaded_n, room)
        self._more_rows = len(rows) == room
        for n, msg_id, frame in rows:
            self._loaded_n = n
            if msg_id not in self._inflight:
                self._inflight[msg_id] = _Inflight(n, frame)
                self._queue.append(msg_id)

    def send_due(self, now: float, connected: bool, may_send: bool, send_frame: SendFrame) -> None:
        """Send what is due, in order: new messages, and (while connected) those unanswered too long."""
        if now >= self._next_scan_s:
            self._next_scan_s = now + min(RESEND_SCAN_S, self.resend_s)
            if connected:
                self._queue_stale(now)
        if now >= self.paused_until_s:
            self.paused_until_s = 0.0                        # (0: no pause, nothing to wake for)
        if not may_send or self.paused_until_s:
            return
        inflight, queue = self._inflight, self._queue
        while queue and len(inflight) - len(queue) < self.window:
            item = inflight.get(queue[0])
            if item is None:                 # answered meanwhile
                queue.popleft()
                continue
            if not send_frame(item.frame):
                return
            msg_id = queue.popleft()
            item.sent_s, item.queued = now, False
            if trace.ON:
                trace.mark("woke", msg_id, self.turn_ns)
                trace.mark("sent", msg_id)

    def _queue_stale(self, now: float) -> None:
        stale = [msg_id for msg_id, item in self._inflight.items()
                 if not item.queued and item.sent_s and now - item.sent_s > self.resend_s]
        if not stale:
            return
        for msg_id in stale:
            self._inflight[msg_id].queued = True
        ids = [i for i in self._queue if i in self._inflight] + stale
        self._queue = deque(sorted(ids, key=lambda i: self._inflight[i].n))

    def resend_all(self) -> None:
        """Send every unacknowledged message again, from the oldest (the server is back, or busy)."""
        for item in self._inflight.values():
            item.sent_s, item.queued = 0.0, True
        self._queue = deque(self._inflight)

    # --- the server's answers --------------------------------------------------------------------

    def answered(self, ref: Any, body: dict[str, Any], now: float) -> bool:
        """Take a reply's body; True if it acknowledged a message in flight (it is done)."""
        item = self._inflight.get(ref) if isinstance(ref, str) else None
        if body.get("retry"):
            if body.get("error") == m.E_BUSY:
                # over quota: pause, then resend every unacknowledged message in order
                self.busy += 1
                wait_ms = body.get("retry_after_ms")
                wait_s = min(60.0, max(0.05, wait_ms / 1000 if isinstance(wait_ms, int) else 1.0))
                if now >= self.paused_until_s:
                    self.window = max(8, self.window // 2)     # once per pause, not per refused message
                self.paused_until_s = max(self.paused_until_s, now + wait_s)
                self.resend_all()
            elif item is not None:
                item.sent_s = now + self.resend_s * 4          # back off
            return False
        if item is None:
            return False
        del self._inflight[ref]
        if not self._unacked:
            self._delete_due_s = now + DELETE_EVERY_S
        self._unacked.append(ref)
        self.window = min(self.max_inflight, self.window + 1)
        return True

    # --- deleting what was acknowledged ----------------------------------------------------------

    def next_due_s(self) -> float:
        """When this window has work next without being woken (inf: none): the end of a `busy`
        pause (sending resumes then, not at the I/O thread's next timer), a delete due, or the
        next resend scan while messages are in flight."""
        due = self._delete_due_s if self._unacked else float("inf")
        if self._queue and self.paused_until_s:
            due = min(due, self.paused_until_s)
        if self._inflight:
            due = min(due, self._next_scan_s)                  # the next look for a resend
        return due

    def delete_acked(self, now: float, *, final: bool = False) -> None:
        """Delete acknowledged messages from the outbox when due (or all of them, `final`)."""
        unacked = self._unacked
        if not unacked or not (final or len(unacked) >= DELETE_BATCH or now >= self._delete_due_s):
            return
        if not self.outbox.delete(unacked, wait=final or len(unacked) > self.max_inflight):
            self._delete_due_s = now + DELETE_RETRY_S     # a put is storing (its fsync): soon again
            return
        if trace.ON:
            for ref in unacked:
                trace.mark("deleted", ref)
        self.acked += len(unacked)
        self._unacked = []

    def pending_acks(self) -> int:
        """Acknowledged messages whose outbox delete is still to come (`acked` counts them after it)."""
        return len(self._unacked)
