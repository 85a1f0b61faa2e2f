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
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

import zmq

from hallnet import messages as m
from hallnet.address import BusAddress
from hallnet.keys import NodeKeys, apply_client_keys
from hallnet.mirror import StateMirror
from hallnet.outbox import Outbox

log = logging.getLogger(__name__)

DEALER_SNDHWM = 2000        # ≥ max_inflight: a full window never blocks (send is non-blocking anyway)
DEALER_RCVHWM = 5000        # replies are small
SUB_RCVHWM = 500            # delta frames (≤128 KiB each); beyond, zmq drops and we see a gap

OnChange = Callable[[str, Any], None]
OnConnection = Callable[[bool], None]
OnReply = Callable[[str, dict[str, Any]], None]


class NotDelivered(TimeoutError):
    """No answer in time. The message is still in the outbox and will be delivered later."""


class _Inflight:
    __slots__ = ("n", "frame", "sent_s")

    def __init__(self, n: int, frame: bytes) -> None:
        self.n = n
        self.frame = frame
        self.sent_s = 0.0  # 0 = not (successfully) sent yet


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
        self.connected = False
        self.acked = 0                      # messages acknowledged (for monitoring and benches)
        self.busy = 0                       # `busy` answers received (over quota; resent later)
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
        env = self.outbox.put(type_, body)
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

    def _loop(self, dealer: zmq.Socket, sub: zmq.Socket | None) -> None:
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

        inflight: OrderedDict[str, _Inflight] = OrderedDict()
        loaded_n = 0                       # outbox rows up to here are in `inflight` or acked
        more_rows = True                   # there may be stored rows not yet loaded
        puts_seen = self.outbox.puts
        acked: list[str] = []
        last_server_s = 0.0                # last time the server answered on the command path
        last_state_s = time.monotonic()    # last time anything came on the state path
        next_hb_s = 0.0
        snapshot_asked_s = 0.0
        want_snapshot = sub is not None
        snapshot_parts: dict[int, dict[str, Any]] = {}
        snapshot_seq = -1
        buffered: list[list[Any]] = []     # deltas seen while a snapshot is on its way
        hb_seq = 0
        paused_until_s = 0.0               # the server said busy: send no message before this
        window = self.max_inflight         # unanswered messages allowed at once (halved on busy)

        def send_frame(frame: bytes) -> bool:
            try:
                dealer.send(frame, zmq.NOBLOCK)
                return True
            except zmq.Again:
                return False

        while not self._stop.is_set():
            now = time.monotonic()
            events = dict(poller.poll(timeout=max(1, int(min(self.heartbeat_s, 0.25) * 1000))))
            if self._wake_r in events:
                try:
                    os.read(self._wake_r, 4096)
                except BlockingIOError:
                    pass

            # replies on the command path
            if dealer in events:
                while True:
                    try:
                        frame = dealer.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    try:
                        env = m.decode(frame)
                    except m.MalformedMessage as exc:
                        log.warning("%s: unreadable frame from server: %s", self.node, exc)
                        continue
                    if not (env.type == m.ERROR and env.body.get("code") == m.E_REVOKED):
                        last_server_s = time.monotonic()    # (a revoked node is not connected)
                    if env.type == m.REPLY:
                        ref = env.body.get("ref")
                        item = inflight.get(ref) if isinstance(ref, str) else None
                        if env.body.get("retry"):
                            if env.body.get("error") == m.E_BUSY:
                                # over quota: pause, then resend every unacknowledged message in order
                                self.busy += 1
                                wait_ms = env.body.get("retry_after_ms")
                                wait_s = min(60.0, max(0.05, wait_ms / 1000 if isinstance(wait_ms, int) else 1.0))
                                if time.monotonic() >= paused_until_s:
                                    window = max(8, window // 2)     # once per pause, not per refused message
                                paused_until_s = max(paused_until_s, time.monotonic() + wait_s)
                                for pending in inflight.values():
                                    pending.sent_s = 0.0
                            elif item is not None:
                                item.sent_s = time.monotonic() + self.resend_s * 4  # back off
                            continue
                        if item is not None:
                            del inflight[ref]
                            acked.append(ref)
                            window = min(self.max_inflight, window + 1)
                            if self.on_reply is not None:
                                self.on_reply(ref, env.body)
                        with self._waiters_lock:
                            fut = self._waiters.get(ref)
                        if fut is not None and not fut.done():
                            fut.set_result(env.body)
                    elif env.type == m.SNAPSHOT and sub is not None:
                        body = env.body
                        try:
                            part, parts, seq = int(body["part"]), int(body["parts"]), int(body["seq"])
                            values = body["state"]
                        except (KeyError, TypeError, ValueError):
                            continue
                        if snapshot_seq != seq:
                            snapshot_parts, snapshot_seq = {}, seq
                        snapshot_parts[part] = values
                        if len(snapshot_parts) == parts:
                            full: dict[str, Any] = {}
                            for i in range(parts):
                                full.update(snapshot_parts.get(i, {}))
                            complete = self._install_snapshot(seq, full, buffered)
                            buffered, snapshot_parts, snapshot_seq = [], {}, -1
                            want_snapshot = not complete
                            snapshot_asked_s = 0.0
                    elif env.type == m.ERROR:
                        self.refusals = [*self.refusals[-9:], env.body]
                        log.warning("%s: server refused a frame (%s): %s", self.node, env.body.get("code"),
                                    env.body.get("reason"))

            # the state path
            if sub is not None and sub in events:
                while True:
                    try:
                        frame = sub.recv(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    last_state_s = time.monotonic()
                    try:
                        env = m.decode(frame)
                    except m.MalformedMessage:
                        continue
                    if env.type == m.DELTA:
                        deltas = env.body.get("d")
                        if not isinstance(deltas, list):
                            continue
                        if want_snapshot:
                            buffered.extend(deltas)
                        elif not self._apply_deltas(deltas):
                            want_snapshot, snapshot_asked_s = True, 0.0
                    elif env.type == m.HEARTBEAT:
                        seq = env.body.get("seq")
                        if not want_snapshot and isinstance(seq, int) and seq > self._mirror.seq:
                            want_snapshot, snapshot_asked_s = True, 0.0   # we missed deltas

            now = time.monotonic()
            was = self.connected
            self.connected = (now - last_server_s) < self.silence_s
            if self.connected != was:
                if self.connected:
                    for item in inflight.values():
                        item.sent_s = 0.0           # the server is back: resend everything now
                    want_snapshot = sub is not None
                    snapshot_asked_s = 0.0
                self._notify_connection(self.connected)
            if sub is not None and now - last_state_s > self.silence_s and not want_snapshot:
                want_snapshot, snapshot_asked_s = True, 0.0

            # load outbox rows not yet in flight: at start, after new puts, or when the window had been full
            if len(inflight) < self.max_inflight and (more_rows or self.outbox.puts != puts_seen):
                puts_seen = self.outbox.puts
                room = self.max_inflight - len(inflight)
                rows = self.outbox.pending(loaded_n, room)
                more_rows = len(rows) == room
                for n, msg_id, frame in rows:
                    loaded_n = n
                    if msg_id not in inflight:
                        inflight[msg_id] = _Inflight(n, frame)

            # send what is due: unsent, or unanswered for resend_s while the server is there
            # (after a `busy`, at most `window` unanswered at once, growing with each acknowledgement)
            if (self.connected or last_server_s == 0.0) and now >= paused_until_s:
                outstanding = 0
                for item in inflight.values():
                    if item.sent_s == 0.0 or (self.connected and now - item.sent_s > self.resend_s):
                        if outstanding >= window or not send_frame(item.frame):
                            break
                        item.sent_s = now
                    outstanding += 1

            if now >= next_hb_s:
                hb_seq += 1
                send_frame(m.encode(m.Envelope(type=m.HEARTBEAT, node=self.node, seq=hb_seq,
                                               body={"state_seq": self._mirror.seq})))
                next_hb_s = now + self.heartbeat_s

            if want_snapshot and now - snapshot_asked_s > self.silence_s:
                snapshot_asked_s = now
                buffered = []
                send_frame(m.encode(m.Envelope(type=m.SNAPSHOT, node=self.node, seq=0, body={})))

            if acked and self.outbox.delete(acked, wait=len(acked) > self.max_inflight):
                self.acked += len(acked)
                acked = []
        if acked:
            self.outbox.delete(acked)
            self.acked += len(acked)

    def _apply_deltas(self, deltas: list[Any]) -> bool:
        """Apply numbered deltas; False on a gap (then a snapshot is needed)."""
        ok, changed = self._mirror.apply_deltas(deltas)
        self._notify(changed)
        return ok

    def _install_snapshot(self, seq: int, values: dict[str, Any], buffered: list[Any]) -> bool:
        """Take a full snapshot, then the deltas buffered since; False if those have a gap."""
        ok, changed = self._mirror.install(seq, values, buffered)
        self._notify(changed)
        return ok

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
