"""ESC/POS bytes for an 80 mm receipt printer with a GB18030 font (Chinese mode, FS &).

    data = EscPos().init().align(Align.CENTER).size(2, 2).line("政务服务中心").qr(url).cut().to_bytes()

Text is GB18030, so rare characters (生僻字, CJK extensions, 4-byte sequences) reach the
printer intact; control characters in text are replaced by spaces so that data (a name, a
事项 title) can never inject printer commands.
"""

from __future__ import annotations

from typing import Iterable

from devices.printer.blocks import Align, Block, Feed, Line, Qr

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF = 0x0A
PAPER_DOTS_80MM = 576
FONT_A_DOTS = 12
COLUMNS_80MM = PAPER_DOTS_80MM // FONT_A_DOTS         # 48 half-width characters per line

QR_ERROR_LEVELS = {"L": 48, "M": 49, "Q": 50, "H": 51}
QR_MODELS = {1: 49, 2: 50}
# Byte-mode capacity of a version 40 QR code per error level.
QR_MAX_BYTES = {"L": 2953, "M": 2331, "Q": 1663, "H": 1273}
_ALIGN_CODES = {Align.LEFT: 0, Align.CENTER: 1, Align.RIGHT: 2}


class EscPosError(Exception):
    """Base of the ESC/POS builder's errors."""


class BadSetting(EscPosError):
    """A size, alignment, feed or QR parameter out of range."""


class QrTooLong(EscPosError):
    """More QR data than a QR code can hold at this error level."""


class EscPos:
    def __init__(self) -> None:
        self._out = bytearray()

    def to_bytes(self) -> bytes:
        return bytes(self._out)

    def raw(self, data: bytes) -> EscPos:
        self._out += data
        return self

    def init(self) -> EscPos:
        """ESC @ (reset) then FS & (Chinese mode: bytes 0x81–0xFE start GB18030 characters)."""
        return self.raw(bytes((ESC, 0x40, FS, 0x26)))

    def align(self, align: Align) -> EscPos:
        return self.raw(bytes((ESC, 0x61, _ALIGN_CODES[Align(align)])))

    def bold(self, on: bool) -> EscPos:
        return self.raw(bytes((ESC, 0x45, 1 if on else 0)))

    def size(self, width: int = 1, height: int = 1) -> EscPos:
        """GS ! : character magnification 1–8 each way."""
        for name, value in (("width", width), ("height", height)):
            if not 1 <= value <= 8:
                raise BadSetting(f"{name} must be 1–8, got {value}")
        return self.raw(bytes((GS, 0x21, (width - 1) << 4 | (height - 1))))

    def text(self, text: str) -> EscPos:
        return self.raw(printable(text).encode("gb18030", errors="replace"))  # only lone surrogates fail

    def line(self, text: str = "") -> EscPos:
        return self.text(text).raw(bytes((LF,)))

    def feed(self, lines: int) -> EscPos:
        """ESC d n: print and feed n lines."""
        if not 0 <= lines <= 255:
            raise BadSetting(f"feed must be 0–255 lines, got {lines}")
        return self.raw(bytes((ESC, 0x64, lines)))

    def qr(self, data: str | bytes, size: int = 6, error: str = "M", model: int = 2) -> EscPos:
        """The native QR command GS ( k: model, module size, error level, store data, print."""
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if model not in QR_MODELS:
            raise BadSetting(f"QR model must be 1 or 2, got {model}")
        if not 1 <= size <= 16:
            raise BadSetting(f"QR module size must be 1–16, got {size}")
        if error not in QR_ERROR_LEVELS:
            raise BadSetting(f"QR error level must be one of L M Q H, got {error!r}")
        if not payload or len(payload) > QR_MAX_BYTES[error]:
            raise QrTooLong(f"QR data must be 1–{QR_MAX_BYTES[error]} bytes at level {error}, got {len(payload)}")
        self._qr_function(0x41, bytes((QR_MODELS[model], 0)))           # 165: model
        self._qr_function(0x43, bytes((size,)))                         # 167: module size
        self._qr_function(0x45, bytes((QR_ERROR_LEVELS[error],)))       # 169: error correction
        self._qr_function(0x50, b"\x30" + payload)                      # 180: store the data
        return self._qr_function(0x51, b"\x30")                         # 181: print it

    def _qr_function(self, fn: int, params: bytes) -> EscPos:
        n = len(params) + 2                                             # cn fn params
        return self.raw(bytes((GS, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, fn)) + params)

    def cut(self, partial: bool = True, feed_lines: int = 3) -> EscPos:
        """GS V 66/65 n: feed to the cutter (plus n lines) and cut, partially or fully."""
        if not 0 <= feed_lines <= 255:
            raise BadSetting(f"feed must be 0–255, got {feed_lines}")
        return self.raw(bytes((GS, 0x56, 0x42 if partial else 0x41, feed_lines)))

    def blocks(self, blocks: Iterable[Block]) -> EscPos:
        """Print layout blocks, each line with its own alignment, weight and size."""
        for block in blocks:
            if isinstance(block, Line):
                self.align(block.align).bold(block.bold).size(block.width, block.height).line(block.text)
            elif isinstance(block, Qr):
                self.align(Align.CENTER).qr(block.data, block.size, block.error, block.model)
            elif isinstance(block, Feed):
                self.feed(block.lines)
        return self


def render(blocks: Iterable[Block], *, cut: bool = True) -> bytes:
    """A whole document: init, the blocks, back to normal print, and a cut."""
    out = EscPos().init().blocks(blocks).align(Align.LEFT).bold(False).size(1, 1)
    if cut:
        out.cut()
    return out.to_bytes()


def printable(text: str) -> str:
    """`text` with C0/C1 control characters and DEL replaced by spaces."""
    return "".join(" " if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in text)
