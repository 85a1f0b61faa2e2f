"""What a receipt is made of: printed lines, QR codes and paper feeds.

Layouts (`receipts.py`) produce these, `escpos.py` turns them into bytes, and the printer
simulator's decoder (`decoder.py`) turns bytes back into them, so a test can compare the two.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Union


class Align(str, Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Line:
    """One printed line; `width`/`height` are character magnifications 1–8."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    width: int = 1
    height: int = 1

    def to_json(self) -> dict[str, object]:
        return {"type": "line", **asdict(self), "align": self.align.value}


@dataclass(frozen=True)
class Qr:
    """A QR code: `data` as text (sent UTF-8), module `size` in dots, error correction L/M/Q/H."""

    data: str
    size: int = 6
    error: str = "M"
    model: int = 2

    def to_json(self) -> dict[str, object]:
        return {"type": "qr", **asdict(self)}


@dataclass(frozen=True)
class Feed:
    lines: int

    def to_json(self) -> dict[str, object]:
        return {"type": "feed", "lines": self.lines}


Block = Union[Line, Qr, Feed]
