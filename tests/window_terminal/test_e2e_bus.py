"""The terminal against a real hall server core over the real bus (ZeroMQ, CURVE, outbox), in
process: sign in, call the ticket a dispenser took, serve, finish → the server opens the rating
for this window; then the server goes away (actions disabled, typing kept), the terminal restarts
(still signed in), and the server comes back."""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from config.i18n import t
from hall_server.transport.bus import Bus
from hall_server.core.hub import Hub
from hallnet.client import HallClient
from hallnet.keys import load_node_keys, new_node_key, server_keys
from window_terminal.runtime import Terminal, build

FAST = {"heartbeat_s": 0.1, "silence_s": 0.6, "resend_s": 0.5}


class UiThread:
    """What Kivy's Clock does for the app: callbacks from the client's I/O thread run here, in order."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        self.q.put((fn, args))

    def until(self, pred: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                fn, args = self.q.get(timeout=0.02)
                fn(*args)
            except queue.Empty:
                pass
            if pred():
                return True
        return pred()


@pytest.fixture
def hall(tmp_path: Path, demo):
    hub = Hub(tmp_path / "hall.db", demo)
    address = f"ipc://{tmp_path}/bus"

    def start_bus() -> Bus:
        return Bus(hub, address, server_keys(tmp_path), tmp_path / "keys" / "nodes", heartbeat_s=0.1,
                   silence_s=0.6).start()

    state = {"bus": start_bus()}
    yield tmp_path, hub, address, state, start_bus
    if state["bus"] is not None:
        state["bus"].stop()
    hub.close()


def terminal(root: Path, demo, address: str, ui: UiThread) -> Terminal:
    keys = load_node_keys(root / "keys" / "issued", "terminal-3")
    term = build(demo, 3, address, keys, root / "terminal-data", ui.post, client_options=FAST)
    term.client.start()
    return term


def node(root: Path, address: str, name: str) -> HallClient:
    folder = new_node_key(root, name)
    return HallClient(name, address, load_node_keys(folder, name), root / f"{name}.db", subscribe=False,
                      **FAST).start()


def test_a_working_round_then_offline_then_restart(hall, demo) -> None:
    root, hub, address, state, start_bus = hall
    new_node_key(root, "terminal-3")
    ui = UiThread()
    term = terminal(root, demo, address, ui)
    lg = term.logic
    dispenser = node(root, address, "dispenser-1")
    kiosk = node(root, address, "kiosk-3")
    try:
        assert ui.until(lambda: lg.connected)
        assert lg.screen() == "sign_in"
        for key in ("2", "1", "0", "3", "enter", "1", "2", "3", "4", "enter"):
            lg.key(key)
        assert ui.until(lambda: lg.screen() == "main"), lg.message
        assert ui.until(lambda: (lg.win or {}).get("staff", {}) and lg.win["staff"]["staff_no"] == "HC2103")

        taken = dispenser.call("queue.take", {"category": "A"})
        assert taken["ok"]
        assert ui.until(lambda: lg.view().queues[0]["waiting"] == "1")
        assert lg.key("f1")
        assert ui.until(lambda: lg.view().ticket == taken["result"]["ticket"] and not lg.pending)
        assert ui.until(lambda: lg.win_state() == "calling")
        assert lg.key("f7")
        assert ui.until(lambda: lg.win_state() == "serving" and not lg.pending)
        lg.set_search("异地就医")
        lg.choose_first()
        lg.set_job_no("E2E-0001")
        assert lg.key("f8")
        assert ui.until(lambda: lg.last_case is not None and not lg.pending), lg.message
        rating = hub.state.snapshot()[1].get("rating/3")
        assert rating is not None and rating["job"] == lg.last_case["job"]
        assert ui.until(lambda: lg.view().rating_line.startswith("评价器已请群众评价"))

        # the citizen rates at this window's kiosk: the terminal learns that, not how
        assert kiosk.call("rating.submit", {"level": 5})["ok"]
        assert ui.until(lambda: lg.view().rating_line.startswith(t("term.rating_done") + "（上一件 "))

        # the hall server goes away
        state["bus"].stop()
        state["bus"] = None
        assert ui.until(lambda: not lg.connected, 5)
        v = lg.view()
        assert v.banner and not v.btn["call_next"].enabled and v.btn["call_next"].reason == t("term.reason_offline")
        assert lg.key("f1") is False
        lg.set_search("社会保障卡")
        lg.choose_first()
        lg.set_job_no("TYPED-OFFLINE")
    finally:
        term.stop()

    # the terminal restarts while the server is still away: still signed in, nothing typed lost
    ui2 = UiThread()
    term2 = terminal(root, demo, address, ui2)
    lg2 = term2.logic
    try:
        v = lg2.view()
        assert v.screen == "main" and "张丽娟" in v.staff_line and v.job_no == "TYPED-OFFLINE"
        assert lg2.draft["service"] == "SB-0103" and not v.online
        state["bus"] = start_bus()
        assert ui2.until(lambda: lg2.connected and lg2.win is not None)
        assert lg2.screen() == "main" and lg2.view().btn["call_next"].enabled
        assert lg2.view().job_no == "TYPED-OFFLINE"
    finally:
        term2.stop()
        dispenser.stop()
        kiosk.stop()


def test_a_finish_done_while_the_server_is_down_is_delivered_once_at_its_time(hall, demo) -> None:
    root, hub, address, state, start_bus = hall
    new_node_key(root, "terminal-3")
    ui = UiThread()
    term = terminal(root, demo, address, ui)
    lg = term.logic
    dispenser = node(root, address, "dispenser-1")
    try:
        assert ui.until(lambda: lg.connected)
        for key in ("2", "1", "0", "3", "enter", "1", "2", "3", "4", "enter"):
            lg.key(key)
        assert ui.until(lambda: lg.screen() == "main"), lg.message
        assert dispenser.call("queue.take", {"category": "A"})["ok"]
        assert ui.until(lambda: lg.view().queues[0]["waiting"] == "1")
        assert lg.key("f1") and ui.until(lambda: lg.win_state() == "calling" and not lg.pending)
        assert lg.key("f7") and ui.until(lambda: lg.win_state() == "serving" and not lg.pending)
        started_ms = hub.db.execute("SELECT started_ms FROM jobs").fetchone()[0]

        state["bus"].stop()                                  # the hall server goes away
        state["bus"] = None
        assert ui.until(lambda: not lg.connected, 5)
        lg.set_search("异地就医")
        lg.choose_first()
        assert lg.key("f8"), lg.message                      # 办结 offline
        done_ms = lg.queued_offline()[0]["body"]["done_ms"]
        assert lg.win_state() == "idle" and "办结" in lg.view().banner
        assert not lg.view().btn["call_next"].enabled
        time.sleep(1.5)                                      # the outage lasts
        state["bus"] = start_bus()                           # the server returns: the outbox is delivered
        assert ui.until(lambda: lg.connected and not lg.pending and lg.last_case is not None, 15), lg.message
        rows = hub.db.execute("SELECT status, finished_ms, handle_ms FROM jobs").fetchall()
        assert len(rows) == 1 and rows[0][0] == "finished"
        assert rows[0][1] == done_ms and rows[0][2] == done_ms - started_ms      # at the clerk's time
        applied = hub.db.execute("SELECT COUNT(*) FROM applied WHERE type = 'job.finish'").fetchone()[0]
        assert applied == 1
        assert lg.view().banner == "" and lg.last_case["job_no"]
    finally:
        term.stop()
        dispenser.stop()
