"""The hall server's ZeroMQ bus: one thread that receives, applies (group commit), acknowledges, publishes.

Sockets (CURVE on both; only registered, unrevoked node keys get through the ZAP handler):
  ROUTER  commands/events from nodes → idempotent apply → reply after COMMIT; heartbeats;
          snapshot requests (answered in parts cut by bytes, at most every `snapshot_interval_ms`)
  PUB     numbered state deltas after each commit; a heartbeat with the current sequence each second
The loop drains everything waiting (up to `max_batch`) and applies it as one transaction, so
under load many events share one fsync. HTTP commands enter through `submit` (thread-safe).

No node can break it (hall_server/transport/sockets.py has the socket limits):
  - a frame that is malformed, too large (`message_too_large`), sent under another node's name or
    from a revoked key gets an `error` envelope; any exception while handling one frame or one
    step of the loop is logged (rate-limited) and the loop goes on;
  - per-node quotas (hall_server/transport/quotas.py): a message over quota is refused `busy` with
    `retry_after_ms`, not stored; the node's outbox keeps it and resends it, in order;
  - `keys revoke NODE` (or a deleted/replaced key) takes effect at once: a thread watches the key
    folders (hall_server/transport/key_watch.py) and wakes the loop, which refuses every further
    frame of that key and re-creates both sockets so every connection, the revoked node's state
    subscription included, must pass the ZAP handler again.

This module owns the sockets' lifecycle and the loop; what is done with each frame is in
hall_server/transport/intake.py, who is alive in presence.py. The loop waits on its sockets and
its wake pipe only: a frame, an HTTP command or a revoked key wakes it at once, and a batch is
everything that waited while the previous one committed (its fsync), never a fixed gathering time.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from config.schema import BusLimits
from hall_server.transport.intake import PRIVATE_PREFIX, SERVER_NODE, Batch, Intake
from hall_server.transport.key_watch import KeyWatch
from hall_server.transport.presence import Presence
from hall_server.transport.sockets import (
    ZAP_DOMAIN, NodeAuthenticator, delta_frames, limited_warning, open_sockets, reply_frame, send_to,
)
from hall_server.core.hub import Hub, Liveness
from hall_server.transport.quotas import Quotas
from hall_server.core.store import storage_fault
from hall_server.core.writer import Applied
from hallnet import messages as m
from hallnet import trace
from hallnet.address import BusAddress
from hallnet.keys import KeyPair, KeyRegistry
from hallnet.vocabulary import Key, Msg

log = logging.getLogger(__name__)

DRAIN_MAX_S = 0.01                  # one drain reads for at most this long (or max_batch frames)
REOPEN_RETRY_S = 0.2                # sockets that could not be re-created are tried again after this
_EVENTS, _POLLIN, _NOBLOCK = int(zmq.EVENTS), int(zmq.POLLIN), int(zmq.NOBLOCK)   # (plain ints: no enum per call)


@dataclass
class _WebCommand:
    type: str
    body: dict[str, Any]
    node: str
    future: Future


class Bus:
    def __init__(
        self,
        hub: Hub,
        address: BusAddress | str,
        server_keys: KeyPair,
        nodes_dir: Path,
        *,
        heartbeat_s: float = 1.0,
        silence_s: float = 3.0,
        tick_s: float = 5.0,
        max_batch: int = 2000,
        limits: BusLimits | None = None,
    ) -> None:
        self.hub = hub
        self.address = BusAddress.parse(address) if isinstance(address, str) else address
        self.server_keys = server_keys
        self.registry = KeyRegistry(nodes_dir)
        self._key_generation = self.registry.generation
        self.heartbeat_s = heartbeat_s
        self.silence_s = silence_s
        self.tick_s = tick_s
        self.max_batch = max_batch
        if limits is None:
            limits = hub.config.hall.bus
        self.limits = limits
        self.quotas = Quotas(limits)
        self._ctx = zmq.Context()
        self._auth: NodeAuthenticator | None = None
        self._web: queue.SimpleQueue[_WebCommand] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._presence = Presence(silence_s)
        self._pub: zmq.Socket | None = None      # None while there is no socket to publish on
        self._router: zmq.Socket
        self._pub_sock: zmq.Socket
        self._local_seq = int(time.time() * 1000)
        self._keys = KeyWatch(self.registry, self._wake)
        self.last_loop_s = 0.0              # time.monotonic() of the loop's last turn (liveness)
        self.counters = {"applied": 0, "duplicates": 0, "refused_frames": 0, "batches": 0, "busy": 0,
                         "dropped_replies": 0, "loop_errors": 0, "snapshots": 0, "revocations": 0}
        self._intake = Intake(self.registry, self.quotas, self._presence, hub.state, self._send, self.counters,
                              self._came)
        hub.delta_sinks.append(self._publish_deltas)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> "Bus":
        self._mark_nodes_down()
        self._auth = NodeAuthenticator(self._ctx, self.registry)
        self._auth.start()
        self._auth.configure_curve_callback(ZAP_DOMAIN, credentials_provider=self._auth)
        self._thread = threading.Thread(target=self._run, name="hall-bus", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        self._keys.start()
        return self

    def _mark_nodes_down(self) -> None:
        """At start every node is away until it is heard again; the gap began when the previous run
        last applied a message (what a terminal did offline meanwhile counts from then)."""
        alive = [k[len(Key.NODE):] for k, v in self.hub.state.snapshot(Key.NODE)[1].items()
                 if isinstance(v, dict) and v.get("alive")]
        if not alive:
            return
        found = self.hub.db.execute("SELECT applied_ms FROM applied ORDER BY rowid DESC LIMIT 1").fetchone()
        last = found[0] if found else None          # (the newest row, not a scan of every message ever applied)
        for node in alive:
            body = {"node": node, "alive": False, **({"since_ms": int(last)} if last else {})}
            self._web.put(_WebCommand(Msg.NODE_PRESENCE, body, SERVER_NODE, Future()))

    def stop(self) -> None:
        if self._stop.is_set():
            return
        if self._publish_deltas in self.hub.delta_sinks:
            self.hub.delta_sinks.remove(self._publish_deltas)
        self._stop.set()
        self._keys.stop()
        self._wake()
        if self._thread is not None:
            self._thread.join(10)
        if self._auth is not None:
            self._auth.stop()
        self._ctx.term()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    # --- for the HTTP side (any thread) ------------------------------------------------------

    def submit(self, type_: str, body: dict[str, Any], node: str = "web") -> Future:
        """Queue a command for the writer; the future gets the `Applied` outcome."""
        fut: Future = Future()
        self._web.put(_WebCommand(type_, body, node, fut))
        self._wake()
        return fut

    def presence(self) -> dict[str, dict[str, Any]]:
        return self._presence.report()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    # --- the loop ------------------------------------------------------------------------------

    def _open(self) -> tuple[zmq.Socket, zmq.Socket]:
        return open_sockets(self._ctx, self.server_keys, self.address.commands, self.address.states)

    def _run(self) -> None:
        try:
            router, pub = self._open()
        except zmq.ZMQError as exc:
            self._error = OSError(f"cannot listen on {self.address.commands} / {self.address.states}: {exc}")
            self._ready.set()
            return
        self._router, self._pub_sock = router, pub
        self._pub = pub
        self.last_loop_s = time.monotonic()
        self._ready.set()
        try:
            self._loop()
        except BaseException:
            log.exception("the bus loop stopped")
            raise
        finally:
            self._pub = None
            for sock in (self._router, self._pub_sock):
                sock.close(0)

    def _poller(self) -> zmq.Poller:
        poller = zmq.Poller()
        if not self._router.closed:
            poller.register(self._router, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        return poller

    def _loop(self) -> None:
        poller = self._poller()
        next_hb_s = 0.0
        next_tick_s = time.monotonic() + self.tick_s
        next_reopen_s = 0.0
        while not self._stop.is_set():
            self.last_loop_s = time.monotonic()
            try:
                events = dict(poller.poll(timeout=int(self.heartbeat_s * 1000 / 2)))
                if trace.ON:
                    self._intake.turn_ns = time.monotonic_ns()
                if self._wake_r in events:
                    try:
                        os.read(self._wake_r, 4096)
                    except BlockingIOError:
                        pass
                batch: Batch = []
                if self._router in events:
                    self._drain(batch)
                webs = self._drain_web()
                if batch or webs:
                    self._apply(batch, webs)
                now = time.monotonic()
                self._intake.serve_snapshots(now)
                if now >= next_hb_s:
                    next_hb_s = now + self.heartbeat_s
                    self._pub_sock.send(m.encode_plain(m.HEARTBEAT, SERVER_NODE, {"seq": self.hub.state.seq}),
                                        zmq.NOBLOCK)
                    self._check_presence()
                if now >= next_tick_s and Msg.SYSTEM_TICK in self.hub.handlers:
                    next_tick_s = now + self.tick_s
                    self._apply([], [_WebCommand(Msg.SYSTEM_TICK, {}, "system", Future())])
                # a key stopped being accepted (the key watch woke us), or the sockets are still to re-create
                if self.registry.generation != self._key_generation or (self._router.closed and now >= next_reopen_s):
                    self._key_generation = self.registry.generation
                    next_reopen_s = now + REOPEN_RETRY_S
                    self._reopen()
                    poller = self._poller()
            except zmq.ContextTerminated:
                return
            except Exception:       # one bad step never ends the loop; say so, at most every 5 s
                self.counters["loop_errors"] += 1
                limited_warning("the bus loop met an error and goes on", exc_info=True)
                time.sleep(0.01)

    def _reopen(self) -> None:
        """A key stopped being accepted: re-create both sockets, so every live connection (the
        revoked node's state subscription too) is dropped and must pass the ZAP handler again.
        Honest nodes reconnect within their reconnect interval and resend what is unacknowledged."""
        self.counters["revocations"] += 1
        log.warning("a node key was revoked or deleted: dropping every connection; registered nodes reconnect")
        self._pub = None
        self._router.close(0)
        self._pub_sock.close(0)
        self._intake.forget_snapshots()
        try:
            self._router, self._pub_sock = self._open()
        except zmq.ZMQError as exc:     # closed sockets: the loop tries again at its next key check
            log.error("cannot listen again on %s / %s: %s", self.address.commands, self.address.states, exc)
            return
        self._pub = self._pub_sock

    def _drain(self, batch: Batch) -> None:
        """Read what waits on the ROUTER (up to max_batch frames or DRAIN_MAX_S): the socket's EVENTS
        says when it is empty, so a turn costs no zmq.Again exception."""
        router = self._router
        now = time.monotonic()
        deadline_s = now + DRAIN_MAX_S
        for n in range(self.max_batch):
            if n % 64 == 63:
                now = time.monotonic()
                if now > deadline_s:
                    return          # apply what came so far: a flood never delays others' batches
            if not router.get(_EVENTS) & _POLLIN:
                return
            try:
                frames = router.recv_multipart(_NOBLOCK, copy=False)
            except zmq.Again:
                return
            try:
                self._intake.take(frames, batch, now)
            except Exception:       # a frame that breaks a handler of the loop: refuse it, go on
                self.counters["loop_errors"] += 1
                limited_warning("a frame could not be handled", exc_info=True)

    def _drain_web(self) -> list[_WebCommand]:
        out: list[_WebCommand] = []
        web = self._web
        while len(out) < self.max_batch and not web.empty():
            try:
                out.append(web.get_nowait())
            except queue.Empty:
                break
        return out

    def _apply(self, batch: Batch, webs: list[_WebCommand]) -> None:
        envs = [env for _, env in batch]
        for cmd in webs:
            self._local_seq += 1
            envs.append(m.Envelope(type=cmd.type, node=cmd.node, seq=self._local_seq, body=cmd.body))
        if trace.ON:
            for env in envs:
                trace.mark("applying", env.id)
        try:
            outcomes = self.hub.apply(envs)
        except Exception as exc:  # the whole transaction failed (disk full, locked…): nothing acked
            fault = storage_fault(exc)           # a named fault, already logged once per interval by the hub
            if fault is None:
                log.exception("a batch of %d could not be committed", len(envs))
            code, text = (fault.code, fault.message) if fault is not None else ("internal", "not stored; retry")
            for identity, env in batch:
                self._send(identity, m.encode(m.reply(env, SERVER_NODE, ok=False, error=code, message=text,
                                                      retry=True)))
            for cmd in webs:
                cmd.future.set_exception(exc)
            return
        applied_ns = time.monotonic_ns() if trace.ON else 0
        self.counters["batches"] += 1
        for i, outcome in enumerate(outcomes):
            if outcome.duplicate:
                self.counters["duplicates"] += 1
            elif not outcome.retry:
                self.counters["applied"] += 1
            if i < len(batch):
                if trace.ON:
                    trace.mark("applied", outcome.env.id, applied_ns)
                self._send(batch[i][0], reply_frame(outcome.reply_body(), SERVER_NODE))
                if trace.ON:
                    trace.mark("replied", outcome.env.id)
            else:
                fut = webs[i - len(batch)].future
                if not fut.done():
                    fut.set_result(outcome)

    def _send(self, identity: bytes, frame: bytes) -> None:
        if not send_to(self._router, identity, frame):
            self.counters["dropped_replies"] += 1   # its queue is full or it is gone; it resends

    def _publish_deltas(self, deltas: list[tuple[int, str, Any]]) -> None:
        pub = self._pub
        if pub is None:
            return
        try:
            for frame in delta_frames(deltas, PRIVATE_PREFIX, SERVER_NODE):
                pub.send(frame, zmq.NOBLOCK)     # a subscriber over its high-water mark misses it, sees a gap
        except (zmq.ZMQError, m.MessageTooLarge):
            limited_warning("state deltas could not be published", exc_info=True)

    # --- presence ------------------------------------------------------------------------------

    def _came(self, node: str) -> None:
        """A node heard again after silence: record it (in the next batch, this same turn)."""
        self._web.put(_WebCommand(Msg.NODE_PRESENCE, {"node": node, "alive": True}, SERVER_NODE, Future()))

    def _check_presence(self) -> None:
        gone = self._presence.gone(time.monotonic())
        if gone:
            self._intake.gone(gone)
            self._apply([], [_WebCommand(Msg.NODE_PRESENCE, {"node": n, "alive": False}, SERVER_NODE, Future())
                             for n in gone])

    # --- liveness (for /api/health and the serve loop) -------------------------------------------

    def alive(self) -> Liveness:
        """Whether the loop thread (which is also the one writer) runs, and how long since its last turn."""
        thread = self._thread
        return Liveness(alive=thread is not None and thread.is_alive(),
                        last_turn_s=round(time.monotonic() - self.last_loop_s, 3), queue=self._web.qsize())
