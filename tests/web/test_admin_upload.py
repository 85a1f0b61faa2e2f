"""Staff photos as the server stores them (`admin_upload.store_photo`): only JPEG or PNG, checked
sizes, turned upright by their EXIF orientation, every metadata block dropped, at most 480×640;
and the TOML writer the export uses (`config.toml_write`) reading back as it was written."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from config.toml_write import NotTomlable, dumps
from hall_server.web.pages.admin_upload import PhotoError, store_photo


def jpeg(size: tuple[int, int], orientation: int | None = None, fmt: str = "JPEG") -> bytes:
    img = Image.new("RGB", size, (10, 200, 30))
    out = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "SecretCam"
        img.save(out, fmt, exif=exif.tobytes())
    else:
        img.save(out, fmt)
    return out.getvalue()


def test_a_photo_is_turned_upright_stripped_and_resized(tmp_path: Path) -> None:
    relative = store_photo(jpeg((1600, 1200), orientation=6), tmp_path, "HC2101")   # a sideways phone photo
    assert relative.startswith("photos/staff-") and relative.endswith(".jpg")
    with Image.open(tmp_path / relative) as img:
        assert img.format == "JPEG" and img.size == (480, 640)                      # upright: portrait
        assert not img.getexif() and "icc_profile" not in img.info


@pytest.mark.parametrize("data, key", [
    (b"not an image at all", "admin.photo.unreadable"),
    (jpeg((40, 40)), "admin.photo.size"),
    (jpeg((100, 100), fmt="GIF"), "admin.photo.format"),
    (jpeg((300, 400))[:200], "admin.photo.unreadable"),                              # truncated
])
def test_a_bad_upload_is_refused_with_its_message_key(tmp_path: Path, data: bytes, key: str) -> None:
    with pytest.raises(PhotoError) as caught:
        store_photo(data, tmp_path, "HC2101")
    assert str(caught.value) == key
    assert not (tmp_path / "photos").exists() or not list((tmp_path / "photos").iterdir())


def test_the_same_photo_is_stored_once_under_its_content_name(tmp_path: Path) -> None:
    data = jpeg((600, 800))
    assert store_photo(data, tmp_path, "A/../1") == store_photo(data, tmp_path, "A/../1")   # no path in the name
    assert len(list((tmp_path / "photos").iterdir())) == 1


def test_toml_written_reads_back_the_same() -> None:
    doc = {"version": 2, "hall": {"name": "威海\"市\"\n中心\\", "ratio": 0.5, "open": True,
                                  "sessions": [{"start": "09:00", "end": "12:00"}]},
           "tags": [{"code": "N01", "text": "态度\x7f差", "levels": [1, 2], "keypad": {"port": "x y", "address": 3}}],
           "key with space": "v"}
    assert tomllib.loads(dumps(doc)) == doc
    with pytest.raises(NotTomlable):
        dumps({"bad": None})
