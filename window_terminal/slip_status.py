"""The slip on the window terminal: how its print went, and whether 补打 (reprint) may be asked.

The devices gateway prints the slip on the window's printer; the terminal only reads the
token-free `window/<n>.slip` = `{print_id, state: printing/printed/failed/unconfirmed, error, job_no,
reprint, at_ms}` (hall_server/domain/floor.py, slips.py) and sends `slip.reprint {}`. `unconfirmed`:
the gateway cannot tell whether the paper came out; the clerk looks and asks for 补打 if not. It
never holds the slip's bytes nor its QR link (a credential to rate: staff must not rate their own 办件).
"""

from __future__ import annotations

from typing import Any, Callable

PRINT_ERRORS = ("no_paper", "offline", "not_connected", "error", "timeout")
UNCONFIRMED_ERRORS = ("no_status", "interrupted")
KIND = {"printing": "info", "printed": "ok", "failed": "error"}
LOUD = ("failed", "unconfirmed")           # said loudly once, when it happens

Translate = Callable[..., str]


class Gateways:
    """Which devices gateways (the slip printers' drivers) the hall server sees alive (`node/gateway-*`)."""

    def __init__(self) -> None:
        self.alive: dict[str, bool] = {}

    def on_state(self, key: str, value: Any) -> bool:
        """Take a `node/gateway-*` key; False for any other key."""
        if not key.startswith("node/gateway"):
            return False
        self.alive[key] = isinstance(value, dict) and value.get("alive") is True
        return True

    def any_alive(self) -> bool:
        return any(self.alive.values())


def slip_of(win: dict[str, Any] | None) -> dict[str, Any] | None:
    slip = (win or {}).get("slip")
    return slip if isinstance(slip, dict) else None


def line(win: dict[str, Any] | None, tr: Translate, gateway_alive: bool = True) -> tuple[str, str]:
    """(text, kind) for the case panel: kind is info (printing), ok (printed) or error (failed, or
    waiting while no gateway is there to print it)."""
    slip = slip_of(win)
    if slip is None:
        return "", ""
    state = str(slip.get("state") or "")
    job_no = str(slip.get("job_no") or "")
    if state == "printing" and not gateway_alive:
        return tr("term.slip.no_gateway", job_no=job_no), "error"
    if state == "failed":
        error = slip.get("error") if slip.get("error") in PRINT_ERRORS else "error"
        return tr("term.slip.failed", reason=tr(f"slips.reason.{error}"), job_no=job_no), "error"
    if state == "unconfirmed":
        error = slip.get("error") if slip.get("error") in UNCONFIRMED_ERRORS else "no_status"
        return tr("slips.unconfirmed", reason=tr(f"slips.reason.{error}"), job_no=job_no), "error"
    if state in KIND:
        return tr(f"term.slip.{state}", job_no=job_no), KIND[state]
    return "", ""


def newly_failed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """The window's state now shows a print failure (or an unconfirmed print) it did not show
    before (say it loudly once)."""
    old, new = slip_of(before), slip_of(after)
    if new is None or new.get("state") not in LOUD:
        return False
    return old is None or old.get("print_id") != new.get("print_id") or old.get("state") != new.get("state")


def can_reprint(has_printer: bool, win: dict[str, Any] | None, has_last_case: bool) -> tuple[bool, str]:
    """Whether 补打 is offered, else the translation key of why not."""
    if not has_printer:
        return False, "term.reason_no_printer"
    if slip_of(win) is None and not has_last_case:
        return False, "term.reason_nothing_printed"
    return True, ""
