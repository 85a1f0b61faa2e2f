"""Receipt layouts for the hall's 80 mm printers: the rating slip and the queue ticket (with the
people ahead, the estimated wait and a QR code to its status page, issue 13).

`slip_blocks(slip)` / `ticket_blocks(ticket)` lay a receipt out as blocks (already wrapped to
the paper width); `slip_bytes` / `ticket_bytes` give the ESC/POS bytes to send.
Labels come from the product's translation table (config.i18n).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from config.i18n import t
from devices.printer.blocks import Align, Block, Feed, Line, Qr
from devices.printer.escpos import COLUMNS_80MM, render

TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Slip:
    """受理/办结 slip with the QR code for rating later."""

    hall_name: str
    window: str                # as shown to citizens, e.g. "3号窗口"
    service: str               # 事项 name
    case_no: str               # 办件编号
    time: datetime             # local time
    rating_url: str
    reprint: bool = False      # 补打: marked on the paper


@dataclass(frozen=True)
class Ticket:
    """A queue ticket from the hall's ticket machine."""

    hall_name: str
    number: str                # e.g. "A012"
    category: str              # e.g. "社保医保"
    waiting_ahead: int
    time: datetime             # local time
    wait_min_minutes: int | None = None     # the estimated wait (issue 13); both None: no estimate
    wait_max_minutes: int | None = None
    status_url: str | None = None           # the ticket's status page (/t/<public id>), printed as a QR code
    estimated: bool = False                 # the hall answered with an estimate (else no wait line)


def wait_text(low: int | None, high: int | None, lang: str = "zh") -> str:
    """The estimated wait as printed and shown on the dispenser (the status page says the same)."""
    if low is None or high is None:
        return t("ticket.wait.unknown", lang)
    if low <= 0:
        return t("ticket.wait.within", lang, hi=high)
    return t("ticket.wait.range", lang, lo=low, hi=high)


def slip_blocks(slip: Slip, lang: str = "zh") -> list[Block]:
    blocks: list[Block] = _centered(slip.hall_name, bold=True, width=2, height=2)
    if slip.reprint:
        blocks += _centered(t("slip.reprint", lang))
    blocks.append(Line(""))
    for key, value in (
        ("slip.window", slip.window),
        ("slip.service", slip.service),
        ("slip.case_no", slip.case_no),
        ("slip.time", slip.time.strftime(TIME_FORMAT)),
    ):
        blocks += [Line(text) for text in wrap(f"{_label(key, lang)}{_colon(lang)}{value}", COLUMNS_80MM)]
    blocks.append(Line(""))
    blocks += _centered(t("rating.scan_qr", lang), bold=True)
    blocks.append(Qr(slip.rating_url, size=6, error="M"))
    blocks += _centered(t("rating.prompt", lang))
    blocks.append(Feed(2))
    return blocks


def ticket_blocks(ticket: Ticket, lang: str = "zh") -> list[Block]:
    blocks: list[Block] = _centered(ticket.hall_name, bold=True)
    blocks.append(Line(""))
    blocks += _centered(ticket.number, bold=True, width=4, height=4)
    blocks += _centered(ticket.category, width=2, height=2)
    blocks.append(Line(""))
    blocks += _centered(t("dispenser.waiting_ahead", lang, n=ticket.waiting_ahead))
    if ticket.estimated:
        blocks += _centered(wait_text(ticket.wait_min_minutes, ticket.wait_max_minutes, lang))
    blocks += _centered(t("dispenser.time", lang, time=ticket.time.strftime(TIME_FORMAT)))
    if ticket.status_url:
        blocks.append(Line(""))
        blocks.append(Qr(ticket.status_url, size=5, error="M"))
        blocks += _centered(t("ticket.print.scan", lang))
    blocks.append(Feed(2))
    return blocks


def slip_bytes(slip: Slip, lang: str = "zh") -> bytes:
    return render(slip_blocks(slip, lang))


def ticket_bytes(ticket: Ticket, lang: str = "zh") -> bytes:
    return render(ticket_blocks(ticket, lang))


def text_width(text: str) -> int:
    """Columns `text` takes in font A: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """Split `text` into lines of at most `columns` columns (character-wise, as CJK wraps)."""
    lines, current, used = [], "", 0
    for char in text:
        width = text_width(char)
        if used + width > columns and current:
            lines.append(current)
            current, used = "", 0
        current += char
        used += width
    lines.append(current)
    return lines


def _centered(text: str, *, bold: bool = False, width: int = 1, height: int = 1) -> list[Block]:
    return [Line(part, Align.CENTER, bold, width, height) for part in wrap(text, COLUMNS_80MM // width)]


def _label(key: str, lang: str) -> str:
    return t(key, lang)


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "
