"""The window terminal's action buttons: each one's label (with its shortcut), whether it can be
pressed now and why not, and running a named action. Plain Python, no Kivy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.i18n import LANGS
from window_terminal import slip_status
from window_terminal.commands import SERVER_ACTIONS, Commands
from window_terminal.keymap import SHORTCUTS


@dataclass(frozen=True)
class Btn:
    label: str            # with the shortcut, e.g. "叫号 [F1]"
    enabled: bool
    reason: str = ""      # why it is disabled (shown under the buttons)


class Buttons(Commands):
    def buttons(self) -> dict[str, Btn]:
        state = self.win_state()
        reach, why = self.can_reach_server()
        cur = self.current
        cap = self.config.hall.thresholds.recall_cap
        draft = self.draft

        def need(cond: bool, reason_key: str, **fmt: Any) -> tuple[bool, str]:
            return (True, "") if cond else (False, self.tr(reason_key, **fmt))

        rules: dict[str, tuple[bool, str]] = {
            "call_next": need(state == "idle", "term.reason_has_ticket" if state in ("calling", "serving")
                              else "term.reason_state"),
            "recall": need(state == "calling", "term.reason_no_call"),
            "no_show": need(state == "calling", "term.reason_no_call"),
            "park": need(state in ("calling", "serving"), "term.reason_no_ticket"),
            "transfer": need(state in ("calling", "serving"), "term.reason_no_ticket"),
            "call_back": need(state == "idle" and bool(self.parked),
                              "term.reason_none_parked" if not self.parked else "term.reason_has_ticket"),
            "start": need(state == "calling", "term.reason_no_call"),
            "finish": need(state in ("calling", "serving") and bool(draft.get("service")),
                           "term.reason_no_ticket" if state not in ("calling", "serving") else "term.need_service"),
            "pause": need(state == "idle", "term.reason_has_ticket"),
            "resume": need(state == "paused", "term.reason_state"),
            "sign_out": need(state not in ("calling", "serving"), "term.reason_has_ticket"),
            "sign_in": (True, ""),
        }
        ok, why_not = slip_status.can_reprint(self.window.printer is not None, self.win, self.last_case is not None)
        rules["reprint"] = (ok, self.tr(why_not) if why_not else "")
        out: dict[str, Btn] = {}
        for name, (ok, reason) in rules.items():
            if name in SERVER_ACTIONS and not reach:
                can, because = self.can_reach_server(name)      # offline: 办结, pause, resume, sign-out still work
                if not can:
                    ok, reason = False, because
            label = self.tr(f"term.btn.{name}")
            if name == "recall" and state == "calling":
                label = f"{label} {int(cur.get('recalls') or 0)}/{cap}"
            out[name] = Btn(f"{label}  [{SHORTCUTS[name]}]", ok, reason)
        for name in ("my_day", "search"):
            out[name] = Btn(f"{self.tr(f'term.btn.{name}')}  [{SHORTCUTS[name]}]", True)
        out["close"] = Btn(f"{self.tr('common.back')}  [Esc]", True)
        out["lang"] = Btn(f"{'English' if self.lang == 'zh' else '中文'}  [{SHORTCUTS['lang']}]", True)
        return out

    # --- actions the screen calls ---------------------------------------------------------

    def action(self, name: str) -> bool:
        """Run a named action (a button or its shortcut). False when it is not available now."""
        if name == "lang":
            return self.toggle_lang()
        btn = self.buttons().get(name)
        if btn is not None and not btn.enabled:
            if btn.reason:
                self.say("error", btn.reason)
            self.changed()
            return False
        fn = getattr(self, f"do_{name}", None)
        if fn is None:
            return False
        if self.message_kind != "error" or name == "close":
            self.message, self.message_kind = "", ""
        fn()
        self.changed()
        return True

    def toggle_lang(self) -> bool:
        self.lang = LANGS[(LANGS.index(self.lang) + 1) % len(LANGS)]
        self.message, self.message_kind = "", ""
        self.changed()
        return True

    # sign-in pad (on-screen and physical keyboard alike)

