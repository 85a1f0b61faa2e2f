"""The state path of a node's client: the hall state mirrored by the ZeroMQ guide's Clone pattern.

Owned by the client's I/O thread (not thread-safe). Deltas come numbered on the SUB socket;
a snapshot is asked for on the DEALER at start, after a gap, when the server is back and after
`silence_s` without anything on the state path; it comes in parts cut by bytes. Deltas that
arrive while a snapshot is on its way are kept and applied on top of it.
"""

from __future__ import annotations

from typing import Any, Callable

from hallnet import messages as m
from hallnet.mirror import StateMirror

Notify = Callable[[list[tuple[str, Any]]], None]     # the client's: hands changed keys to its on_change


class StatePath:
    def __init__(self, node: str, mirror: StateMirror, silence_s: float, notify: Notify, now_s: float) -> None:
        self.node = node
        self.mirror = mirror
        self.silence_s = silence_s
        self._notify = notify
        self.want_snapshot = True
        self._asked_s = 0.0
        self._last_state_s = now_s              # last time anything came on the state path
        self._parts: dict[int, dict[str, Any]] = {}
        self._parts_seq = -1
        self._buffered: list[list[Any]] = []     # deltas seen while a snapshot is on its way

    def need_snapshot(self) -> None:
        self.want_snapshot, self._asked_s = True, 0.0

    def on_snapshot_part(self, body: dict[str, Any]) -> None:
        """One part of a snapshot answer (from the DEALER)."""
        try:
            part, parts, seq = int(body["part"]), int(body["parts"]), int(body["seq"])
            values = body["state"]
        except (KeyError, TypeError, ValueError):
            return
        if self._parts_seq != seq:
            self._parts, self._parts_seq = {}, seq
        self._parts[part] = values
        if len(self._parts) == parts:
            full: dict[str, Any] = {}
            for i in range(parts):
                full.update(self._parts.get(i, {}))
            ok, changed = self.mirror.install(seq, full, self._buffered)
            self._notify(changed)
            self._buffered, self._parts, self._parts_seq = [], {}, -1
            self.want_snapshot = not ok
            self._asked_s = 0.0

    def on_state_frame(self, frame: bytes, now_s: float) -> None:
        """A frame from the SUB socket: numbered deltas, or the server's heartbeat with its sequence."""
        self._last_state_s = now_s
        try:
            env = m.decode(frame)
        except m.MalformedMessage:
            return
        if env.type == m.DELTA:
            deltas = env.body.get("d")
            if not isinstance(deltas, list):
                return
            if self.want_snapshot:
                self._buffered.extend(deltas)
                return
            ok, changed = self.mirror.apply_deltas(deltas)
            self._notify(changed)
            if not ok:
                self.need_snapshot()                 # a gap
        elif env.type == m.HEARTBEAT:
            seq = env.body.get("seq")
            if not self.want_snapshot and isinstance(seq, int) and seq > self.mirror.seq:
                self.need_snapshot()                 # we missed deltas

    def ask_if_due(self, now_s: float, send_frame: Callable[[bytes], bool]) -> None:
        """Ask for a snapshot when one is wanted (at most every `silence_s`) or the state path is silent."""
        if now_s - self._last_state_s > self.silence_s and not self.want_snapshot:
            self.need_snapshot()
        if self.want_snapshot and now_s - self._asked_s > self.silence_s:
            self._asked_s = now_s
            self._buffered = []
            send_frame(m.encode(m.Envelope(type=m.SNAPSHOT, node=self.node, seq=0, body={})))

    def next_due_s(self) -> float:
        """When `ask_if_due` may have work without a frame arriving first."""
        if self.want_snapshot:
            return self._asked_s + self.silence_s
        return self._last_state_s + self.silence_s
