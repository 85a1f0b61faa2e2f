"""The QR slip (办结通知书) after a 办件 is finished: printed on the window's receipt printer, if
the configuration gives it one. A `sim://…` port is a placeholder (the demo maps it to a
simulator): the terminal skips it with a log line.

Printing runs on its own thread: a slow or missing printer never holds the screen.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Callable
from zoneinfo import ZoneInfo

from config.i18n import t
from config.schema import HallConfig

log = logging.getLogger(__name__)


def rating_url(base: str, case: dict[str, Any]) -> str:
    """The signed link the server gave for this 办件: its full URL when the hall has a public address
    configured, else this terminal's --qr-base + the signed path."""
    if case.get("qr_url"):
        return str(case["qr_url"])
    if case.get("qr_path"):
        return base.rstrip("/") + str(case["qr_path"])
    return base.rstrip("/") + "/" + str(case.get("job"))     # an older server: no signed link


def make_slip(config: HallConfig, window: int, case: dict[str, Any], qr_base: str) -> Any:
    from devices.printer.receipts import Slip

    try:
        service = config.service(case.get("service", "")).name
    except KeyError:
        service = case.get("service", "")
    tz = ZoneInfo(config.hall.timezone)
    at = datetime.fromtimestamp(int(case.get("finished_ms") or 0) / 1000, tz)
    return Slip(hall_name=config.hall.name, window=t("window.number", "zh", number=window), service=service,
                case_no=str(case.get("job_no") or ""), time=at, rating_url=rating_url(qr_base, case))


def print_slip(config: HallConfig, window: int, case: dict[str, Any], qr_base: str,
               open_port: Callable[..., Any] | None = None) -> str:
    """Print the slip now (blocking). Returns what happened: printed / no_printer / simulated / failed."""
    printer = config.window(window).printer
    if printer is None:
        return "no_printer"
    if printer.port.startswith("sim://"):
        log.info("window %s: slip for %s not printed: %s is a placeholder port", window, case.get("job_no"),
                 printer.port)
        return "simulated"
    from devices.printer.port import ReceiptPrinter

    if open_port is None:
        import serial

        open_port = serial.serial_for_url
    try:
        port = open_port(printer.port, baudrate=printer.baud, timeout=1, write_timeout=3)
    except Exception as exc:  # pyserial raises several kinds
        log.error("window %s: printer %s cannot be opened: %s", window, printer.port, exc)
        return "failed"
    try:
        ReceiptPrinter(port).print_slip(make_slip(config, window, case, qr_base))
        return "printed"
    except Exception as exc:
        log.error("window %s: printing on %s failed: %s", window, printer.port, exc)
        return "failed"
    finally:
        try:
            port.close()
        except Exception:
            pass


def print_in_background(config: HallConfig, window: int, case: dict[str, Any], qr_base: str,
                        done: Callable[[str], None] | None = None) -> threading.Thread:
    def run() -> None:
        outcome = print_slip(config, window, case, qr_base)
        if done is not None:
            done(outcome)

    th = threading.Thread(target=run, name=f"slip-{window}", daemon=True)
    th.start()
    return th
