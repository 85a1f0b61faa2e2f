"""What the bus does with each frame a node sends, before anything is applied.

Checked in this order, each refusal answered with an `error` envelope: the key still accepted
(`revoked`), one frame per message (`malformed`), a readable envelope (`malformed`,
`wrong_version`, `message_too_large`), sent under the key's own node name (`wrong_node`).
Then: a heartbeat is answered at once (at most every HEARTBEAT_REPLY_MIN_S per node), a snapshot
request is booked (answered by `serve_snapshots`, at most every `snapshot_interval_ms` per node),
and a message goes through the node's quota (`busy` with `retry_after_ms`, or into the batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import zmq

from hall_server.core.state import StateMap
from hall_server.transport.presence import Presence
from hall_server.transport.quotas import Quotas
from hall_server.transport.sockets import limited_warning, snapshot_frames
from hallnet import messages as m
from hallnet import trace
from hallnet.keys import KeyRegistry, parse_user_id
from hallnet.vocabulary import Key, NodeKind

SERVER_NODE = NodeKind.SERVER.value
# State keys under this prefix stay on the server (HTTP pages read them); nodes never get them —
# e.g. today's bad-rating counts, which a staff terminal must not see change (DOMAIN R6).
PRIVATE_PREFIX = Key.MGR
HEARTBEAT_REPLY_MIN_S = 0.05        # a node flooding heartbeats gets at most 20 answers a second

Send = Callable[[bytes, bytes], None]        # (peer identity, frame): queue a frame for a peer
Batch = list[tuple[bytes, m.Envelope]]


@dataclass
class _SnapshotAsk:
    identity: bytes
    prefix: str
    due_s: float


class Intake:
    def __init__(self, registry: KeyRegistry, quotas: Quotas, presence: Presence, state: StateMap,
                 send: Send, counters: dict[str, int], on_came: Callable[[str], None]) -> None:
        self.registry = registry
        self.quotas = quotas
        self.presence = presence
        self.state = state
        self._send = send
        self.counters = counters
        self._on_came = on_came          # a node heard again after silence (the bus records it)
        self._snapshots: dict[str, _SnapshotAsk] = {}
        self._hb_replied: dict[str, float] = {}
        self.turn_ns = 0                 # when the bus loop's turn began (HALLNET_TRACE only)

    def take(self, frames: list[zmq.Frame], batch: Batch, now: float) -> None:
        """Check one frame and route it: answered at once (heartbeat, snapshot, refusal) or batched."""
        identity = frames[0].bytes
        node, public = parse_user_id(frames[-1].get("User-Id") or "")
        if not self.registry.accepts(node, public):
            self.refuse(identity, m.E_REVOKED, "this node's key is not accepted (revoked or replaced)", node)
            return
        if len(frames) != 2:
            self.refuse(identity, m.E_MALFORMED, "expected one frame per message", node)
            return
        frame = frames[1]
        try:
            env = m.decode(frame.bytes)
        except m.MalformedMessage as exc:
            self.refuse(identity, m.error_code(exc), str(exc), node)
            return
        if env.node != node:
            self.refuse(identity, m.E_NOT_YOURS, f"node id {env.node!r} does not match its key ({node!r})", node)
            return
        if self.presence.seen(node, now):
            self._on_came(node)
        if env.type == m.HEARTBEAT:
            if now - self._hb_replied.get(node, 0.0) >= HEARTBEAT_REPLY_MIN_S:
                self._hb_replied[node] = now
                self._send(identity, m.encode_plain(m.HEARTBEAT, SERVER_NODE, {"seq": self.state.seq}))
        elif env.type == m.SNAPSHOT:
            prefix = env.body.get("prefix", "")
            self._snapshots[node] = _SnapshotAsk(identity, prefix if isinstance(prefix, str) else "",
                                                 self.quotas.snapshot_due_s(node, now))
        elif self.quotas.blocked(node, env.seq, now):    # told `busy` already: dropped unanswered (it resends
            self.counters["busy"] += 1          # everything unacknowledged after the delay anyway)
        else:
            wait_ms = self.quotas.admit(node, env.seq, len(frame), now)
            if wait_ms:
                self.counters["busy"] += 1
                self._send(identity, m.encode_plain(m.REPLY, SERVER_NODE, m.busy_body(env.id, wait_ms)))
            else:
                batch.append((identity, env))
                if trace.ON:
                    trace.mark("polled", env.id, self.turn_ns)
                    trace.mark("taken", env.id)

    def refuse(self, identity: bytes, code: str, reason: str, node: str = "") -> None:
        self.counters["refused_frames"] += 1
        limited_warning("refused a frame from %s: %s", node or "?", reason)
        self._send(identity, m.encode_plain(m.ERROR, SERVER_NODE, m.error_body(code, reason)))

    def serve_snapshots(self, now: float) -> None:
        """Answer the snapshot requests that are due: each node at most every snapshot_interval_ms."""
        if not self._snapshots:
            return
        for node in [n for n, ask in self._snapshots.items() if ask.due_s <= now]:
            ask = self._snapshots.pop(node)
            self.quotas.snapshot_sent(node, now)
            self.counters["snapshots"] += 1
            for frame in snapshot_frames(self.state, ask.prefix, PRIVATE_PREFIX, SERVER_NODE):
                self._send(ask.identity, frame)

    def forget_snapshots(self) -> None:
        """The sockets were re-created: pending answers would go to identities that are gone."""
        self._snapshots.clear()

    def gone(self, nodes: list[str]) -> None:
        for n in nodes:
            self._hb_replied.pop(n, None)
