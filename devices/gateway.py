"""The keypad gateway: each window's state on its EKP-2 keypad; each press to the hall server.

For every window with a keypad (windows.toml `keypad = {port, address}`), one KeypadSession per
serial port (a bus) keeps the device converged to what the hall server publishes:
  window/<n>  → SHOW_STAFF (亮身份: 工号, stars, name, department in GB18030) and SET_MODE
                (serving / paused 暂停服务 / closed 下班)
  rating/<n>  → START_RATING with the rating's handle while it is open; CANCEL_RATING when it closes
A press becomes `rating.submit` (channel 5) in the gateway's durable hallnet outbox; only then is
the event confirmed to the keypad, so a press survives the hall server, the gateway or the bus
being down. It carries `pressed_ms`, when the key was pressed on the hall's clock (the moment the
gateway opened the rating plus the device's `elapsed_ds`), so a press delivered late (server down)
still counts if it fell within the rating's open time; the demo passes its clock (`--clock-*`). Keypad online/offline is reported as `node.report` so managers see device health.
A port that disappears (USB unplugged) is reopened when it comes back, without a restart.

The gateway also prints the windows' slips (windows.toml `printer`) when the hall server asks
(`slips/<n>`): devices/slip_printing.py; it is the only node besides the window's evaluator that
gets a slip's rating link.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import serial

from config.schema import HallConfig
from devices.keypad.codec import Event, EventKind, Mode
from devices.keypad.session import KeypadSession
from devices.slip_printing import SlipPrinting
from hallnet.client import HallClient
from hallnet.clock import Clock
from hallnet.vocabulary import Key, Msg

log = logging.getLogger("devices.gateway")

STATE_TO_MODE = {"idle": Mode.SERVING, "calling": Mode.SERVING, "serving": Mode.SERVING,
                 "paused": Mode.PAUSED, "closed": Mode.CLOSED}
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 5, 180          # START_RATING timeout_s range (datasheet §3)
OPENED_KEPT = 1024                             # ratings whose opening time the gateway remembers


@dataclass(frozen=True)
class KeypadSpot:
    window: int
    port: str            # the configured port name
    url: str             # what pyserial opens (after --map)
    address: int
    baud: int

    @property
    def device(self) -> str:
        return f"keypad-{self.window}"


class ReopeningPort:
    """A pyserial-like transport that survives the port vanishing: while it is gone, writes are
    dropped and reads time out (like a cut cable); it is reopened at most once a second."""

    def __init__(self, url: str, baud: int, reopen_every_s: float = 1.0) -> None:
        self.url = url
        self.baud = baud
        self.reopen_every_s = reopen_every_s
        self._timeout: float | None = 0.05
        self._port: Any = None
        self._next_try_s = 0.0
        self.opened = 0                       # how many times it was (re)opened
        self._ensure()

    def _ensure(self) -> Any:
        if self._port is None and time.monotonic() >= self._next_try_s:
            self._next_try_s = time.monotonic() + self.reopen_every_s
            try:
                self._port = serial.serial_for_url(self.url, baudrate=self.baud, timeout=self._timeout)
                self.opened += 1
                log.info("opened %s", self.url)
            except (serial.SerialException, OSError, ValueError) as exc:
                log.debug("cannot open %s: %s", self.url, exc)
        return self._port

    def _broken(self, exc: Exception) -> None:
        log.warning("port %s lost: %s", self.url, exc)
        try:
            self._port.close()
        except Exception:
            pass
        self._port = None
        self._next_try_s = time.monotonic() + self.reopen_every_s

    @property
    def timeout(self) -> float | None:
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = value
        if self._port is not None:
            self._port.timeout = value

    @property
    def in_waiting(self) -> int:
        port = self._ensure()
        if port is None:
            return 0
        try:
            return port.in_waiting
        except (serial.SerialException, OSError) as exc:
            self._broken(exc)
            return 0

    def write(self, data: bytes) -> int:
        port = self._ensure()
        if port is None:
            return len(data)                  # into the void, like an unplugged cable
        try:
            return port.write(data)
        except (serial.SerialException, OSError) as exc:
            self._broken(exc)
            return len(data)

    def read(self, n: int = 1) -> bytes:
        port = self._ensure()
        if port is None:
            time.sleep(self._timeout or 0.05)
            return b""
        try:
            return port.read(n)
        except (serial.SerialException, OSError, TypeError) as exc:
            self._broken(exc)
            return b""

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None


def keypad_spots(config: HallConfig, port_map: dict[str, str]) -> list[KeypadSpot]:
    return [KeypadSpot(w.number, w.keypad.port, port_map.get(w.keypad.port, w.keypad.port), w.keypad.address,
                       w.keypad.baud)
            for w in config.windows if w.keypad is not None]


class Gateway:
    def __init__(self, config: HallConfig, client: HallClient, port_map: dict[str, str] | None = None,
                 session_options: dict[str, Any] | None = None, clock: Clock | None = None,
                 offline_after_s: float = 3.0,
                 wall_s: Callable[[], float] = time.time, qr_base: str = "",
                 printer_status_timeout_s: float = 0.5) -> None:
        self.config = config
        self.client = client
        self.slips = SlipPrinting(config, client, port_map, qr_base, status_timeout_s=printer_status_timeout_s)
        self.clock = clock or Clock()
        self._wall_s = wall_s
        # (window, handle) → real time its START_RATING went out; kept after the rating closes, since
        # a press may reach the gateway late (a noisy bus, a keypad offline for a while)
        self._opened_s: OrderedDict[tuple[int, int], float] = OrderedDict()
        self.spots = keypad_spots(config, port_map or {})
        self._by_window = {s.window: s for s in self.spots}
        self._by_bus: dict[tuple[str, int], KeypadSpot] = {}
        self.sessions: dict[str, KeypadSession] = {}
        self.ports: dict[str, ReopeningPort] = {}
        for spot in self.spots:
            self._by_bus[(spot.url, spot.address)] = spot
        for url in sorted({s.url for s in self.spots}):
            on_bus = [s for s in self.spots if s.url == url]
            self.ports[url] = ReopeningPort(url, on_bus[0].baud)
            self.sessions[url] = KeypadSession(
                self.ports[url], [s.address for s in on_bus],
                on_event=lambda addr, ev, url=url: self._on_event(url, addr, ev),
                on_online=lambda addr, online, url=url: self._on_online(url, addr, online),
                **(session_options or {}))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.pressed = 0
        self.offline_after_s = offline_after_s      # tell managers only of outages that last
        self._reported: dict[int, bool] = {}         # window → online as last reported
        self._offline_timers: dict[int, threading.Timer] = {}
        self._report_lock = threading.Lock()
        client.on_change = self._on_change

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> "Gateway":
        self.slips.recover()                 # before any state key can ask for a print again
        self.client.start()
        self.slips.start()
        for url, session in self.sessions.items():
            t = threading.Thread(target=session.run_forever, args=(self._stop,), name=f"keypads {url}", daemon=True)
            t.start()
            self._threads.append(t)
        for key, value in self.client.state().items():      # whatever a snapshot already brought
            self._on_change(key, value)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.slips.stop()
        for t in self._threads:
            t.join(5)
        with self._report_lock:                      # no session thread is left to start another
            for timer in self._offline_timers.values():
                timer.cancel()
        for port in self.ports.values():
            port.close()
        self.client.stop()

    # --- hall state → keypads (hallnet I/O thread) ---------------------------------------------

    def _spot_for_key(self, key: str) -> KeypadSpot | None:
        kind, _, n = key.partition("/")
        if kind not in ("window", "rating") or not n.isdigit():
            return None
        return self._by_window.get(int(n))

    def _on_change(self, key: str, value: Any) -> None:
        if key.startswith(Key.SLIPS):
            self.slips.on_change(key, value)
            return
        spot = self._spot_for_key(key)
        if spot is None:
            return
        session = self.sessions[spot.url]
        try:
            if key.startswith(Key.WINDOW):
                self._mirror_window(session, spot, value or {})
            elif value is None:
                session.cancel_rating(spot.address)
            else:
                self._open_rating(session, spot, value)
        except Exception as exc:   # a value the keypad cannot show: log it, keep the others going
            log.warning("%s: cannot apply %s: %s", spot.device, key, exc)

    def _mirror_window(self, session: KeypadSession, spot: KeypadSpot, w: dict[str, Any]) -> None:
        staff = w.get("staff")
        if isinstance(staff, dict):
            session.show_staff(spot.address, str(staff.get("staff_no", ""))[:8], int(staff.get("stars") or 0),
                               str(staff.get("name", "")), str(staff.get("department", "")))
        session.set_mode(spot.address, STATE_TO_MODE.get(str(w.get("state")), Mode.CLOSED))

    def _open_rating(self, session: KeypadSession, spot: KeypadSpot, r: dict[str, Any]) -> None:
        handle = r.get("handle")
        if not isinstance(handle, int) or not (0 < handle < 2**32):
            log.warning("%s: rating without a usable handle: %r", spot.device, handle)
            return
        timeout_s = max(MIN_TIMEOUT_S, min(MAX_TIMEOUT_S, self.config.hall.rating.open_s))
        key = (spot.window, handle)
        if key not in self._opened_s:
            self._opened_s[key] = self._wall_s()
            while len(self._opened_s) > OPENED_KEPT:
                self._opened_s.popitem(last=False)
        session.start_rating(spot.address, handle, timeout_s, voice=True)

    def pressed_ms(self, window: int, ev: Event) -> int:
        """When the key was pressed, on the hall's clock: the moment this gateway opened the rating
        plus the device's elapsed time (never later than now; now if the opening is unknown)."""
        now_s = self._wall_s()
        opened_s = self._opened_s.get((window, ev.handle))
        at_s = now_s if opened_s is None else min(now_s, opened_s + ev.elapsed_ds / 10)
        return self.clock.at(at_s)

    # --- keypads → hall server (session threads) -------------------------------------------------

    def _on_event(self, url: str, addr: int, ev: Event) -> bool:
        spot = self._by_bus.get((url, addr))
        if spot is None:
            return True
        if ev.kind == EventKind.PRESS and 1 <= ev.level <= 5:
            # durable in the outbox before the keypad is told it may forget the press
            pressed_ms = self.pressed_ms(spot.window, ev)
            self.client.send(Msg.RATING_SUBMIT, {"window": spot.window, "handle": ev.handle, "level": ev.level,
                                               "pressed_ms": pressed_ms})
            self.pressed += 1
            log.info("%s: press %d for handle %d (event %d, %.1f s after the rating opened; pressed_ms %d)",
                     spot.device, ev.level, ev.handle, ev.event_no, ev.elapsed_ds / 10, pressed_ms)
        return True   # timeouts and power-ups need nothing upstream (the server expires ratings itself)

    def _on_online(self, url: str, addr: int, online: bool) -> None:
        """A keypad came or went. Coming back is reported at once (if its going was); going only
        once it has stayed away `offline_after_s`, so a burst of line noise does not raise alarms."""
        spot = self._by_bus.get((url, addr))
        if spot is None:
            return
        log.info("%s %s", spot.device, "online" if online else "OFFLINE")
        with self._report_lock:
            timer = self._offline_timers.pop(spot.window, None)
            if timer is not None:
                timer.cancel()
            if online:
                if self._reported.get(spot.window) is not True:
                    self._report(spot, True)
                return
            timer = threading.Timer(self.offline_after_s, self._report_if_still_offline, args=(spot,))
            timer.daemon = True
            self._offline_timers[spot.window] = timer
            timer.start()

    def _report_if_still_offline(self, spot: KeypadSpot) -> None:
        with self._report_lock:
            self._offline_timers.pop(spot.window, None)
            if self._stop.is_set():
                return
            if not self.sessions[spot.url].state(spot.address).online and self._reported.get(spot.window) is not False:
                self._report(spot, False)

    def _report(self, spot: KeypadSpot, online: bool) -> None:
        self._reported[spot.window] = online
        self.client.send(Msg.NODE_REPORT, {"devices": {spot.device: {
            "online": online, "port": spot.port, "address": spot.address}}})
