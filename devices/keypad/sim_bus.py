"""A simulated EKP-2 bus: many `SimKeypad`s behind one serial line. No I/O; time is passed in.

The bus is the receiver and transmitter every device shares: it frames the host's bytes
(dropping a frame interrupted by a gap of more than 20 ms, §2), hands each frame to the
addressed device (or all of them for broadcast address 0, which nobody answers), and schedules
the reply 5–40 ms after the request's last byte (§4.6). Optionally it corrupts bytes both ways
(line noise) and paces bytes at the line's baud rate, so timing figures resemble a real wire.

The pty loop (`simulator.py`) or an in-process transport (`sim_transport.py`) drives it:
`receive()` what the host wrote, `due()` returns what the devices have put on the line by now.
"""

from __future__ import annotations

import logging
import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Iterable

from devices.keypad.codec import (
    BROADCAST,
    REPLY_BIT,
    Event,
    EventKind,
    Frame,
    Func,
    decode,
    encode,
    reply_frame,
)
from devices.keypad.sim_device import KeypadView, SimKeypad

log = logging.getLogger("devices.keypad.sim")

BITS_PER_BYTE = 10             # 8N1: start + 8 data + stop
DATASHEET_REPLY_MS = (5.0, 40.0)
DATASHEET_FRAME_GAP_MS = 20.0


class UnknownDevice(KeyError):
    """No simulated device has this address."""


@dataclass
class _Transmission:
    start_s: float             # when the first byte starts on the line
    payload: bytes
    sent: int = 0


class SimBus:
    def __init__(
        self,
        devices: Iterable[SimKeypad],
        *,
        rng: random.Random | None = None,
        baud: int = 9600,
        pace: bool = False,
        reply_delay_ms: tuple[float, float] = DATASHEET_REPLY_MS,
        frame_gap_ms: float = DATASHEET_FRAME_GAP_MS,
        noise: float = 0.0,
    ) -> None:
        self.devices: dict[int, SimKeypad] = {d.addr: d for d in devices}
        self._rng = rng or random.Random()
        self.byte_s = BITS_PER_BYTE / baud
        self.pace = pace
        self.reply_delay_ms = reply_delay_ms
        self.frame_gap_s = frame_gap_ms / 1000
        self.noise = noise
        self.silent: set[int] = set()
        self.slow_ms: dict[int, float] = {}
        self._rx = bytearray()
        self._rx_end_s = -math.inf             # when the last received byte finished arriving
        self._tx: deque[_Transmission] = deque()
        self.frames_seen = 0
        self.bytes_corrupted = 0

    # ----------------------------------------------------------------- line side

    def receive(self, data: bytes, now_s: float) -> None:
        """Bytes the host wrote, read from the line at `now_s`."""
        if not data:
            return
        data = self._corrupt(data)
        start_s = max(now_s, self._rx_end_s) if self.pace else now_s
        if self._rx and start_s - self._rx_end_s > self.frame_gap_s:
            self._rx.clear()                    # §2: a gap of more than 20 ms aborts the frame
        step_s = self.byte_s if self.pace else 0.0
        self._rx_end_s = start_s + len(data) * step_s
        old_len = len(self._rx)
        self._rx += data
        done = 0                                # bytes consumed from (old buffer + data)
        while True:
            consumed, frame = decode(self._rx)
            del self._rx[:consumed]
            done += consumed
            if frame is None:
                break
            # The frame's last byte is data[done - old_len - 1]; it has arrived once it is through.
            self._dispatch(frame, start_s + max(0, done - old_len) * step_s)

    def due(self, now_s: float) -> bytes:
        """Run the devices' timers, then return the bytes on the line by `now_s`."""
        self.tick(now_s)
        out = bytearray()
        while self._tx:
            tx = self._tx[0]
            if now_s < tx.start_s:
                break
            if self.pace:
                upto = min(len(tx.payload), int((now_s - tx.start_s) / self.byte_s))
            else:
                upto = len(tx.payload)
            out += tx.payload[tx.sent : upto]
            tx.sent = max(tx.sent, upto)
            if tx.sent < len(tx.payload):
                break
            self._tx.popleft()
        return bytes(out)

    def next_deadline_s(self) -> float:
        """The next time `due()` has something to do (inf when nothing is scheduled)."""
        deadline = min((d.deadline_s() for d in self.devices.values()), default=math.inf)
        if self._tx:
            tx = self._tx[0]
            next_byte_s = tx.start_s + (tx.sent + 1) * self.byte_s if self.pace else tx.start_s
            deadline = min(deadline, next_byte_s)
        return deadline

    def tick(self, now_s: float) -> None:
        for device in self.devices.values():
            before = device.events[-1] if device.events else None
            device.tick(now_s)
            if device.events and device.events[-1] is not before:
                _log_event(device.addr, device.events[-1])

    # ----------------------------------------------------------------- frames

    def _dispatch(self, frame: Frame, at_s: float) -> None:
        self.frames_seen += 1
        if frame.func & REPLY_BIT:
            return                              # another device's reply heard on the bus
        if frame.addr == BROADCAST:
            for device in self.devices.values():
                if device.addr not in self.silent:
                    device.handle(frame, at_s)  # acted on, never answered (§1)
            return
        device = self.devices.get(frame.addr)
        if device is None or device.addr in self.silent:
            return
        reply = device.handle(frame, at_s)
        if frame.func not in (Func.POLL, Func.QUERY_STATUS):
            log.info("keypad %d: %s %s -> %s", device.addr, _func_name(frame.func), frame.data.hex(" "), reply)
        if reply is None:
            return
        low_ms, high_ms = self.reply_delay_ms
        delay_s = (self._rng.uniform(low_ms, high_ms) + self.slow_ms.get(device.addr, 0.0)) / 1000
        payload = self._corrupt(encode(reply_frame(device.addr, frame.func, reply)))
        start_s = at_s + delay_s
        if self._tx:                            # one talker at a time
            last = self._tx[-1]
            start_s = max(start_s, last.start_s + len(last.payload) * (self.byte_s if self.pace else 0.0))
        self._tx.append(_Transmission(start_s, payload))

    def _corrupt(self, data: bytes) -> bytes:
        if self.noise <= 0:
            return data
        out = bytearray(data)
        for i in range(len(out)):
            if self._rng.random() < self.noise:
                out[i] ^= self._rng.randrange(1, 256)
                self.bytes_corrupted += 1
        return bytes(out)

    # ----------------------------------------------------------------- control

    def device(self, addr: int) -> SimKeypad:
        try:
            return self.devices[addr]
        except KeyError:
            raise UnknownDevice(f"no keypad with address {addr}") from None

    def press(self, addr: int, level: int, now_s: float) -> bool:
        device = self.device(addr)
        pressed = device.press(level, now_s)
        if pressed:
            _log_event(addr, device.events[-1])
        else:
            log.info("keypad %d: key %d pressed, nothing happens (no open rating or no such key)", addr, level)
        return pressed

    def reboot(self, addr: int, now_s: float) -> None:
        device = self.device(addr)
        device.power_up(now_s)
        log.info("keypad %d: rebooted, boot_id %04X", addr, device.boot_id)

    def set_silent(self, addr: int, silent: bool) -> None:
        self.device(addr)
        (self.silent.add if silent else self.silent.discard)(addr)

    def set_slow(self, addr: int, extra_ms: float) -> None:
        self.device(addr)
        self.slow_ms[addr] = max(0.0, extra_ms)

    def set_noise(self, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"noise must be 0–1, got {rate}")
        self.noise = rate

    def views(self) -> dict[int, KeypadView]:
        return {addr: d.view() for addr, d in sorted(self.devices.items())}


def _log_event(addr: int, event: Event) -> None:
    kind = EventKind(event.kind).name if event.kind in EventKind._value2member_map_ else hex(event.kind)
    log.info("keypad %d: event %d %s handle %08X level %d after %.1f s", addr, event.event_no, kind,
             event.handle, event.level, event.elapsed_ds / 10)


def _func_name(func: int) -> str:
    return Func(func).name if func in Func._value2member_map_ else f"0x{func:02X}"
