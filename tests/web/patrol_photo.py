"""A phone photo for the patrol tests: a JPEG with the EXIF a phone writes (maker, orientation and a
GPS position), which the server must strip."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def phone_jpeg(width: int = 3000, height: int = 2000) -> bytes:
    img = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6                       # rotate 90° to show upright
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=80)
    return out.getvalue()
