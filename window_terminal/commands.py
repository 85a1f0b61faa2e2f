"""The window terminal's commands: what each action sends, the durable tracker of commands
waiting for their answer, and the once-a-second tick. Plain Python, no Kivy.

Commands are sent durably (`sender.send` stores them in the outbox first) and answered later by
`on_reply`. One command at a time: while it waits, the other server actions wait too. When no
answer comes within `answer_timeout_s` the terminal says the action is saved and will be applied
once the hall server answers; the late answer is still applied, even after a restart (pending
commands are kept in the local store).

Offline (the hall server unreachable), the actions that need no decision of the server —
办结 of the 办件 being served, pause, resume, sign-out (`OFFLINE_ACTIONS`) — still work: they
take effect on the screen at once, wait in the outbox with the time they were done (`done_ms`)
and are sent, in order and once, when the server returns; the screen lists what waits. Calling
and everything else that needs the server's decision says so.
"""

from __future__ import annotations

from typing import Any

from config.i18n import t
from window_terminal.replies import Replies
from window_terminal.state import PAUSE_REASONS
from hallnet.vocabulary import Msg

SERVER_ACTIONS = ("call_next", "recall", "no_show", "park", "call_back", "transfer", "start", "finish",
                  "pause", "resume", "sign_out", "sign_in", "reprint")
OFFLINE_ACTIONS = ("finish", "pause", "resume", "sign_out")
MAX_JOB_NO = 64
GIVE_UP_MS = 60_000            # connected but unanswered this long: stop blocking the screen
MESSAGE_MS = 8000              # a success or info line fades after this; errors stay until the next action


class Commands(Replies):
    # --- sending and answers -----------------------------------------------------------------

    def can_reach_server(self, action: str = "") -> tuple[bool, str]:
        """Whether `action` can be sent now, and why not. Offline, only `OFFLINE_ACTIONS` can, and only
        behind other actions done offline (never behind one whose answer decides what comes next)."""
        offline_only = all(p.get("offline") for p in self.pending.values())
        if not self.connected:
            if action in OFFLINE_ACTIONS and offline_only:
                return True, ""
            return False, self.tr("term.reason_offline")
        if self.pending:
            late = any(p.get("late") or p.get("offline") for p in self.pending.values())
            return False, self.tr("term.reason_queued" if late else "term.reason_busy")
        return True, ""

    def _send(self, action: str, type_: str, body: dict[str, Any], **extra: Any) -> bool:
        ok, reason = self.can_reach_server(action)
        if not ok or self.sender is None:
            self.say("error", reason or self.tr("term.reason_offline"))
            self.changed()
            return False
        offline = not self.connected
        if offline:
            body = {**body, "done_ms": self.now_ms()}     # when the clerk did it (the server bounds it)
        env = self.sender.send(type_, body)
        msg_id = getattr(env, "id", env)
        kept = {k: v for k, v in body.items() if k not in ("pin", "new_pin")}   # never keep a PIN on disk
        self.pending[msg_id] = {"action": action, "type": type_, "body": kept, "sent_ms": self.now_ms(),
                                "extra": extra, "late": False, "offline": offline}
        self.store.set("pending", self.pending)
        if offline:
            self._done_offline(action, extra)
            self.say("info", self.tr("term.offline_saved", action=self.tr(f"term.btn.{action}")))
        else:
            self.say("info", self.tr("term.sending"))
        self.changed()
        return True

    def _done_offline(self, action: str, extra: dict[str, Any]) -> None:
        """What an action done offline changes on the screen at once (the server's answer confirms it)."""
        if action == "finish":
            self.store.update(current=None, draft={"search": "", "service": "", "job_no": ""})
        elif action == "pause":
            self.store.set("paused", {"reason": extra.get("reason", ""), "since_ms": self.now_ms()})
            self.dialog, self.pause_other = None, ""
        elif action == "resume":
            self.store.set("paused", None)
        elif action == "sign_out":
            self.store.update(session=None, paused=None)
            self.dialog = None

    def offline_lines(self) -> list[str]:
        """What waits to be sent, in the clerk's words: "办结 A012 · 10:42"."""
        out = []
        for p in self.queued_offline():
            done = p["body"].get("done_ms")
            when = self.local(int(done)).strftime("%H:%M") if isinstance(done, int) else ""
            what = self.tr(f"term.btn.{p['action']}")
            ticket = p["extra"].get("ticket") or ""
            out.append(" ".join(x for x in (what, ticket, when) if x))
        return out

    def on_reply(self, msg_id: str, reply: dict[str, Any]) -> None:
        p = self.pending.pop(msg_id, None)
        if p is None:
            return
        self.store.set("pending", self.pending)
        action = p["action"]
        if reply.get("ok"):
            result = reply.get("result") or {}
            handler = getattr(self, f"_ok_{action}", None)
            self.message, self.message_kind = "", ""
            if handler is not None:
                handler(result, p)
        else:
            details = reply.get("details")
            self._refused(action, str(reply.get("error") or ""), details if isinstance(details, dict) else {}, p)
        self._answered_ms = self.now_ms()
        if not self.queued_offline() and self.win is not None and p.get("offline"):
            self._window_changed()        # the last offline action is answered: the server's word again
        self.changed()

    def tick(self) -> None:
        """Once a second: notice answers that are late; roll the day over; redraw the clocks."""
        now = self.now_ms()
        late = False
        for p in self.pending.values():
            if not p.get("late") and not p.get("offline") and now - p["sent_ms"] > self.answer_timeout_ms:
                p["late"] = late = True
        if late:
            self.store.set("pending", self.pending)
            self.say("info", self.tr("term.queued_note"))
        if self.connected:
            # connected, yet no answer for long: stop waiting (the window state shows what happened)
            lost = [k for k, p in self.pending.items() if now - p["sent_ms"] > GIVE_UP_MS]
            for k in lost:
                self.pending.pop(k)
            if lost:
                self.store.set("pending", self.pending)
                self.say("error", self.tr("term.no_answer"))
                if not self.queued_offline() and self.win is not None:
                    self._window_changed()
        if self.message and self.message_kind != "error" and now - self._said_ms > MESSAGE_MS and not self.pending:
            self.message, self.message_kind = "", ""
        last = self.last_case
        if last and last.get("rating") == "open" and now > int(last.get("expires_ms") or 0):
            last["rating"] = "closed"
            self.store.set("last_case", last)
        self.changed()

    # --- the actions ---------------------------------------------------------------------------

    def do_sign_in(self) -> None:
        staff_no = self.resolved_staff_no()
        if not staff_no:
            self.say("error", self.tr("term.need_staff_no"))
            self.si_field = "staff_no"
            return
        if not self.si_pin:
            self.say("error", self.tr("term.need_pin"))
            self.si_field = "pin"
            return
        body = {"staff_no": staff_no, "pin": self.si_pin}
        if self.si_one_time:                      # the PIN was reset: what was typed now is the new one
            body = {"staff_no": staff_no, "pin": self.si_one_time, "new_pin": self.si_pin}
        self.si_sent_pin = body["pin"]            # memory only: a reset PIN is asked for again below
        self._send("sign_in", Msg.WINDOW_SIGN_IN, body, staff_no=staff_no)

    def do_sign_out(self) -> None:
        self._send("sign_out", Msg.WINDOW_SIGN_OUT, {})

    def do_pause(self) -> None:
        self.dialog = "pause"

    def pause_with(self, reason: str) -> None:
        if reason not in PAUSE_REASONS:
            return
        ok, why = self.can_reach_server("pause")
        if not ok:
            self.say("error", why)
            self.changed()
            return
        text = t(f"pause.{reason}", "zh")          # the hall's records are in Chinese
        if reason == "other" and self.pause_other.strip():
            text = f"{text}：{self.pause_other.strip()}"[:32]
        self._send("pause", Msg.WINDOW_PAUSE, {"reason": text}, reason=text)

    def set_pause_other(self, text: str) -> None:
        self.pause_other = text[:24]

    def do_resume(self) -> None:
        self._send("resume", Msg.WINDOW_RESUME, {})

    def do_call_next(self) -> None:
        self._send("call_next", Msg.QUEUE_CALL_NEXT, {})

    def do_recall(self) -> None:
        self._send("recall", Msg.QUEUE_RECALL, {})

    def do_no_show(self) -> None:
        self._send("no_show", Msg.QUEUE_NO_SHOW, {})

    def do_park(self) -> None:
        self._send("park", Msg.QUEUE_PARK, {})

    def do_call_back(self) -> None:
        if len(self.parked) == 1:
            self.call_back(self.parked[0]["ticket_id"])
        else:
            self.dialog = "call_back"

    def call_back(self, ticket_id: int) -> None:
        self._send("call_back", Msg.QUEUE_CALL_BACK, {"ticket_id": int(ticket_id)})

    def do_transfer(self) -> None:
        self.dialog = "transfer"

    def transfer_to_window(self, number: int) -> None:
        self._send("transfer", Msg.QUEUE_TRANSFER, {"to_window": int(number)})

    def transfer_to_category(self, code: str) -> None:
        self._send("transfer", Msg.QUEUE_TRANSFER, {"to_category": code})

    def do_start(self) -> None:
        self._send("start", Msg.JOB_START, {})

    def do_finish(self) -> None:
        d = self.draft
        if not d.get("service"):
            self.say("error", self.tr("term.need_service"))
            return
        body: dict[str, Any] = {"service_code": d["service"]}
        if d.get("job_no", "").strip():
            body["job_no"] = d["job_no"].strip()
        self._send("finish", Msg.JOB_FINISH, body, ticket=self.ticket_no() or "")

    def do_reprint(self) -> None:
        """补打: the gateway prints the last 办件's slip again; the terminal never sees it."""
        self._send("reprint", Msg.SLIP_REPRINT, {})

    def do_my_day(self) -> None:
        self.dialog = None if self.dialog == "my_day" else "my_day"

    def do_search(self) -> None:
        self.dialog = None          # the screen puts the focus in the search field

    def do_close(self) -> None:
        self.dialog = None

    def close_dialog(self) -> None:
        self.dialog = None
        self.changed()

    # the case being typed: kept on disk at every keystroke

    def set_search(self, text: str) -> None:
        d = self.draft
        if d.get("search") != text:
            d["search"] = text[:40]
            self.store.set("draft", d)
            self.changed()

    def choose_service(self, code: str) -> None:
        if self.index.get(code) is None:
            return
        d = self.draft
        d["service"] = code
        self.store.set("draft", d)
        self.changed()

    def choose_first(self) -> None:
        """Enter in the search field: take the best match."""
        found = self.index.search(self.draft.get("search", ""), limit=1)
        if found:
            self.choose_service(found[0].code)

    def set_job_no(self, text: str) -> None:
        clean = "".join(ch for ch in text if ch.isprintable()).strip()[:MAX_JOB_NO]
        d = self.draft
        if d.get("job_no") != clean:
            d["job_no"] = clean
            self.store.set("draft", d)
            self.changed()

