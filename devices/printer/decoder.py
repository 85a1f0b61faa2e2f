"""Decode an ESC/POS byte stream back into documents: printed lines, QR payloads, cuts.

Pure and incremental: `feed(bytes)` returns the documents completed by a cut so far; bytes of a
command split across reads wait for the rest. Commands it does not know are reported in the
document's `unknown` list (as hex) and skipped, never raised. Text is decoded as GB18030 in
Chinese mode (FS &) and as code page 437 outside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from devices.printer.blocks import Align, Block, Feed, Line, Qr

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT = 0x0A, 0x0D, 0x09
STATUS_OK = 0x12               # DLE EOT n reply: fixed bits only, no error, online
STATUS_OFFLINE = 0x08          # DLE EOT 1: the printer is off line (e.g. out of paper)
STATUS_PAPER_END = 0x60        # DLE EOT 4: the paper roll sensor sees no paper
STATUS_COVER_OPEN = 0x04       # DLE EOT 2: the cover is open (off line)
STATUS_PAPER_STOP = 0x20       # DLE EOT 2: printing stopped at paper end

_QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}
# Commands with a fixed number of parameter bytes that only change things we do not track.
_ESC_IGNORED = {
    0x20: 1, 0x24: 2, 0x25: 1, 0x2D: 1, 0x32: 0, 0x33: 1, 0x3D: 1, 0x44: -1, 0x47: 1, 0x4A: 1,
    0x4D: 1, 0x52: 1, 0x53: 0, 0x54: 1, 0x56: 1, 0x5C: 2, 0x63: 2, 0x70: 3, 0x74: 1, 0x7B: 1,
}
_GS_IGNORED = {0x42: 1, 0x48: 1, 0x4C: 2, 0x57: 2, 0x66: 1, 0x68: 1, 0x77: 1, 0x61: 1, 0x72: 1, 0x49: 1}
_FS_IGNORED = {0x21: 1, 0x2D: 1, 0x43: 1, 0x53: 2, 0x57: 1, 0x70: 2}
_NEED_MORE = -1


@dataclass
class Document:
    """One receipt as the printer saw it, from the previous cut to this one."""

    items: list[Block] = field(default_factory=list)
    cut: str | None = None     # "full", "partial" or None (not cut)
    unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [item.text for item in self.items if isinstance(item, Line)]

    def qr_payloads(self) -> list[str]:
        return [item.data for item in self.items if isinstance(item, Qr)]

    def to_json(self) -> dict[str, object]:
        return {
            "lines": self.lines(),
            "qr": self.qr_payloads(),
            "items": [item.to_json() for item in self.items],
            "cut": self.cut,
            "unknown": self.unknown,
            "warnings": self.warnings,
        }

    def to_json_line(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)

    @property
    def empty(self) -> bool:
        return not (self.items or self.unknown or self.warnings)


class EscPosDecoder:
    def __init__(self) -> None:
        self._buf = bytearray()
        self._doc = Document()
        self._done: list[Document] = []
        self._responses = bytearray()
        self.paper_out = False          # the simulator's "paper out" switch (status replies only)
        self.cover_open = False         # … and its "off line" switch (cover open)
        self.answers_status = True      # False: DLE EOT goes unanswered (many network printers)
        self._reset_style()
        self._segments: list[tuple[bytes, bool]] = []   # (text bytes, in Chinese mode)
        self._line_style: tuple[Align, bool, int, int] | None = None

    # ----------------------------------------------------------------- API

    def feed(self, data: bytes) -> list[Document]:
        """Decode more bytes; the documents finished (cut) by them."""
        self._buf += data
        pos = 0
        while pos < len(self._buf):
            used = self._step(pos)
            if used == _NEED_MORE:
                break
            pos += used
        del self._buf[:pos]
        done, self._done = self._done, []
        return done

    def flush(self) -> Document | None:
        """End the current document without a cut (idle printer, end of input)."""
        if self._buf:
            self._doc.warnings.append(f"incomplete command at end: {self._buf.hex(' ')}")
            self._buf.clear()
        self._end_line(force=False)
        doc, self._doc = self._doc, Document()
        return None if doc.empty else doc

    def status(self, n: int) -> int:
        """The reply to DLE EOT n: online and no error, unless `paper_out` (then off line, printing
        stopped at paper end, paper end) or `cover_open` (off line, cover open)."""
        out = STATUS_OK
        if self.paper_out:
            out |= {1: STATUS_OFFLINE, 2: STATUS_PAPER_STOP, 4: STATUS_PAPER_END}.get(n, 0)
        if self.cover_open:
            out |= {1: STATUS_OFFLINE, 2: STATUS_COVER_OPEN}.get(n, 0)
        return out

    def take_responses(self) -> bytes:
        """Bytes the printer answers (real-time status requests)."""
        out, self._responses = bytes(self._responses), bytearray()
        return out

    @property
    def busy(self) -> bool:
        """True when a document has started but has not been cut."""
        return bool(self._buf or self._segments or not self._doc.empty)

    # ----------------------------------------------------------------- parsing

    def _step(self, pos: int) -> int:
        """Decode what starts at `pos`; bytes used, or _NEED_MORE."""
        b = self._buf[pos]
        if b == LF:
            self._end_line(force=True)
            return 1
        if b == CR:
            return 1
        if b == HT:
            self._add_text(b"\t")
            return 1
        if b in (ESC, GS, FS, DLE):
            if pos + 1 >= len(self._buf):
                return _NEED_MORE
            handler = {ESC: self._esc, GS: self._gs, FS: self._fs, DLE: self._dle}[b]
            return handler(pos, self._buf[pos + 1])
        if b < 0x20 or b == 0x7F:
            self._doc.unknown.append(f"{b:02x}")
            return 1
        end = pos + 1                                   # a run of text bytes
        while end < len(self._buf) and self._buf[end] >= 0x20 and self._buf[end] != 0x7F:
            end += 1
        self._add_text(bytes(self._buf[pos:end]))
        return end - pos

    def _params(self, pos: int, count: int) -> bytes | None:
        """The `count` bytes after the 2-byte command at `pos`, or None if not all here yet."""
        if pos + 2 + count > len(self._buf):
            return None
        return bytes(self._buf[pos + 2 : pos + 2 + count])

    def _esc(self, pos: int, cmd: int) -> int:
        if cmd == 0x40:                                 # ESC @ initialise
            self._segments = []
            self._line_style = None
            self._reset_style()
            return 2
        if cmd in (0x69, 0x6D):                         # ESC i / ESC m: cut (older printers)
            self._cut("full" if cmd == 0x69 else "partial")
            return 2
        one = {0x21, 0x45, 0x61, 0x64}
        if cmd in one:
            p = self._params(pos, 1)
            if p is None:
                return _NEED_MORE
            n = p[0]
            if cmd == 0x21:                             # ESC ! print mode
                self.bold = bool(n & 0x08)
                self.height = 2 if n & 0x10 else 1
                self.width = 2 if n & 0x20 else 1
            elif cmd == 0x45:
                self.bold = bool(n & 1)
            elif cmd == 0x61:
                self.align = (Align.LEFT, Align.CENTER, Align.RIGHT)[n & 3] if n & 3 < 3 else Align.LEFT
            else:                                       # ESC d n: print and feed n lines
                self._end_line(force=False)
                self._doc.items.append(Feed(n))
            return 3
        return self._ignored(pos, cmd, _ESC_IGNORED)

    def _gs(self, pos: int, cmd: int) -> int:
        if cmd == 0x21:                                 # GS ! size
            p = self._params(pos, 1)
            if p is None:
                return _NEED_MORE
            self.width, self.height = (p[0] >> 4 & 7) + 1, (p[0] & 7) + 1
            return 3
        if cmd == 0x56:                                 # GS V cut
            p = self._params(pos, 1)
            if p is None:
                return _NEED_MORE
            m = p[0]
            used = 3
            if m in (65, 66, 97, 98, 103, 104):         # forms with a feed amount n
                if self._params(pos, 2) is None:
                    return _NEED_MORE
                used = 4
            self._cut("full" if m in (0, 48, 65, 97, 103) else "partial")
            return used
        if cmd == 0x28:                                 # GS ( X pL pH data…
            head = self._params(pos, 3)
            if head is None:
                return _NEED_MORE
            size = head[1] | head[2] << 8
            body = self._params(pos, 3 + size)
            if body is None:
                return _NEED_MORE
            if head[0] == 0x6B:
                self._symbol(body[3:])
            else:
                self._doc.unknown.append(bytes(self._buf[pos : pos + 5]).hex(" "))
            return 5 + size
        if cmd == 0x76:                                 # GS v 0 m xL xH yL yH raster image
            p = self._params(pos, 6)
            if p is None:
                return _NEED_MORE
            size = (p[2] | p[3] << 8) * (p[4] | p[5] << 8)
            if self._params(pos, 6 + size) is None:
                return _NEED_MORE
            self._doc.unknown.append("raster image " + bytes(self._buf[pos : pos + 8]).hex(" "))
            return 8 + size
        if cmd == 0x6B:                                 # GS k barcode
            return self._barcode(pos)
        return self._ignored(pos, cmd, _GS_IGNORED)

    def _fs(self, pos: int, cmd: int) -> int:
        if cmd == 0x26:                                 # FS & Chinese mode on
            self.chinese = True
            return 2
        if cmd == 0x2E:                                 # FS . Chinese mode off
            self.chinese = False
            return 2
        return self._ignored(pos, cmd, _FS_IGNORED)

    def _dle(self, pos: int, cmd: int) -> int:
        if cmd in (0x04, 0x05):                         # DLE EOT n status / DLE ENQ n
            p = self._params(pos, 1)
            if p is None:
                return _NEED_MORE
            if cmd == 0x04 and self.answers_status:
                self._responses.append(self.status(p[0]))
            return 3
        if cmd == 0x14:                                 # DLE DC4 fn m t
            return 5 if self._params(pos, 3) is not None else _NEED_MORE
        self._doc.unknown.append(f"10 {cmd:02x}")
        return 2

    def _ignored(self, pos: int, cmd: int, table: dict[int, int]) -> int:
        count = table.get(cmd)
        if count is None or count < 0:                  # unknown: report, skip the two bytes
            self._doc.unknown.append(bytes(self._buf[pos : pos + 2]).hex(" "))
            return 2
        return 2 + count if self._params(pos, count) is not None else _NEED_MORE

    def _barcode(self, pos: int) -> int:
        p = self._params(pos, 1)
        if p is None:
            return _NEED_MORE
        m = p[0]
        if m <= 6:                                      # NUL-terminated data
            end = self._buf.find(0, pos + 3)
            if end < 0:
                return _NEED_MORE
            used = end + 1 - pos
        else:                                           # length byte then data
            n = self._params(pos, 2)
            if n is None or self._params(pos, 2 + n[1]) is None:
                return _NEED_MORE
            used = 4 + n[1]
        self._doc.unknown.append("barcode " + bytes(self._buf[pos : pos + used]).hex(" "))
        return used

    # ----------------------------------------------------------------- QR (GS ( k, cn 49)

    def _symbol(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 0x31:
            self._doc.unknown.append("2D symbol " + body[:2].hex(" "))
            return
        fn, params = body[1], body[2:]
        if fn == 0x41 and params:                       # model
            self._qr_model = {49: 1, 50: 2}.get(params[0], params[0])
        elif fn == 0x43 and params:                     # module size
            self._qr_size = params[0]
        elif fn == 0x45 and params:                     # error correction
            self._qr_error = _QR_LEVELS.get(params[0], f"?{params[0]}")
        elif fn == 0x50 and params:                     # store data (after m = 0x30)
            self._qr_data = params[1:]
        elif fn == 0x51:                                # print
            self._end_line(force=False)
            try:
                text = self._qr_data.decode("utf-8")
            except UnicodeDecodeError:
                text = self._qr_data.decode("utf-8", errors="replace")
                self._doc.warnings.append("QR data is not UTF-8")
            self._doc.items.append(Qr(text, self._qr_size, self._qr_error, self._qr_model))
        elif fn != 0x52:                                # 0x52: size request, nothing printed
            self._doc.unknown.append(f"QR function {fn:02x}")

    # ----------------------------------------------------------------- text and lines

    def _reset_style(self) -> None:
        self.align, self.bold, self.width, self.height = Align.LEFT, False, 1, 1
        self.chinese = False
        self._qr_model, self._qr_size, self._qr_error, self._qr_data = 2, 3, "L", b""

    def _add_text(self, raw: bytes) -> None:
        if self._line_style is None:
            self._line_style = (self.align, self.bold, self.width, self.height)
        self._segments.append((raw, self.chinese))

    def _end_line(self, *, force: bool) -> None:
        """Emit the pending line (`force`: even when empty, as LF does)."""
        if not self._segments and not force:
            return
        style = self._line_style or (self.align, self.bold, self.width, self.height)
        text = "".join(self._decode(raw, chinese) for raw, chinese in self._merged())
        self._doc.items.append(Line(text, *style))
        self._segments = []
        self._line_style = None

    def _merged(self) -> list[tuple[bytes, bool]]:
        """Adjacent segments in the same mode joined (a character may span two reads)."""
        merged: list[tuple[bytes, bool]] = []
        for raw, chinese in self._segments:
            if merged and merged[-1][1] == chinese:
                merged[-1] = (merged[-1][0] + raw, chinese)
            else:
                merged.append((raw, chinese))
        return merged

    def _decode(self, raw: bytes, chinese: bool) -> str:
        encoding = "gb18030" if chinese else "cp437"
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            self._doc.warnings.append(f"text is not valid {encoding}: {raw.hex(' ')}")
            return raw.decode(encoding, errors="replace")

    def _cut(self, kind: str) -> None:
        self._end_line(force=False)
        self._doc.cut = kind
        self._done.append(self._doc)
        self._doc = Document()
