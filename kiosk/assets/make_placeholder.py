"""Writes staff_placeholder.png: what the evaluator shows in place of a clerk's photo while the
hall server's photo downloads, when it failed, or when the clerk has none — a neutral silhouette
on the card's panel colour (3:4, like the server's 480×640 photos).
Run: python kiosk/assets/make_placeholder.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "staff_placeholder.png"
SIZE_PX = (240, 320)
PANEL = (0xE6, 0xE6, 0xE6)
FIGURE = (0x9A, 0x9A, 0x9A)


def main() -> None:
    w, h = SIZE_PX
    img = Image.new("RGB", SIZE_PX, PANEL)
    d = ImageDraw.Draw(img)
    d.ellipse((w * 0.30, h * 0.16, w * 0.70, h * 0.46), fill=FIGURE)             # head
    d.rounded_rectangle((w * 0.14, h * 0.52, w * 0.86, h * 1.05), radius=int(w * 0.28), fill=FIGURE)   # shoulders
    img.save(OUT, "PNG", optimize=True)


if __name__ == "__main__":
    main()
