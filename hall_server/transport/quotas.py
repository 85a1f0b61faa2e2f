"""Per-node quotas on the bus: a token bucket per node, with backpressure that keeps order.

A message costs one token plus one per BYTES_PER_TOKEN of its frame. A node over its quota gets
a retryable `busy` reply (with `retry_after_ms`) and its message is not stored; the node keeps it
in its outbox. To keep a node's messages in order, once a message is refused every later one
(higher sender sequence number) is refused too until the refused one comes back: the node resends
from its oldest unacknowledged message, in order, after the delay.

Defaults are generous for honest nodes (a terminal or kiosk sends a few messages a minute, a
gateway for 32 keypads a few a second) and come from hall.toml `[bus]` (config.schema.BusLimits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from config.schema import BusLimits
from hallnet.messages import MAX_MESSAGE_BYTES

BYTES_PER_TOKEN = 16 * 1024
MIN_RETRY_S = 0.2
MAX_MESSAGE_COST = 1 + MAX_MESSAGE_BYTES // BYTES_PER_TOKEN     # the cost of the largest message
# The hold only has to outlast the frames a node sent before it heard `busy` (they arrive within
# milliseconds); a held message that does not come back within this was already acknowledged (a
# resend of a stored message refused while its first copy's answer was on its way) and must not
# hold the node's later messages any longer.
HOLD_EXPIRES_S = 5.0


@dataclass(frozen=True)
class Rate:
    per_s: float
    burst: int


def rate_for(limits: BusLimits, node: str) -> Rate:
    """The quota of a node by its kind (the part of its id before the first '-')."""
    if node.split("-", 1)[0] == "gateway":
        return Rate(float(limits.gateway_messages_per_s), limits.gateway_burst)
    return Rate(float(limits.node_messages_per_s), limits.node_burst)


def message_cost(frame_bytes: int) -> int:
    return 1 + frame_bytes // BYTES_PER_TOKEN


class NodeQuota:
    """One node's bucket and its hold (the oldest refused sequence number)."""

    __slots__ = ("rate", "tokens", "last_s", "blocked_until_s", "hold_seq", "hold_since_s", "refused")

    def __init__(self, rate: Rate, now_s: float) -> None:
        self.rate = rate
        self.tokens = float(rate.burst)
        self.last_s = now_s
        self.blocked_until_s = 0.0
        self.hold_seq: int | None = None
        self.hold_since_s = 0.0
        self.refused = 0

    def admit(self, seq: int, cost: int, now_s: float) -> int:
        """0 if the message may be stored (its tokens are taken), else the delay in ms to tell the node."""
        self.tokens = min(float(self.rate.burst), self.tokens + (now_s - self.last_s) * self.rate.per_s)
        self.last_s = now_s
        if self.hold_seq is not None and now_s - self.hold_since_s > max(HOLD_EXPIRES_S, self.hold_wait_s()):
            self.hold_seq = None
        if now_s < self.blocked_until_s and not self.is_held(seq):
            return self._refuse(seq, self.blocked_until_s - now_s)
        if self.hold_seq is not None and seq > self.hold_seq:
            self.blocked_until_s = now_s + MIN_RETRY_S  # a later message overtaking the held one
            return self._refuse(seq, MIN_RETRY_S)
        if self.tokens >= cost:
            self.tokens -= cost
            if self.hold_seq is not None and seq >= self.hold_seq:
                self.hold_seq = None        # the refused one is back: the rest may follow
                self.blocked_until_s = 0.0
            return 0
        # wait for about a second's worth of tokens, so a resumed node gets a batch through
        want = min(float(self.rate.burst), max(float(cost), self.rate.per_s))
        wait_s = max(MIN_RETRY_S, (want - self.tokens) / self.rate.per_s)
        self.blocked_until_s = now_s + wait_s
        return self._refuse(seq, wait_s)

    def is_held(self, seq: int) -> bool:
        """Whether `seq` is the refused message (or an earlier one) that the node must resend first."""
        return self.hold_seq is not None and seq <= self.hold_seq

    def hold_wait_s(self) -> float:
        """Twice the longest delay this node can be told (a big message at a low rate)."""
        return 2 * max(MIN_RETRY_S, MAX_MESSAGE_COST / self.rate.per_s)

    def _refuse(self, seq: int, wait_s: float) -> int:
        self.refused += 1
        if self.hold_seq is None:       # (a lower seq refused later is a resend, often of one already stored)
            self.hold_seq = seq
            self.hold_since_s = self.last_s
        return max(1, math.ceil(wait_s * 1000))


class Quotas:
    """Every node's quota, and when each node may next have a snapshot."""

    def __init__(self, limits: BusLimits) -> None:
        self.limits = limits
        self._nodes: dict[str, NodeQuota] = {}
        self._next_snapshot_s: dict[str, float] = {}

    def blocked(self, node: str, seq: int, now_s: float) -> bool:
        """Whether `node` was told `busy`, its delay has not passed and `seq` is not the held message:
        such a frame is dropped unanswered (the node resends everything unacknowledged after the delay)."""
        quota = self._nodes.get(node)
        if quota is None or now_s >= quota.blocked_until_s or quota.is_held(seq):
            return False
        quota.refused += 1
        return True

    def admit(self, node: str, seq: int, frame_bytes: int, now_s: float) -> int:
        quota = self._nodes.get(node)
        if quota is None:
            quota = self._nodes[node] = NodeQuota(rate_for(self.limits, node), now_s)
        return quota.admit(seq, message_cost(frame_bytes), now_s)

    def refused(self, node: str) -> int:
        quota = self._nodes.get(node)
        return quota.refused if quota is not None else 0

    def snapshot_due_s(self, node: str, now_s: float) -> float:
        """When `node` may next be sent a snapshot (now_s or later); taking it books the next slot."""
        due = max(now_s, self._next_snapshot_s.get(node, 0.0))
        return due

    def snapshot_sent(self, node: str, now_s: float) -> None:
        self._next_snapshot_s[node] = now_s + self.limits.snapshot_interval_ms / 1000

    def forget(self, node: str) -> None:
        self._nodes.pop(node, None)
        self._next_snapshot_s.pop(node, None)
