"""Checks a laid-out kiosk screen the way an elderly citizen would meet it, from its widget tree.

After layout, every visible widget (opacity > 0, non-zero size) under the root must:
- lie inside the window, and inside its parent layout (a child sticking out of its box is what
  draws one text over another: the staff name over the title);
- not intersect a visible sibling (two buttons, two labels, a label and an image);
- if it is a label with text: its rendered texture fits in it (text that does not fit overflows,
  e.g. wraps into more lines than its box holds), its font is at least `min_font_px` (markup
  `[size=N]` included), every character has a glyph and rare ones (CJK Ext B+, DOMAIN R13) are
  drawn by the SC fallback face;
- if it is a usable button: both sides at least `min_button_px` (15 mm at the hall's dpi), and a
  short text (each line at most `SHORT_LINE_CHARS` characters without spaces: 非常不满意, ★★★★★, 7) is
  not broken over two lines. Texts from the configuration (tags, categories) set `may_wrap`.

`check(root, ...)` returns a `LayoutReport`; its `problems` are plain sentences saying which
widget and by how much, so a failing test says what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from config.fonts import fallback_for, missing

MARKUP_RE = re.compile(r"\[/?[a-z]+(=[^\]]*)?\]")
SIZE_RE = re.compile(r"\[size=(\d+(?:\.\d+)?)\]")
TOLERANCE_PX = 1.0
SHORT_LINE_CHARS = 6

Rect = tuple[float, float, float, float]          # x0, y0, x1, y1 in window coordinates


@dataclass
class LayoutReport:
    buttons: int = 0
    smallest_button_px: float | None = None
    smallest_font_px: float | None = None
    texts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"buttons": self.buttons, "smallest_button_px": self.smallest_button_px,
                "smallest_font_px": self.smallest_font_px, "texts": self.texts, "problems": self.problems}


def plain_text(markup: str) -> str:
    return MARKUP_RE.sub("", markup).replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")


def rect_of(w: Any) -> Rect:
    x, y = w.to_window(w.x, w.y)
    return (x, y, x + w.width, y + w.height)


def name_of(w: Any) -> str:
    text = plain_text(str(getattr(w, "text", "") or "")).replace("\n", " ").strip()
    return f"{type(w).__name__} {text[:16]!r}" if text else type(w).__name__


def _overlap(a: Rect, b: Rect) -> tuple[float, float]:
    return min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])


def _shown(w: Any) -> bool:
    return getattr(w, "opacity", 1) > 0 and w.width > 0 and w.height > 0


def visible_tree(root: Any) -> Iterator[Any]:
    """`root` and every widget under it that is drawn (a hidden widget hides its children)."""
    if not _shown(root):
        return
    yield root
    for child in reversed(root.children):          # Kivy keeps children last-added first
        yield from visible_tree(child)


def _lines(w: Any) -> list[Any] | None:
    return getattr(getattr(w, "_label", None), "_cached_lines", None)


def _rendered_lines(w: Any) -> int | None:
    lines = _lines(w)
    return len(lines) if lines is not None else None


def _cut(w: Any, text: str) -> str | None:
    """Why a label's text is not all drawn (a fixed `text_size` height too small for its lines, or
    lines dropped), or None. Labels that shorten on purpose (`shorten`, `max_lines`) are not cut."""
    lines = _lines(w)
    if lines is None or getattr(w, "shorten", False) or getattr(w, "max_lines", 0):
        return None
    box_h = w.text_size[1] if w.text_size else None
    lines_h = sum(line.h for line in lines)
    if box_h is not None and lines_h > box_h + TOLERANCE_PX:
        return f"{len(lines)} lines of {lines_h:.0f} px in a {box_h:.0f} px box"
    drawn = sum(len("".join("".join(word.text for word in line.words).split())) for line in lines)
    wanted = len("".join(text.split()))
    if drawn < wanted:
        return f"{drawn} of its {wanted} characters drawn"
    return None


def check(root: Any, *, window_size: tuple[float, float], min_button_px: float, min_font_px: float = 24) -> LayoutReport:
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.layout import Layout

    report = LayoutReport()
    win_w, win_h = window_size
    smallest_button = smallest_font = float("inf")
    t = TOLERANCE_PX
    for w in visible_tree(root):
        r = rect_of(w)
        if r[0] < -t or r[1] < -t or r[2] > win_w + t or r[3] > win_h + t:
            report.problems.append(f"{name_of(w)} leaves the {win_w:.0f}x{win_h:.0f} screen: "
                                   f"x {r[0]:.0f}..{r[2]:.0f}, y {r[1]:.0f}..{r[3]:.0f}")
        parent = w.parent
        if parent is not None and isinstance(parent, Layout) and w is not root:
            p = rect_of(parent)
            if r[0] < p[0] - t or r[1] < p[1] - t or r[2] > p[2] + t or r[3] > p[3] + t:
                report.problems.append(f"{name_of(w)} sticks out of its {type(parent).__name__} "
                                       f"({w.width:.0f}x{w.height:.0f} at {r[0]:.0f},{r[1]:.0f} in "
                                       f"{parent.width:.0f}x{parent.height:.0f} at {p[0]:.0f},{p[1]:.0f})")
        siblings = [c for c in reversed(w.children) if _shown(c)]
        for i, a in enumerate(siblings):
            ra = rect_of(a)
            for b in siblings[i + 1:]:
                dx, dy = _overlap(ra, rect_of(b))
                if dx > t and dy > t:
                    report.problems.append(f"{name_of(a)} and {name_of(b)} overlap by {dx:.0f}x{dy:.0f} px")
        if not isinstance(w, Label) or not str(w.text).strip():
            continue
        text = plain_text(w.text)
        report.texts.append(text)
        sizes = [float(w.font_size)] + [float(s) for s in SIZE_RE.findall(w.text)]
        smallest_font = min(smallest_font, *sizes)
        if min(sizes) + 0.01 < min_font_px:
            report.problems.append(f"{name_of(w)}: text of {min(sizes):.0f} px < {min_font_px:.0f} px")
        tex_w, tex_h = w.texture_size
        if tex_w > w.width + t or tex_h > w.height + t:
            report.problems.append(f"{name_of(w)}: text does not fit, {tex_w:.0f}x{tex_h:.0f} px of text "
                                   f"in {w.width:.0f}x{w.height:.0f} px")
        cut = _cut(w, text)
        if cut:
            report.problems.append(f"{name_of(w)}: text cut off, {cut}")
        if missing(text):
            report.problems.append(f"no glyph for {sorted(missing(text))} in {text!r}")
        rare = [ch for ch in text if ord(ch) > 0x2E7F and fallback_for(ch) is not None]
        if rare and "[font=" not in w.text:
            report.problems.append(f"{rare} shown without its fallback face in {text!r}")
        if not isinstance(w, Button) or w.disabled:
            continue
        report.buttons += 1
        side = min(w.width, w.height)
        smallest_button = min(smallest_button, side)
        if side + 0.5 < min_button_px:
            report.problems.append(f"{name_of(w)} is {w.width:.0f}x{w.height:.0f} px < {min_button_px:.0f} px (15 mm)")
        explicit = text.split("\n")
        lines = _rendered_lines(w)
        if (lines is not None and lines > len(explicit) and not getattr(w, "may_wrap", False)
                and all(len(line) <= SHORT_LINE_CHARS and " " not in line for line in explicit)):
            report.problems.append(f"{name_of(w)}: its text breaks over {lines} lines instead of {len(explicit)}")
    report.smallest_button_px = round(smallest_button, 1) if report.buttons else None
    report.smallest_font_px = smallest_font if smallest_font != float("inf") else None
    return report
