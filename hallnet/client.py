"""A node's connection to the hall server.

- Commands: `send` stores the message in the durable outbox and returns; an I/O thread sends
  what is pending over a DEALER socket and deletes a message only when the server acknowledges
  it (after its commit). Unacknowledged messages are resent while the server is reachable, and
  all of them again when it comes back.
- State: a SUB socket receives numbered deltas; the client asks for a snapshot at start, on a
  gap and after silence, and keeps a mirror of the hall state (the ZeroMQ guide's Clone pattern).
- Heartbeats: the node sends one every `heartbeat_s`; the server answers. `connected` is whether
  the server answered within `silence_s`.
- Backpressure: a message over the node's quota comes back `busy` with `retry_after_ms`: the
  client sends nothing for that long, then resends everything unacknowledged from the oldest, in
  order (the server refuses any later message until the refused one is back). Nothing is lost.
- Limits: finite high-water marks and the wire's frame limit on every socket.
Callbacks (`on_change(key, value)`, `on_connection(bool)`, `on_reply(msg_id, reply body)`) run on the I/O thread: GUI code must
hand them over to its own thread (Kivy: `Clock.schedule_once`).

The I/O thread's jobs are in their own modules: `hallnet.command_window` (in flight, resends,
busy, deletes) and `hallnet.state_path` (snapshot and deltas); this module owns the sockets, the
turn that wakes on any of them, the heartbeat and the caller's side.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

import zmq

from hallnet import messages as m
from hallnet import trace
from hallnet.address import BusAddress
from hallnet.command_window import CommandWindow
from hallnet.keys import NodeKeys, apply_client_keys
from hallnet.mirror import StateMirror
from hallnet.outbox import Outbox
from hallnet.state_path import StatePath

log = logging.getLogger(__name__)

DEALER_SNDHWM = 2000        # ≥ max_inflight: a full window never blocks (send is non-blocking anyway)
DEALER_RCVHWM = 5000        # replies are small
SUB_RCVHWM = 500            # delta frames (≤128 KiB each); beyond, zmq drops and we see a gap
HEARTBEAT_RETRY_S = 0.1     # a heartbeat that found no connection is tried again after this
_EVENTS, _POLLIN, _NOBLOCK = int(zmq.EVENTS), int(zmq.POLLIN), int(zmq.NOBLOCK)   # (plain ints: no enum per call)
POLL_MAX_S = 1.0            # the longest the I/O thread sleeps (it wakes sooner for whatever is due)

OnChange = Callable[[str, Any], None]
OnConnection = Callable[[bool], None]
OnReply = Callable[[str, dict[str, Any]], None]


def _ready(sock: zmq.Socket) -> list[bytes]:
    """Every frame waiting on `sock`, read without blocking and without an exception per turn
    (zmq.Again costs more than the read): the socket's EVENTS says whether one is there."""
    frames: list[bytes] = []
    while sock.get(_EVENTS) & _POLLIN:
        try:
            frames.append(sock.recv(_NOBLOCK))
        except zmq.Again:
            break
    return frames


class NotDelivered(TimeoutError):
    """No answer in time. The message is still in the outbox and will be delivered later."""


class HallClient:
    def __init__(
        self,
        node: str,
        address: BusAddress | str,
        keys: NodeKeys,
        outbox_path: Path | str,
        *,
        heartbeat_s: float = 1.0,
        silence_s: float = 3.0,
        resend_s: float = 2.0,
        max_inflight: int = 1000,
        subscribe: bool = True,
        on_change: OnChange | None = None,
        on_connection: OnConnection | None = None,
        on_reply: OnReply | None = None,
        outbox_sync: str = "FULL",
        context: zmq.Context | None = None,
    ) -> None:
        self.node = node
        self.address = BusAddress.parse(address) if isinstance(address, str) else address
        self.keys = keys
        self.outbox = Outbox(outbox_path, node, synchronous=outbox_sync)
        self.heartbeat_s = heartbeat_s
        self.silence_s = silence_s
        self.resend_s = resend_s
        self.max_inflight = max_inflight
        self.subscribe = subscribe
        self.on_change = on_change
        self.on_connection = on_connection
        self.on_reply = on_reply
        self._ctx = context or zmq.Context.instance()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiters: dict[str, Future] = {}
        self._waiters_lock = threading.Lock()
        self._mirror = StateMirror()
        self._window = CommandWindow(self.outbox, resend_s=resend_s, max_inflight=max_inflight)
        self._turn_ns = 0                   # when the I/O thread's turn began (HALLNET_TRACE only)
        self.connected = False
        self.refusals: list[dict[str, Any]] = []    # the last `error` envelopes from the server

    # --- the caller's side ---------------------------------------------------------------

    def start(self) -> "HallClient":
        self._thread = threading.Thread(target=self._run, name=f"hallnet-{self.node}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.outbox.close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "HallClient":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def send(self, type_: str, body: dict[str, Any]) -> m.Envelope:
        """Store durably, then hand to the I/O thread. Returns once the message is on disk."""
        t0_ns = time.monotonic_ns() if trace.ON else 0
        env = self.outbox.put(type_, body)
        if trace.ON:
            trace.mark("put", env.id, t0_ns)
            trace.mark("stored", env.id)
        self._wake()
        return env

    def send_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[m.Envelope]:
        envs = self.outbox.put_many(items)
        self._wake()
        return envs

    def call(self, type_: str, body: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any]:
        """`send` and wait for the server's reply body ({"ok", "result" | "error", "message"}).

        Raises NotDelivered on timeout; the message stays queued and is still delivered later.
        """
        fut: Future = Future()
        env = self.outbox.put(type_, body)
        with self._waiters_lock:
            self._waiters[env.id] = fut
        self._wake()
        try:
            return fut.result(timeout_s)
        except TimeoutError:
            raise NotDelivered(f"{type_} {env.id}: no answer within {timeout_s} s; it stays queued") from None
        finally:
            with self._waiters_lock:
                self._waiters.pop(env.id, None)

    @property
    def acked(self) -> int:
        """Messages acknowledged and deleted from the outbox (for monitoring and benches)."""
        return self._window.acked

    @property
    def busy(self) -> int:
        """`busy` answers received (over quota; resent later)."""
        return self._window.busy

    @property
    def seq(self) -> int:
        return self._mirror.seq

    def state(self, prefix: str = "") -> dict[str, Any]:
        return self._mirror.state(prefix)

    def get(self, key: str, default: Any = None) -> Any:
        return self._mirror.get(key, default)

    def pending_count(self) -> int:
        return self.outbox.count()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass  # already awake, or stopping

    # --- the I/O thread --------------------------------------------------------------------

    def _run(self) -> None:
        dealer = self._ctx.socket(zmq.DEALER)
        sub = self._ctx.socket(zmq.SUB) if self.subscribe else None
        try:
            self._loop(dealer, sub)
        except Exception:
            log.exception("hallnet client %s stopped by an error", self.node)
        finally:
            dealer.close(linger=0)
            if sub is not None:
                sub.close(linger=0)

    def _open(self, dealer: zmq.Socket, sub: zmq.Socket | None) -> zmq.Poller:
        apply_client_keys(dealer, self.keys)
        dealer.immediate = True           # queue only to a live connection; we resend ourselves
        dealer.sndhwm = max(DEALER_SNDHWM, self.max_inflight + 10)
        dealer.rcvhwm = DEALER_RCVHWM
        dealer.maxmsgsize = m.MAX_FRAME_BYTES
        dealer.reconnect_ivl = 100
        dealer.reconnect_ivl_max = 1000
        dealer.connect(self.address.commands)
        poller = zmq.Poller()
        poller.register(dealer, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        if sub is not None:
            apply_client_keys(sub, self.keys)
            sub.rcvhwm = SUB_RCVHWM
            sub.maxmsgsize = m.MAX_FRAME_BYTES
            sub.reconnect_ivl = 100
            sub.reconnect_ivl_max = 1000
            sub.subscribe(b"")
            sub.connect(self.address.states)
            poller.register(sub, zmq.POLLIN)
        return poller

    def _loop(self, dealer: zmq.Socket, sub: zmq.Socket | None) -> None:
        """One turn per wake-up: a reply or state frame, a new put (the wake pipe), or the next timer
        (heartbeat, resend scan, outbox delete, silence); it never waits on a fixed tick."""
        poller = self._open(dealer, sub)
        states = StatePath(self.node, self._mirror, self.silence_s, self._notify, time.monotonic()) \
            if sub is not None else None
        window = self._window
        last_server_s = 0.0                # last time the server answered on the command path
        next_hb_s = 0.0
        hb_seq = 0

        def send_frame(frame: bytes) -> bool:
            try:
                dealer.send(frame, _NOBLOCK)
                return True
            except zmq.Again:
                return False

        timeout_ms = 0
        while not self._stop.is_set():
            events = dict(poller.poll(timeout=timeout_ms))
            now = time.monotonic()
            if trace.ON:
                self._turn_ns = time.monotonic_ns()
            if self._wake_r in events:
                try:
                    os.read(self._wake_r, 4096)
                except BlockingIOError:
                    pass

            if dealer in events:            # replies on the command path
                for frame in _ready(dealer):
                    if self._take_reply(frame, window, states, now):
                        last_server_s = now
            if states is not None and sub in events:     # the state path
                for frame in _ready(sub):
                    states.on_state_frame(frame, now)

            was = self.connected
            self.connected = (now - last_server_s) < self.silence_s
            if self.connected != was:
                if self.connected:
                    window.resend_all()             # the server is back: resend everything now
                    if states is not None:
                        states.need_snapshot()
                self._notify_connection(self.connected)

            window.load()
            if trace.ON and len(window):
                window.turn_ns = self._turn_ns
            window.send_due(now, self.connected, self.connected or last_server_s == 0.0, send_frame)
            if now >= next_hb_s:
                hb_seq += 1
                sent = send_frame(m.encode(m.Envelope(type=m.HEARTBEAT, node=self.node, seq=hb_seq,
                                                      body={"state_seq": self._mirror.seq})))
                # not connected yet (the DEALER queues only to a live connection): try again soon, so
                # the server is heard as soon as the connection is up, not a heartbeat later
                next_hb_s = now + (self.heartbeat_s if sent else min(self.heartbeat_s, HEARTBEAT_RETRY_S))
            if states is not None:
                states.ask_if_due(now, send_frame)
            window.delete_acked(now)

            # sleep until the next thing due; a put, a reply or a state frame wakes the poll sooner
            due_s = min(next_hb_s, now + POLL_MAX_S, window.next_due_s(),
                        last_server_s + self.silence_s if self.connected else now + POLL_MAX_S,
                        states.next_due_s() if states is not None else now + POLL_MAX_S)
            timeout_ms = max(1, math.ceil((due_s - time.monotonic()) * 1000))
        window.delete_acked(time.monotonic(), final=True)

    def _take_reply(self, frame: bytes, window: CommandWindow, states: StatePath | None, now: float) -> bool:
        """One frame from the DEALER; True if it shows the server is there for this node."""
        try:
            env = m.decode(frame)
        except m.MalformedMessage as exc:
            log.warning("%s: unreadable frame from server: %s", self.node, exc)
            return False
        if env.type == m.REPLY:
            ref = env.body.get("ref")
            if window.answered(ref, env.body, now):
                if trace.ON:
                    trace.mark("answered", ref)
                if self.on_reply is not None:
                    self.on_reply(ref, env.body)
            if not env.body.get("retry"):
                with self._waiters_lock:
                    fut = self._waiters.get(ref) if isinstance(ref, str) else None
                if fut is not None and not fut.done():
                    fut.set_result(env.body)
        elif env.type == m.SNAPSHOT and states is not None:
            states.on_snapshot_part(env.body)
        elif env.type == m.ERROR:
            self.refusals = [*self.refusals[-9:], env.body]
            log.warning("%s: server refused a frame (%s): %s", self.node, env.body.get("code"), env.body.get("reason"))
            return env.body.get("code") != m.E_REVOKED        # (a revoked node is not connected)
        return True

    def _notify(self, changed: list[tuple[str, Any]]) -> None:
        if self.on_change is None:
            return
        for key, value in changed:
            try:
                self.on_change(key, value)
            except Exception:
                log.exception("%s: on_change(%s) failed", self.node, key)

    def _notify_connection(self, connected: bool) -> None:
        if self.on_connection is not None:
            try:
                self.on_connection(connected)
            except Exception:
                log.exception("%s: on_connection failed", self.node)
