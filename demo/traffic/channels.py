"""How the traffic simulator's citizens rate: the realistic mix of levels, reasons and channels,
on the window's evaluator (kiosk), its serial keypad (the keypad simulator's control socket) or
later by the QR link printed on their own slip (the QR page over HTTP); every rating given is
logged as a JSON line.

`Channels` is a part of `demo.traffic.simulation.Traffic`.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from config.reserved_tags import PENDING_REASON_TAG
from config.schema import Window
from devices.control_lines import send_control_line
from hallnet.vocabulary import Key, Msg, NodeKind, node_id

log = logging.getLogger("traffic")

LEVEL_MIX = ((5, 0.60), (4, 0.21), (3, 0.09), (2, 0.06), (1, 0.04))
RATED_SHARE = 0.72
# how the rating citizens rate: at a window with a keypad / without one (QR only with --http)
CHANNEL_MIX_KEYPAD = (("keypad", 0.45), ("kiosk", 0.40), ("qr", 0.15))
CHANNEL_MIX = (("kiosk", 0.85), ("qr", 0.15))
CHANNEL_CODES = {"qr": 3, "kiosk": 4, "keypad": 5}
KEYPAD_TAG = PENDING_REASON_TAG  # what the hall server records as the reason of a keypad 差评
RETRY_REAL_S = 0.05              # a citizen tries the keypad / kiosk again after this (real) time
SLIP_WAITS = 10                  # a citizen looks for their printed slip this many times (1 real s apart)


class Channels:
    """The citizens' ratings by kiosk, keypad and QR (a mixin of `Traffic`)."""

    def _pick_channel(self, window: Window, finished: dict[str, Any]) -> str:
        mix = CHANNEL_MIX_KEYPAD if window.keypad is not None and self.keypad_control else CHANNEL_MIX
        if not (self.http and self.slips.has_printer(window.number)):
            mix = tuple((c, w) for c, w in mix if c != "qr")
        channels, weights = zip(*mix)
        return self.rng.choices(channels, weights=weights)[0]

    def _opinion(self) -> dict[str, Any]:
        """Level, reason tags and maybe a phone number, with the realistic mix."""
        levels, weights = zip(*LEVEL_MIX)
        level = self.rng.choices(levels, weights=weights)[0]
        tags = [t.code for t in self.config.tags.for_level(level)]
        chosen = self.rng.sample(tags, k=min(len(tags), self.rng.choice((1, 1, 2)))) if (
            level <= 2 or (tags and self.rng.random() < 0.3)) else []
        opinion: dict[str, Any] = {"level": level, "tags": chosen}
        if level <= 2 and self.rng.random() < 0.5:
            opinion["phone"] = f"139{self.rng.randrange(10**8):08d}"
        return opinion

    def _rate(self, window: int, finished: dict[str, Any], channel: str, opinion: dict[str, Any]) -> None:
        if channel == "qr":
            self._rate_qr(window, finished, opinion, 0)
        elif channel == "keypad":
            self._rate_keypad(window, finished, opinion)
        else:
            self._rate_kiosk(window, finished, opinion)

    def _retry(self, action: Callable[[], None], real_s: float = RETRY_REAL_S) -> None:
        self.counts["retries"] += 1
        self.after(real_s * 1000 * self.clock.speed, action)

    def _still_asked(self, finished: dict[str, Any], margin_real_s: float = 0.0) -> bool:
        """The evaluator still asks: the citizen may rate at the window. Else they walk away."""
        margin_ms = max(1000.0, margin_real_s * 1000 * self.clock.speed)
        if self.clock() + margin_ms <= finished["rating_expires_ms"]:
            return True
        self.counts["walked_away"] += 1
        return False

    def _rate_kiosk(self, window: int, finished: dict[str, Any], opinion: dict[str, Any]) -> None:
        if not self._still_asked(finished):
            return
        body = {"job": finished["job"], **opinion, "pressed_ms": self.clock()}
        control = self.kiosk_controls.get(window)
        if control is None:
            node = node_id(NodeKind.KIOSK, window)
            self._intent(window, finished, "kiosk", opinion, body=body)
            self.clients[node].send(Msg.RATING_SUBMIT, body)          # on the kiosk's disk: the citizen sees 谢谢
        else:
            node = f"kiosk-{window} (process)"

            taps = {"job": finished["job"], **opinion}             # the process's evaluator stamps the press
            self._intent(window, finished, "kiosk", opinion)
            try:
                reply = send_control_line(control, "rate " + json.dumps(taps, ensure_ascii=False), timeout_s=5)
            except OSError:                                         # the kiosk is down: try again shortly
                reply = ""
                self._unanswered.add(finished["job"])
            if not reply.startswith("ok"):
                self._withdrawn(finished, "kiosk")
            if not reply:
                self._retry(lambda: self._rate_kiosk(window, finished, opinion), 0.3)
                return
            if not reply.startswith("ok"):                          # not on its screen yet
                log.debug("kiosk-%d: %s", window, reply)
                self._retry(lambda: self._rate_kiosk(window, finished, opinion))
                return
        self._given(window, finished, "kiosk", node, opinion)

    def _on_change(self, key: str, value: Any) -> None:           # hallnet I/O thread
        if key.startswith(Key.RATING) and isinstance(value, dict) and "job" in value:
            self._handles[value["job"]] = value.get("handle")

    def _rate_keypad(self, window: int, finished: dict[str, Any], opinion: dict[str, Any]) -> None:
        """Press a key once the keypad shows this 办件's rating (the gateway opens it)."""
        assert self.keypad_control is not None
        address = self.config.window(window).keypad.address      # type: ignore[union-attr]
        if not self._still_asked(finished, margin_real_s=0.05):
            return
        try:
            status = send_control_line(self.keypad_control, f"status {address}", timeout_s=5)
            shown = json.loads(status[3:])[str(address)]["open_handle"] if status.startswith("ok ") else None
            handle = self._handles.get(finished["job"])
            if handle is None or shown != f"{handle:08X}":
                self._retry(lambda: self._rate_keypad(window, finished, opinion))
                return
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keypad simulator: %s", exc)
            self._retry(lambda: self._rate_keypad(window, finished, opinion), 0.5)
            return
        pressed = {"level": opinion["level"], "tags": [KEYPAD_TAG] if opinion["level"] <= 2 else []}
        self._intent(window, finished, "keypad", pressed)
        try:
            reply = send_control_line(self.keypad_control, f"press {address} {opinion['level']}", timeout_s=5)
        except OSError as exc:
            log.warning("keypad simulator: %s", exc)
            self._unanswered.add(finished["job"])       # the press may have been taken: the intent stays open
            self._retry(lambda: self._rate_keypad(window, finished, opinion), 0.5)
            return
        if reply != "ok pressed":
            self._withdrawn(finished, "keypad")
            self._retry(lambda: self._rate_keypad(window, finished, opinion))
            return
        self._given(window, finished, "keypad", f"keypad {address}", pressed)

    def _rate_qr(self, window: int, finished: dict[str, Any], opinion: dict[str, Any], attempt: int,
                 looked: int = 0) -> None:
        """Scan the printed slip's QR code and post its page, as the citizen's phone would; try again
        later if the hall's web does not answer (a lost answer is recognised on the next try by the
        page's 已评价). No slip in hand (not printed yet, or its print failed): no QR rating."""
        assert self.http is not None
        url = self.slips.link(window, finished["job"])
        if url is None:
            if looked < SLIP_WAITS:
                self._retry(lambda: self._rate_qr(window, finished, opinion, attempt, looked + 1), 1.0)
            else:
                self.counts["no_slip"] += 1
            return
        form = [("level", str(opinion["level"]))] + [("tags", t) for t in opinion["tags"]]
        if opinion.get("phone"):
            form.append(("phone", opinion["phone"]))
        # each citizen's own phone: the hall's public limits count per client (hall_server.web.limits)
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                         headers={"User-Agent": f"hall-traffic-citizen/{finished['job']}"})
        self._intent(window, finished, "qr", opinion)
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
            self._unanswered.add(finished["job"])
        if status == 200 or (status == 409 and attempt > 0):
            self._given(window, finished, "qr", "qr page", opinion, attempts=attempt + 1)
        elif status in (0, 429, 500, 502, 503) and attempt < 50:
            self._withdrawn(finished, "qr")
            self._retry(lambda: self._rate_qr(window, finished, opinion, attempt + 1), self.rng.uniform(1.0, 3.0))
        else:
            self.counts["refused"] += 1
            log.warning("QR rating of %s refused with HTTP %s", finished["job"], status)
            self._log({"job": finished["job"], "window": window, "channel": "qr", "refused": status})

    def _intent(self, window: int, finished: dict[str, Any], channel: str, opinion: dict[str, Any],
                **extra: Any) -> None:
        """Logged before an attempt: a process killed during it leaves this open."""
        self._log({"job": finished["job"], "window": window, "intent": channel, "opinion": opinion,
                   "channel_code": CHANNEL_CODES[channel], **extra})

    def _withdrawn(self, finished: dict[str, Any], channel: str) -> None:
        """The attempt logged by `_intent` was surely not taken (unless an earlier one went unanswered:
        then the intent stays open)."""
        if finished["job"] in self._unanswered:
            return
        self._log({"job": finished["job"], "withdrawn": channel})

    def _given(self, window: int, finished: dict[str, Any], channel: str, node: str, opinion: dict[str, Any],
               **extra: Any) -> None:
        self.counts["ratings"] += 1
        self.counts[channel] += 1
        self.counts["bad"] += opinion["level"] <= 2
        self._log({"job": finished["job"], "window": window, "level": opinion["level"], "tags": opinion["tags"],
                   "channel": channel, "channel_code": CHANNEL_CODES[channel], "node": node, "ok": True,
                   "at_ms": self.clock(), **extra})
