"""The slip on the terminal (issue #11): the terminal shows how the gateway's print went and asks
for 补打, and never holds the slip's QR link."""

from __future__ import annotations

from pathlib import Path

from config.i18n import t
from window_terminal.keymap import SHORTCUTS

from .conftest import HubServer, new_logic


def sign_in(srv: HubServer, folder: Path, window: int = 3, staff_no: str = "HC2103"):
    srv.node = f"terminal-{window}"
    lg = srv.attach(new_logic(srv.hub.config, folder, srv.clock, window=window))
    for key in staff_no[-4:] + "\r" + "1234" + "\r":
        lg.key("enter" if key == "\r" else key)
    assert lg.screen() == "main", lg.message
    return lg


def finish(srv: HubServer, lg, category: str = "A") -> None:
    srv.other("queue.take", {"category": category}, "dispenser-1")
    lg.key("f1")
    lg.key("f7")
    lg.choose_service(next(s.code for s in srv.hub.config.services if s.category == category))
    assert lg.key("f8"), lg.message


def test_a_failed_print_is_shown_and_ctrl_p_asks_for_a_reprint(hub_server: HubServer, tmp_path: Path) -> None:
    lg = sign_in(hub_server, tmp_path)
    btn = lg.view().btn["reprint"]
    assert not btn.enabled and btn.reason == t("term.reason_nothing_printed") and SHORTCUTS["reprint"] in btn.label
    finish(hub_server, lg)
    job_no = lg.last_case["job_no"]
    v = lg.view()
    assert (v.slip_line, v.slip_kind) == (t("term.slip.no_gateway", job_no=job_no), "error")   # no gateway yet
    lg.on_state("node/gateway-1", {"alive": True, "since_ms": hub_server.clock.now})
    v = lg.view()
    assert (v.slip_line, v.slip_kind) == (t("term.slip.printing", job_no=job_no), "info")
    lg.on_state("node/gateway-1", {"alive": False, "since_ms": hub_server.clock.now})
    assert lg.view().slip_kind == "error"
    lg.on_state("node/gateway-1", {"alive": True, "since_ms": hub_server.clock.now})
    assert not {"qr_path", "qr_url"} & set(lg.last_case)
    assert "/r/" not in (tmp_path / "terminal-3.state.json").read_text()
    print_id = hub_server.hub.state.get("slips/3")["pending"][0]
    hub_server.other("slip.result", {"print_id": print_id, "ok": False, "error": "no_paper"}, "gateway-1")
    v = lg.view()
    failed = t("term.slip.failed", reason=t("term.slip.err.no_paper"), job_no=job_no)
    assert (v.slip_line, v.slip_kind) == (failed, "error") and "打印机缺纸" in failed
    assert (v.message, v.message_kind) == (failed, "error")           # said loudly, once
    assert v.btn["reprint"].enabled
    assert lg.key("p", ctrl=True)
    assert lg.message == t("term.slip.reprint_sent", job_no=job_no)
    slip = hub_server.hub.state.get("window/3")["slip"]
    assert slip["reprint"] and slip["state"] == "printing"
    assert lg.view().slip_kind == "info"
    again = hub_server.hub.state.get("slips/3")["pending"][0]
    hub_server.other("slip.result", {"print_id": again, "ok": True}, "gateway-1")
    assert lg.view().slip_line == t("term.slip.printed", job_no=job_no)


def test_a_window_without_a_printer_offers_no_reprint(hub_server: HubServer, tmp_path: Path) -> None:
    lg = sign_in(hub_server, tmp_path, window=5, staff_no="HC2105")
    finish(hub_server, lg, category="B")
    v = lg.view()
    assert not v.btn["reprint"].enabled and v.btn["reprint"].reason == t("term.reason_no_printer")
    assert v.slip_line == "" and hub_server.hub.state.get("slips/5") is None
    assert not lg.key("p", ctrl=True)
