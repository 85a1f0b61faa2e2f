"""The bus's sockets and frames: CURVE + ZAP, high-water marks, size limits, framing by bytes.

Limits that keep one node from breaking the server:
  - every socket has finite high-water marks; the ROUTER is `router_mandatory`, so a reply to a
    peer whose queue is full is dropped at once (never blocks, never piles up): the node resends
    its unacknowledged message later and gets the stored answer;
  - the ROUTER reads frames up to MAX_FRAME_BYTES (libzmq drops a peer that sends more) and the bus
    answers anything over MAX_MESSAGE_BYTES with a `message_too_large` error envelope;
  - snapshots and delta frames are cut by bytes, so no frame the server sends exceeds the limit.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import msgpack
import zmq
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85

from hall_server.core.state import StateMap
from hallnet import messages as m
from hallnet.keys import KeyPair, KeyRegistry, apply_server_keys, user_id

log = logging.getLogger("hall_server.transport.bus")

ZAP_DOMAIN = "hall"
ROUTER_SNDHWM = 2000        # replies queued per peer; beyond, a reply is dropped (the node resends)
ROUTER_RCVHWM = 200         # frames queued per peer before zmq stops reading its connection
PUB_SNDHWM = 1000           # delta frames queued per subscriber; beyond, dropped (it sees a gap)
PART_BYTES = 128 * 1024     # snapshot parts and delta frames stay under this (the wire allows 256 KiB)
_NOBLOCK = int(zmq.NOBLOCK)
_MORE_NOBLOCK = int(zmq.SNDMORE | zmq.NOBLOCK)

_warned: dict[str, tuple[float, int]] = {}


def limited_warning(fmt: str, *args: Any, exc_info: bool = False) -> None:
    """Log a warning at most once per 5 s per format; say how many were held back."""
    now = time.monotonic()
    last, held = _warned.get(fmt, (0.0, 0))
    if now - last >= 5.0:
        suffix = f" (+{held} more like it)" if held else ""
        log.warning(fmt + suffix, *args, exc_info=exc_info)
        _warned[fmt] = (now, 0)
    else:
        _warned[fmt] = (last, held + 1)


class NodeAuthenticator(ThreadAuthenticator):
    """Accepts registered, unrevoked node keys only; the ZMQ User-Id of a connection is
    "NODE PUBLICKEY", so the bus can refuse a connection's frames once its key is revoked."""

    def __init__(self, context: zmq.Context, registry: KeyRegistry) -> None:
        super().__init__(context, log=logging.getLogger("hall_server.auth"))
        self.registry = registry

    def callback(self, domain: str, key: bytes) -> bool:  # credentials provider
        node = self.registry.node_for(key)
        if node is None:
            limited_warning("refused an unregistered or revoked key %s", key[:8].decode("ascii", "replace") + "…")
        return node is not None

    def curve_user_id(self, client_public_key: bytes) -> str:
        public = z85.encode(client_public_key)
        node = self.registry.node_for(public)
        return user_id(node, public) if node else ""


def open_sockets(ctx: zmq.Context, keys: KeyPair, commands: str, states: str) -> tuple[zmq.Socket, zmq.Socket]:
    """The bound ROUTER and PUB with every limit set; raises zmq.ZMQError if they cannot bind."""
    router = ctx.socket(zmq.ROUTER)
    pub = ctx.socket(zmq.PUB)
    try:
        for sock in (router, pub):
            apply_server_keys(sock, keys, ZAP_DOMAIN.encode())
            sock.linger = 0
            sock.maxmsgsize = m.MAX_FRAME_BYTES
        router.router_mandatory = True
        router.sndhwm = ROUTER_SNDHWM
        router.rcvhwm = ROUTER_RCVHWM
        pub.sndhwm = PUB_SNDHWM
        _bind(router, commands)
        _bind(pub, states)
    except zmq.ZMQError:
        router.close(0)
        pub.close(0)
        raise
    return router, pub


def _bind(sock: zmq.Socket, endpoint: str) -> None:
    """Bind, retrying briefly: a socket just closed on the same address may still hold it."""
    deadline = time.monotonic() + 2.0
    while True:
        try:
            sock.bind(endpoint)
            return
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def send_to(router: zmq.Socket, identity: bytes, frame: bytes) -> bool:
    """Queue one frame for a peer; False (dropped) if its queue is full or it is gone."""
    try:
        router.send(identity, _MORE_NOBLOCK)
        router.send(frame, _NOBLOCK)
        return True
    except zmq.ZMQError:            # Again: its queue is full; EHOSTUNREACH: it is gone
        return False


def delta_frames(deltas: list[tuple[int, str, Any]], private_prefix: str, node: str) -> list[bytes]:
    """Numbered deltas as `delta` frames of at most PART_BYTES each. A private key's delta, or one
    too big for any frame, goes out as its number only, so sequence numbers stay gap-free."""
    frames: list[bytes] = []
    chunk: list[list[Any]] = []
    size = 0
    for seq, key, value in deltas:
        item: list[Any] = [seq, key, value] if not key.startswith(private_prefix) else [seq, "", None]
        item_bytes = len(msgpack.packb(item, use_bin_type=True))
        if item_bytes > PART_BYTES:
            limited_warning("state key %s is too big to publish (%d bytes); sent as its number only", key, item_bytes)
            item, item_bytes = [seq, "", None], 16
        if chunk and size + item_bytes > PART_BYTES:
            frames.append(m.encode_plain(m.DELTA, node, {"d": chunk}))
            chunk, size = [], 0
        chunk.append(item)
        size += item_bytes
    if chunk:
        frames.append(m.encode_plain(m.DELTA, node, {"d": chunk}))
    return frames


def snapshot_frames(state: StateMap, prefix: str, private_prefix: str, node: str) -> list[bytes]:
    """A snapshot as `snapshot` frames cut by bytes (`seq`, `part`, `parts`, `state`); a value too big
    for any part (stored before the limits existed) is left out and logged."""
    snap = state.snapshot_parts(prefix, PART_BYTES, exclude_prefix=private_prefix)
    if snap.skipped:
        limited_warning("snapshot left out %d keys too big to send, e.g. %s", len(snap.skipped), snap.skipped[0])
    return [m.encode_plain(m.SNAPSHOT, node, {"seq": snap.seq, "part": i, "parts": len(snap.parts), "state": values})
            for i, values in enumerate(snap.parts)]


def reply_frame(body: dict[str, Any], node: str) -> bytes:
    """A reply; one whose result is too big for the wire still tells the node the outcome."""
    try:
        return m.encode_plain(m.REPLY, node, body)
    except m.MessageTooLarge:
        small = {k: v for k, v in body.items() if k in ("ref", "ok", "retry", "error", "message")}
        small["result"] = {}
        small["result_too_large"] = True
        return m.encode_plain(m.REPLY, node, small)
