"""Colours and sizes of the kiosk screens, as plain data (tested without a window).

Elderly citizens are the design centre: every text/background pair has a contrast of at least
7:1 (WCAG AAA), buttons are at least 15 mm at the configured screen density, body text is at
least 24 px.
"""

from __future__ import annotations

MIN_BUTTON_MM = 15.0
MIN_BODY_PX = 24
MIN_CONTRAST = 7.0

# Font sizes in px at the smallest screen (BASE_LONG_PX x BASE_SHORT_PX, scale 1); the screens
# multiply them by `scale_for(width, height)` (never below 1), so a larger screen gets larger type
# and buttons instead of an island in the middle.
BODY_PX = 24
SMALL_PX = 24
TITLE_PX = 30
HUGE_PX = 72

# Layout sizes in px at scale 1.
PAD_PX = 12              # page padding
GAP_PX = 8               # spacing between blocks
HEADER_PX = 52           # a title row
BUTTON_PX = 96           # a button (about 15 mm at 160 dpi), never below the 15 mm floor (`app.min_button_px`)
KEY_PX = 60              # a keyboard key, never below the 15 mm floor

BASE_LONG_PX = 800       # the smallest supported screen: 800 x 480 landscape (or 480 x 800 portrait)
BASE_SHORT_PX = 480

# The screens every layout is checked at (kiosk/layout_check.py, tests/kiosk/test_layout_sizes.py).
LANDSCAPE_SIZES: tuple[tuple[int, int], ...] = ((800, 480), (1024, 600), (1280, 800), (1920, 1080))
PORTRAIT_SIZES: tuple[tuple[int, int], ...] = ((1080, 1920),)

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


def scale_for(width_px: float, height_px: float) -> float:
    """How much larger than the smallest supported screen this one is (≥ 1): type, buttons and gaps
    are multiplied by it. Landscape and portrait screens are compared by their long and short sides."""
    long_px, short_px = max(width_px, height_px), min(width_px, height_px)
    return max(1.0, min(long_px / BASE_LONG_PX, short_px / BASE_SHORT_PX))


def keyboard_fits(width_px: float, height_px: float, min_button_px: float, scale: float) -> bool:
    """Whether the on-screen pinyin keyboard (10 keys a row, 5 rows of keys) fits with every key at
    least `min_button_px`; if not, the comment screen offers only its QR code (write on one's phone)."""
    key_px = max(min_button_px, KEY_PX * scale)
    gap_px = GAP_PX * scale
    wide_px = 10 * key_px + 9 * gap_px + 2 * PAD_PX * scale
    tall_px = 5 * key_px + 5 * gap_px + 2 * PAD_PX * scale + 2 * HEADER_PX * scale
    return width_px >= wide_px and height_px >= tall_px
