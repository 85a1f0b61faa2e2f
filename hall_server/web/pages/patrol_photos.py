"""Patrol photos from a phone's camera: the multipart form they arrive in, checked and stored.

A photo is accepted only if Pillow reads it as JPEG, PNG, WebP, HEIF-less formats Pillow knows
(`ACCEPTED`), within `[patrol] photo_max_mb` and at most `MAX_PIXELS` pixels (a decompression bomb
is refused before it is decoded). It is turned upright (EXIF orientation), resized to fit
`[patrol] photo_max_px`, and written as a new JPEG with no EXIF at all — no GPS position, no
camera serial — under `DATA/patrol-photos/<32 hex>.jpg`. Only managers are served them
(`patrol_page`).

The multipart body is parsed with the standard library's `email` parser (python-multipart is not
a dependency), after reading at most `max_bytes` of it.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.requests import Request

PHOTO_DIR = "patrol-photos"
ACCEPTED = {"JPEG", "PNG", "WEBP", "MPO", "GIF", "BMP"}
MAX_PIXELS = 50_000_000
MAX_FIELDS = 60


class PhotoError(ValueError):
    """A photo that cannot be stored; `code`: too_large | not_image | too_many."""

    def __init__(self, code: str, filename: str = "") -> None:
        super().__init__(f"{code}: {filename}")
        self.code, self.filename = code, filename


class UploadError(ValueError):
    """The body is not a multipart form (`too_large` False) or is over the size limit (True)."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    data: bytes


async def read_multipart(request: Request, max_bytes: int) -> tuple[dict[str, list[str]], list[Upload]]:
    """The text fields and the files of a multipart/form-data body of at most `max_bytes`."""
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data") or "boundary=" not in ctype:
        raise UploadError("expected multipart/form-data")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise UploadError("too large", too_large=True)
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart():
        raise UploadError("not multipart")
    fields: dict[str, list[str]] = {}
    files: list[Upload] = []
    for n, part in enumerate(msg.iter_parts()):
        if n >= MAX_FIELDS:
            raise UploadError("too many fields")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            if payload:
                files.append(Upload(name, filename[:200], payload))
        else:
            try:
                fields.setdefault(name, []).append(payload.decode("utf-8"))
            except UnicodeDecodeError:
                raise UploadError("field not UTF-8") from None
    return fields, files


def store_photo(data: bytes, folder: Path, max_mb: int, max_px: int, filename: str = "") -> str:
    """Check, resize and store one photo; returns its stored name. Raises PhotoError."""
    if len(data) > max_mb * 1024 * 1024:
        raise PhotoError("too_large", filename)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ACCEPTED:
                raise PhotoError("not_image", filename)
            if img.width * img.height > MAX_PIXELS:
                raise PhotoError("too_large", filename)
            img.load()
            upright = ImageOps.exif_transpose(img)
            rgb = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError, SyntaxError) as exc:
        if isinstance(exc, PhotoError):
            raise
        raise PhotoError("not_image", filename) from None
    rgb.thumbnail((max_px, max_px))
    clean = Image.new("RGB", rgb.size)            # a fresh image: no info, no EXIF, no ICC carried over
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + ".jpg"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(out.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return name


def photo_path(data_dir: Path, name: str) -> Path | None:
    """The stored file of a photo name (`<32 hex>.jpg`), or None for any other name."""
    stem, dot, ext = name.partition(".")
    if len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem) or (dot, ext) != (".", "jpg"):
        return None
    return data_dir / PHOTO_DIR / name
