"""The screenshots in docs/screens/: every screen of the terminal in a typical state.

    python -m window_terminal.shots [--config DIR] [--out docs/screens]

The states are made with the real logic and a stand-in sender (no hall server needed).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from config.loader import load_hall
from window_terminal import headless
from window_terminal.local_store import LocalStore
from window_terminal.terminal import TerminalLogic
from hallnet.vocabulary import Key

ROOT = Path(__file__).resolve().parent.parent
DEMO_HALL = ROOT / "config" / "examples" / "demo-hall"
WINDOW = 1
NOW = int(datetime(2026, 11, 23, 10, 12, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)


class StandInSender:
    """Records what the terminal sends and gives each message an id."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def send(self, type_: str, body: dict[str, Any]) -> str:
        msg_id = f"m{len(self.sent) + 1}"
        self.sent.append((msg_id, type_, body))
        return msg_id

    def answer(self, logic: Any, result: dict[str, Any] | None = None, error: str = "", message: str = "",
               details: dict[str, Any] | None = None) -> None:
        msg_id = self.sent[-1][0]
        reply: dict[str, Any] = {"ok": True, "result": result or {}} if not error else {
            "ok": False, "error": error, "message": message, "details": details or {}}
        logic.on_reply(msg_id, reply)


class Clock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now


def window_state(state: str, *, ticket: str | None = None, ticket_id: int | None = None, since_ms: int = NOW,
                 pause_reason: str | None = None, staff: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"window": WINDOW, "name": "综合受理一号窗口", "state": state, "staff": staff, "ticket": ticket,
            "ticket_id": ticket_id, "job": None, "since_ms": since_ms, "pause_reason": pause_reason,
            "rating": None, "rating_expires_ms": None}


STAFF = {"staff_no": "HC2101", "name": "王𬀩", "department": "区行政审批服务局", "stars": 5, "promise": ""}


def make_logic(config: Any, folder: Path, clock: Clock, lang: str = "zh") -> tuple[TerminalLogic, StandInSender]:
    sender = StandInSender()
    logic = TerminalLogic(config, WINDOW, LocalStore(folder / "state.json"), sender, lang=lang, now_ms=clock)
    logic.on_connection(True)
    for code, waiting, prio, oldest_min in (("H", 3, 0, 6), ("A", 12, 2, 24), ("B", 5, 1, 11)):
        logic.on_state(Key.queue(code), {"category": code, "name": "", "waiting": waiting, "priority_waiting": prio,
                                          "oldest_queued_ms": NOW - oldest_min * 60_000, "last_called": None})
    logic.on_state(Key.window(WINDOW), window_state("closed"))
    return logic, sender


def sign_in(logic: Any, sender: StandInSender) -> None:
    for k in "2101":
        logic.pad(k)
    logic.pad("enter")
    for k in "1234":
        logic.pad(k)
    logic.pad("enter")
    sender.answer(logic, {"window": WINDOW, "staff_no": "HC2101", "late": False, "already": False})
    logic.on_state(Key.window(WINDOW), window_state("idle", staff=STAFF))
    logic.message, logic.message_kind = "", ""


def serving(logic: Any, sender: StandInSender, clock: Clock) -> None:
    sign_in(logic, sender)
    # a finished case earlier, rated by the citizen (the terminal never sees the level)
    logic.on_state(Key.window(WINDOW), window_state("calling", ticket="A011", ticket_id=10, staff=STAFF))
    logic.choose_service("SB-0103")
    logic.do_finish()
    sender.answer(logic, {"job": "j10", "job_no": "37100220261123000010", "job_no_source": "generated",
                          "handle_ms": 6 * 60_000 + 5000, "overdue": False, "rating_expires_ms": NOW + 60_000,
                          "qr_expires_ms": NOW + 7 * 86_400_000})
    logic.on_state(Key.rating(WINDOW), {"window": WINDOW, "job": "j10", "expires_ms": NOW + 60_000})
    logic.on_state(Key.rating(WINDOW), None)
    logic.on_state(Key.window(WINDOW), window_state("idle", staff=STAFF))
    logic.do_call_next()
    sender.answer(logic, {"ticket_id": 12, "ticket": "A012", "category": "A", "priority": None, "wait_ms": 17 * 60_000 + 42_000})
    logic.on_state(Key.window(WINDOW), window_state("calling", ticket="A012", ticket_id=12, since_ms=NOW - 40_000,
                                                    staff=STAFF))
    logic.do_start()
    sender.answer(logic, {"job": "j12", "ticket": "A012", "already": False})
    logic.on_state(Key.window(WINDOW), window_state("serving", ticket="A012", ticket_id=12, since_ms=NOW - 4 * 60_000 - 12_000,
                                                    staff=STAFF))
    logic.set_search("shbz")
    logic.choose_service("SB-0103")
    logic.set_job_no("SB20261123-0457")
    logic.message, logic.message_kind = "", ""


def scenes() -> dict[str, Callable[[Any, StandInSender, Clock], None]]:
    def s_sign_in(lg: Any, snd: StandInSender, clk: Clock) -> None:
        for k in "2101":
            lg.pad(k)
        lg.pad("enter")
        for k in "12":
            lg.pad(k)

    def s_locked(lg: Any, snd: StandInSender, clk: Clock) -> None:
        for k in "2101":
            lg.pad(k)
        lg.pad("enter")
        for k in "0000":
            lg.pad(k)
        lg.pad("enter")
        snd.answer(lg, error="account_locked", message="5 wrong PINs: locked for 5 minutes",
                   details={"locked_until_ms": clk.now + 5 * 60_000})

    def s_calling(lg: Any, snd: StandInSender, clk: Clock) -> None:
        sign_in(lg, snd)
        lg.do_call_next()
        snd.answer(lg, {"ticket_id": 12, "ticket": "A012", "category": "A", "priority": "elderly", "wait_ms": 17 * 60_000 + 42_000})
        lg.on_state(Key.window(WINDOW), window_state("calling", ticket="A012", ticket_id=12, since_ms=NOW - 40_000, staff=STAFF))
        lg.do_recall()
        snd.answer(lg, {"ticket_id": 12, "ticket": "A012", "recalls": 2, "no_show": False})

    def s_serving(lg: Any, snd: StandInSender, clk: Clock) -> None:
        serving(lg, snd, clk)

    def s_finished(lg: Any, snd: StandInSender, clk: Clock) -> None:
        serving(lg, snd, clk)
        lg.do_finish()
        snd.answer(lg, {"job": "j12", "job_no": "SB20261123-0457", "job_no_source": "window", "handle_ms": 4 * 60_000 + 12_000,
                        "overdue": False, "rating_expires_ms": NOW + 45_000, "qr_expires_ms": NOW + 7 * 86_400_000})
        lg.on_state(Key.rating(WINDOW), {"window": WINDOW, "job": "j12", "expires_ms": NOW + 45_000})
        lg.on_state(Key.window(WINDOW), window_state("idle", staff=STAFF))

    def s_slip_failed(lg: Any, snd: StandInSender, clk: Clock) -> None:
        s_finished(lg, snd, clk)
        slip = {"print_id": 7, "state": "failed", "error": "no_paper", "job_no": "SB20261123-0457", "reprint": False,
                "at_ms": NOW}
        lg.on_state(Key.window(WINDOW), window_state("idle", staff=STAFF) | {"slip": slip})

    def s_offline(lg: Any, snd: StandInSender, clk: Clock) -> None:
        serving(lg, snd, clk)
        lg.on_connection(False)

    def s_pause(lg: Any, snd: StandInSender, clk: Clock) -> None:
        sign_in(lg, snd)
        lg.do_pause()

    def s_paused(lg: Any, snd: StandInSender, clk: Clock) -> None:
        sign_in(lg, snd)
        lg.pause_with("lunch")
        snd.answer(lg, {"window": WINDOW, "reason": "午休"})
        lg.on_state(Key.window(WINDOW), window_state("paused", pause_reason="午休", since_ms=NOW - 23 * 60_000 - 5000,
                                                     staff=STAFF))

    def s_transfer(lg: Any, snd: StandInSender, clk: Clock) -> None:
        s_calling(lg, snd, clk)
        lg.do_transfer()

    def s_call_back(lg: Any, snd: StandInSender, clk: Clock) -> None:
        sign_in(lg, snd)
        for tid, no in ((7, "A007"), (9, "H009")):
            lg.on_state(Key.window(WINDOW), window_state("calling", ticket=no, ticket_id=tid, staff=STAFF))
            lg.do_park()
            snd.answer(lg, {"ticket_id": tid, "ticket": no})
            lg.on_state(Key.window(WINDOW), window_state("idle", staff=STAFF))
            clk.now += 90_000
        lg.do_call_back()

    def s_my_day(lg: Any, snd: StandInSender, clk: Clock) -> None:
        serving(lg, snd, clk)
        lg.store.set("day", {"day": lg.today(), "staff_no": "HC2101", "served": 37, "handle_ms": 37 * 7 * 60_000 + 37 * 25_000,
                              "overdue": 1, "rated": 29})
        lg.do_my_day()

    return {"sign-in": s_sign_in, "locked": s_locked, "calling": s_calling, "serving": s_serving,
            "finished": s_finished, "slip-failed": s_slip_failed, "offline": s_offline, "pause": s_pause, "paused": s_paused,
            "transfer": s_transfer, "call-back": s_call_back, "my-day": s_my_day}


def render_all(out: Path, config_dir: Path = DEMO_HALL, only: list[str] | None = None) -> list[Path]:
    headless.setup_env()      # before anything imports Kivy (headless.start does)
    config = load_hall(config_dir)
    written: list[Path] = []
    app = None
    todo = [(name, fn, "zh") for name, fn in scenes().items()] + [("serving", scenes()["serving"], "en")]
    for name, fn, lang in todo:
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            clock = Clock(NOW)
            logic, sender = make_logic(config, Path(tmp), clock, lang)
            fn(logic, sender, clock)
            if app is None:
                app = headless.start(logic)
            else:
                app.use(logic)
            suffix = "" if lang == "zh" else f"-{lang}"
            written.append(headless.snapshot(app, out / f"terminal-{name}{suffix}.png"))
    if app is not None:
        headless.close(app)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m window_terminal.shots", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="DIR", default=str(DEMO_HALL))
    p.add_argument("--out", metavar="DIR", default=str(ROOT / "docs" / "screens"))
    p.add_argument("only", nargs="*", help="scene names (default: all)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("kivy").setLevel(logging.ERROR)
    for path in render_all(Path(args.out), Path(args.config), args.only or None):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
