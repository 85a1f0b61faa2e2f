"""Steps the terminal's logic tests share: a clerk signed in at a window through the pad, a ticket
taken at the dispenser."""

from __future__ import annotations

from pathlib import Path

from .conftest import HubServer, new_logic

PIN = "1234"


def signed_in(srv: HubServer, folder: Path, staff_no: str = "HC2103", window: int = 3):
    lg = srv.attach(new_logic(srv.hub.config, folder, srv.clock, window=window))
    for key in staff_no[-4:]:
        lg.key(key)
    lg.key("enter")
    for key in PIN:
        lg.key(key)
    lg.key("enter")
    assert lg.screen() == "main", lg.message
    return lg


def take(srv: HubServer, category: str = "A", **kw) -> dict:
    return srv.other("queue.take", {"category": category, **kw}, "dispenser-1")
