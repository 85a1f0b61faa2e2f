"""Draw the placeholder staff photos of the demo hall (run once; the PNGs are committed).

    .venv/bin/python demo/make_photos.py [HALL_DIR]

For every staff member in HALL_DIR/staff.toml (default: the demo hall) it writes the file named
by `photo`: a 240x320 portrait with a coloured background, a silhouette and the 工号.
The picture depends only on the staff number, so running it again changes nothing.
"""

from __future__ import annotations

import sys
import tomllib
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = (240, 320)
# Calm background / silhouette colour pairs, like ID-photo backdrops.
PALETTE = [
    ((66, 133, 196), (214, 229, 245)),
    ((52, 120, 110), (208, 232, 226)),
    ((120, 96, 160), (226, 218, 240)),
    ((176, 92, 76), (244, 222, 214)),
    ((84, 110, 122), (220, 228, 232)),
    ((150, 120, 60), (240, 230, 206)),
]


def draw_photo(staff_no: str) -> Image.Image:
    background, figure = PALETTE[zlib.crc32(staff_no.encode("ascii")) % len(PALETTE)]
    image = Image.new("RGB", SIZE, background)
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    draw.ellipse((width / 2 - 52, 62, width / 2 + 52, 176), fill=figure)              # head
    draw.ellipse((width / 2 - 100, 186, width / 2 + 100, 386), fill=figure)           # shoulders
    draw.rectangle((0, height - 52, width, height), fill=(255, 255, 255))
    font = ImageFont.load_default(size=30)
    draw.text((width / 2, height - 26), staff_no, fill=background, font=font, anchor="mm")
    return image


def main(hall_dir: Path) -> None:
    with open(hall_dir / "staff.toml", "rb") as f:
        staff = tomllib.load(f)["staff"]
    for member in staff:
        if "photo" not in member:
            continue
        path = hall_dir / member["photo"]
        path.parent.mkdir(parents=True, exist_ok=True)
        draw_photo(member["staff_no"]).save(path, optimize=True)
        print(path)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "config" / "examples" / "demo-hall")
