"""The hall server's ZeroMQ bus: one thread that receives, applies (group commit), acknowledges, publishes.

Sockets (CURVE on both; only registered node keys get through the ZAP handler):
  ROUTER  commands/events from nodes → idempotent apply → reply after COMMIT; heartbeats;
          snapshot requests (answered in parts)
  PUB     numbered state deltas after each commit; a heartbeat with the current sequence each second
The loop drains everything waiting (up to `max_batch`) and applies it as one transaction, so
under load many events share one fsync. HTTP commands enter through `submit` (thread-safe).
A frame that is malformed, too large, or sent under another node's name is logged and refused;
the loop never dies of one.
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
from zmq.auth.thread import ThreadAuthenticator

from hall_server.hub import Hub, Liveness
from hall_server.store import storage_fault
from hall_server.writer import Applied
from hallnet import messages as m
from hallnet.address import BusAddress
from hallnet.keys import KeyPair, KeyRegistry, apply_server_keys

log = logging.getLogger(__name__)

SERVER_NODE = "server"
_NOBLOCK = int(zmq.NOBLOCK)
_MORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)
ZAP_DOMAIN = "hall"
SNAPSHOT_PART_KEYS = 200
# State keys under this prefix stay on the server (HTTP pages read them); nodes never get them —
# e.g. today's bad-rating counts, which a staff terminal must not see change (DOMAIN R6).
PRIVATE_PREFIX = "mgr/"
DELTAS_PER_FRAME = 200


class _NodeAuthenticator(ThreadAuthenticator):
    """Accepts registered node keys only; the ZMQ User-Id of a connection is the node's name."""

    def __init__(self, context: zmq.Context, registry: KeyRegistry) -> None:
        super().__init__(context, log=logging.getLogger("hall_server.auth"))
        self.registry = registry

    def callback(self, domain: str, key: bytes) -> bool:  # credentials provider
        node = self.registry.node_for(key)
        if node is None:
            _limited_warning("refused an unregistered key %s", key[:8].decode("ascii", "replace") + "…")
        return node is not None

    def curve_user_id(self, client_public_key: bytes) -> str:
        from zmq.utils import z85

        return self.registry.node_for(z85.encode(client_public_key)) or ""


_warned: dict[str, tuple[float, int]] = {}


def _limited_warning(fmt: str, *args: Any) -> None:
    """Log a warning at most once per 5 s per format; say how many were held back."""
    now = time.monotonic()
    last, held = _warned.get(fmt, (0.0, 0))
    if now - last >= 5.0:
        suffix = f" (+{held} more like it)" if held else ""
        log.warning(fmt + suffix, *args)
        _warned[fmt] = (now, 0)
    else:
        _warned[fmt] = (last, held + 1)


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
    ) -> None:
        self.hub = hub
        self.address = BusAddress.parse(address) if isinstance(address, str) else address
        self.server_keys = server_keys
        self.registry = KeyRegistry(nodes_dir)
        self.heartbeat_s = heartbeat_s
        self.silence_s = silence_s
        self.tick_s = tick_s
        self.max_batch = max_batch
        self._ctx = zmq.Context()
        self._auth: _NodeAuthenticator | None = None
        self._web: queue.SimpleQueue[_WebCommand] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._presence_lock = threading.Lock()
        self._last_seen: dict[str, float] = {}
        self._alive: set[str] = set()
        self._pub: zmq.Socket | None = None
        self._local_seq = int(time.time() * 1000)
        self.counters = {"applied": 0, "duplicates": 0, "refused_frames": 0, "batches": 0}
        self._last_turn_s = time.monotonic()
        hub.delta_sinks.append(self._publish_deltas)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> "Bus":
        self._auth = _NodeAuthenticator(self._ctx, self.registry)
        self._auth.start()
        self._auth.configure_curve_callback(ZAP_DOMAIN, credentials_provider=self._auth)
        self._thread = threading.Thread(target=self._run, name="hall-bus", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._stop.is_set():
            return
        if self._publish_deltas in self.hub.delta_sinks:
            self.hub.delta_sinks.remove(self._publish_deltas)
        self._stop.set()
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
        now = time.monotonic()
        with self._presence_lock:
            return {n: {"alive": n in self._alive, "silent_s": round(now - t, 1)} for n, t in self._last_seen.items()}

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except (BlockingIOError, OSError):
            pass

    # --- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        router = self._ctx.socket(zmq.ROUTER)
        pub = self._ctx.socket(zmq.PUB)
        try:
            for sock in (router, pub):
                apply_server_keys(sock, self.server_keys, ZAP_DOMAIN.encode())
                sock.linger = 0
            router.maxmsgsize = m.MAX_MESSAGE_BYTES + 1024   # larger frames: zmq drops the peer
            router.router_mandatory = False
            router.sndhwm = 0
            router.rcvhwm = 0
            pub.sndhwm = 100_000
            router.bind(self.address.commands)
            pub.bind(self.address.states)
        except zmq.ZMQError as exc:
            self._error = OSError(f"cannot listen on {self.address.commands} / {self.address.states}: {exc}")
            self._ready.set()
            router.close(0)
            pub.close(0)
            return
        self._pub = pub
        self._ready.set()
        try:
            self._loop(router, pub)
        except Exception:
            log.exception("the bus loop failed")
            raise
        finally:
            self._pub = None
            router.close(0)
            pub.close(0)

    def _loop(self, router: zmq.Socket, pub: zmq.Socket) -> None:
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        next_hb_s = 0.0
        next_tick_s = time.monotonic() + self.tick_s
        while not self._stop.is_set():
            self._last_turn_s = time.monotonic()
            events = dict(poller.poll(timeout=int(self.heartbeat_s * 1000 / 2)))
            if self._wake_r in events:
                try:
                    os.read(self._wake_r, 4096)
                except BlockingIOError:
                    pass
            batch: list[tuple[bytes, m.Envelope]] = []
            if router in events:
                self._drain(router, batch)
            webs = self._drain_web()
            if batch or webs:
                self._apply(router, batch, webs)
            now = time.monotonic()
            if now >= next_hb_s:
                pub.send(m.encode(m.Envelope(type=m.HEARTBEAT, node=SERVER_NODE, seq=0,
                                             body={"seq": self.hub.state.seq})))
                next_hb_s = now + self.heartbeat_s
                self._check_presence(router)
            if now >= next_tick_s and "system.tick" in _registered_types():
                next_tick_s = now + self.tick_s
                self._apply(router, [], [_WebCommand("system.tick", {}, "system", Future())])

    def _drain(self, router: zmq.Socket, batch: list[tuple[bytes, m.Envelope]]) -> None:
        while len(batch) < self.max_batch:
            try:
                frames = router.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            if len(frames) != 2:
                self._refuse(router, frames[0].bytes, "expected one frame per message")
                continue
            identity, frame = frames[0].bytes, frames[1]
            node = frame.get("User-Id") or ""
            try:
                env = m.decode(frame.bytes)
            except m.MalformedMessage as exc:
                self._refuse(router, identity, str(exc), node)
                continue
            if env.node != node:
                self._refuse(router, identity, f"node id {env.node!r} does not match its key ({node!r})", node)
                continue
            self._seen(env.node)
            if env.type == m.HEARTBEAT:
                self._send(router, identity, m.Envelope(type=m.HEARTBEAT, node=SERVER_NODE, seq=0,
                                                        body={"seq": self.hub.state.seq}))
            elif env.type == m.SNAPSHOT:
                self._send_snapshot(router, identity, env)
            else:
                batch.append((identity, env))

    def _drain_web(self) -> list[_WebCommand]:
        out = []
        while len(out) < self.max_batch:
            try:
                out.append(self._web.get_nowait())
            except queue.Empty:
                break
        return out

    def _apply(self, router: zmq.Socket, batch: list[tuple[bytes, m.Envelope]], webs: list[_WebCommand]) -> None:
        envs = [env for _, env in batch]
        for cmd in webs:
            self._local_seq += 1
            envs.append(m.Envelope(type=cmd.type, node=cmd.node, seq=self._local_seq, body=cmd.body))
        try:
            outcomes = self.hub.apply(envs)
        except Exception as exc:  # the whole transaction failed (disk full, locked…): nothing acked
            fault = storage_fault(exc)           # a named fault, already logged once per interval by the hub
            if fault is None:
                log.exception("a batch of %d could not be committed", len(envs))
            code, text = (fault.code, fault.message) if fault is not None else ("internal", "not stored; retry")
            for identity, env in batch:
                self._send(router, identity, m.reply(env, SERVER_NODE, ok=False, error=code, message=text, retry=True))
            for cmd in webs:
                cmd.future.set_exception(exc)
            return
        self.counters["batches"] += 1
        for i, outcome in enumerate(outcomes):
            if outcome.duplicate:
                self.counters["duplicates"] += 1
            elif not outcome.retry:
                self.counters["applied"] += 1
            if i < len(batch):
                self._send_raw(router, batch[i][0], m.encode_plain(m.REPLY, SERVER_NODE, outcome.reply_body()))
            else:
                fut = webs[i - len(batch)].future
                if not fut.done():
                    fut.set_result(outcome)

    def _send(self, router: zmq.Socket, identity: bytes, env: m.Envelope) -> None:
        self._send_raw(router, identity, m.encode(env))

    def _send_raw(self, router: zmq.Socket, identity: bytes, frame: bytes) -> None:
        try:
            router.send(identity, _MORE_NOBLOCK)
            router.send(frame, _NOBLOCK)
        except (zmq.Again, zmq.ZMQError):
            pass  # the peer is gone; it will resend

    def _refuse(self, router: zmq.Socket, identity: bytes, reason: str, node: str = "") -> None:
        self.counters["refused_frames"] += 1
        _limited_warning("refused a frame from %s: %s", node or "?", reason)
        self._send(router, identity, m.Envelope(type=m.ERROR, node=SERVER_NODE, seq=0, body={"reason": reason[:200]}))

    def _send_snapshot(self, router: zmq.Socket, identity: bytes, env: m.Envelope) -> None:
        prefix = env.body.get("prefix", "")
        seq, values = self.hub.state.snapshot(prefix if isinstance(prefix, str) else "")
        items = [(k, v) for k, v in values.items() if not k.startswith(PRIVATE_PREFIX)]
        parts = max(1, -(-len(items) // SNAPSHOT_PART_KEYS))
        for part in range(parts):
            chunk = dict(items[part * SNAPSHOT_PART_KEYS:(part + 1) * SNAPSHOT_PART_KEYS])
            self._send(router, identity, m.Envelope(type=m.SNAPSHOT, node=SERVER_NODE, seq=0,
                                                    body={"seq": seq, "part": part, "parts": parts, "state": chunk}))

    def _publish_deltas(self, deltas: list[tuple[int, str, Any]]) -> None:
        if self._pub is None:
            return
        for i in range(0, len(deltas), DELTAS_PER_FRAME):
            # a private key's delta goes out without its value, so sequence numbers stay gap-free
            chunk = [[seq, key, value] if not key.startswith(PRIVATE_PREFIX) else [seq, "", None]
                     for seq, key, value in deltas[i:i + DELTAS_PER_FRAME]]
            self._pub.send(m.encode(m.Envelope(type=m.DELTA, node=SERVER_NODE, seq=0, body={"d": chunk})))

    # --- presence ------------------------------------------------------------------------------

    def _seen(self, node: str) -> None:
        with self._presence_lock:
            self._last_seen[node] = time.monotonic()
            came = node not in self._alive
            if came:
                self._alive.add(node)
        if came:
            self._web.put(_WebCommand("node.presence", {"node": node, "alive": True}, SERVER_NODE, Future()))

    def _check_presence(self, router: zmq.Socket) -> None:
        now = time.monotonic()
        with self._presence_lock:
            gone = [n for n in self._alive if now - self._last_seen.get(n, 0.0) > self.silence_s]
            for n in gone:
                self._alive.discard(n)
        cmds = [_WebCommand("node.presence", {"node": n, "alive": False}, SERVER_NODE, Future()) for n in gone]
        if cmds:
            self._apply(router, [], cmds)

    # --- liveness (for /api/health and the serve loop) -------------------------------------------

    def alive(self) -> Liveness:
        """Whether the loop thread (which is also the one writer) runs, and how long since its last turn."""
        thread = self._thread
        return Liveness(alive=thread is not None and thread.is_alive(),
                        last_turn_s=round(time.monotonic() - self._last_turn_s, 3), queue=self._web.qsize())


def _registered_types() -> dict[str, Any]:
    from hall_server.handlers import HANDLERS

    return HANDLERS
