"""The UI fonts, for every screen: the Simplified Chinese face and a fallback for rare characters.

`scripts/prepare_fonts.py` (run by setup) puts NotoSansSC-{Regular,Bold}.otf and cmaps.json in
`.fonts/` at the project root (or $HALL_FONT_DIR). Kivy draws a label with one font and has no
per-character fallback, so `kivy_markup` wraps the characters the SC face lacks (e.g. CJK Ext B
names such as 𠇔, DOMAIN R13) in `[font=…]` spans naming a face that has them.
"""

from __future__ import annotations

import bisect
import json
import os
from functools import lru_cache
from pathlib import Path

FONT_DIR = Path(os.environ.get("HALL_FONT_DIR", Path(__file__).resolve().parent.parent / ".fonts"))


class FontsMissing(RuntimeError):
    """The prepared fonts are not there: run the project's setup (make setup)."""


@lru_cache(maxsize=1)
def _cmaps() -> dict[str, tuple[list[int], list[int]]]:
    path = FONT_DIR / "cmaps.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FontsMissing(f"{path}: {exc}; run `make setup`") from None
    out = {}
    for name, ranges in raw.items():
        out[name] = ([r[0] for r in ranges], [r[1] for r in ranges])
    return out


def _covers(font: str, cp: int) -> bool:
    starts, ends = _cmaps()[font]
    i = bisect.bisect_right(starts, cp) - 1
    return i >= 0 and cp <= ends[i]


def ui_font(bold: bool = False) -> Path:
    path = FONT_DIR / f"NotoSansSC-{'Bold' if bold else 'Regular'}.otf"
    if not path.exists():
        raise FontsMissing(f"{path} is missing; run `make setup`")
    return path


def fallback_for(ch: str) -> str | None:
    """The path of a font that has `ch` when the SC face does not; None if the SC face has it
    (or nothing does)."""
    cp = ord(ch)
    if _covers("NotoSansSC-Regular.otf", cp):
        return None
    for name in _cmaps():
        if name.startswith("/") and _covers(name, cp):
            return name
    return None


def missing(text: str) -> set[str]:
    """Characters no prepared font can draw."""
    return {ch for ch in text if not ch.isspace() and not _covers("NotoSansSC-Regular.otf", ord(ch))
            and fallback_for(ch) is None}


def escape_markup(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def kivy_markup(text: str) -> str:
    """Kivy markup for `text` (escaped) with rare characters sent to a face that has them.

    Use on a Label with `markup: True` and `font_name` = ui_font()."""
    out: list[str] = []
    run_font: str | None = None
    for ch in text:
        font = fallback_for(ch) if ord(ch) > 0x2E7F else None
        if font != run_font:
            if run_font is not None:
                out.append("[/font]")
            if font is not None:
                out.append(f"[font={font}]")
            run_font = font
        out.append(escape_markup(ch))
    if run_font is not None:
        out.append("[/font]")
    return "".join(out)
