"""Colours and sizes of the kiosk screens, as plain data (tested without a window).

Elderly citizens are the design centre: every text/background pair has a contrast of at least
7:1 (WCAG AAA), buttons are at least 15 mm at the configured screen density, body text is at
least 24 px.
"""

from __future__ import annotations

MIN_BUTTON_MM = 15.0
MIN_BODY_PX = 24
MIN_CONTRAST = 7.0

# Font sizes in px.
BODY_PX = 28
SMALL_PX = 24
TITLE_PX = 40
HUGE_PX = 120

WHITE = "#FFFFFF"
INK = "#111111"          # body text
BACKGROUND = "#FFFFFF"
PANEL = "#F2F2F2"
BANNER = "#7A0000"       # offline banner (white text)
ACCENT = "#0B3D91"       # titles, primary buttons (white text)
MUTED_INK = "#3A3A3A"    # secondary text on white / panel
STAR = "#6B4500"         # star glyphs on white
SELECTED = "#0B3D91"     # a selected tag chip (white text)
CHIP = "#E6E6E6"         # an unselected tag chip (ink text)
DISABLED = "#555555"     # a button that cannot be used now (white text)

# One colour per rating level, white text on each.
LEVEL_COLOURS: dict[int, str] = {
    5: "#1B5E20",   # dark green
    4: "#215A3A",   # green-teal
    3: "#1F3F6E",   # dark blue
    2: "#8A3B00",   # dark orange-brown
    1: "#8B0000",   # dark red
}

# Every (foreground, background) pair used on a screen; a test checks each one.
PAIRS: tuple[tuple[str, str], ...] = (
    (INK, BACKGROUND), (INK, PANEL), (MUTED_INK, BACKGROUND), (MUTED_INK, PANEL), (WHITE, BANNER),
    (WHITE, ACCENT), (STAR, BACKGROUND), (STAR, PANEL), (WHITE, SELECTED), (INK, CHIP), (WHITE, DISABLED),
    (ACCENT, BACKGROUND), (ACCENT, PANEL), (BANNER, BACKGROUND),
    *((WHITE, c) for c in LEVEL_COLOURS.values()),
)


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    r, g, b, _ = rgba(hex_colour)
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two colours (1..21)."""
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def mm_to_px(mm: float, dpi: float) -> float:
    return mm / 25.4 * dpi


def button_px(dpi: float, mm: float = MIN_BUTTON_MM) -> int:
    """The smallest button side in px for `mm` millimetres at `dpi` (rounded up)."""
    return int(mm_to_px(mm, dpi) + 0.999)
