"""What the administration pages need beyond the managers' forms: a guard that also takes a
multipart form (a staff photo), and the photo itself checked, resized and stripped.

`admin_guard(site, roles)` is `auth.guard` for the 管理 pages: a session of one of `roles`, and for
a POST the CSRF token and the origin, with the form parsed from either encoding (urlencoded up to
`site.MAX_FORM_BYTES`, multipart up to `MAX_UPLOAD_BYTES`) onto `request.state.form` (fields) and
`request.state.files` (name → bytes). Each POST also counts against the account's admin rate
limit (`ADMIN_POSTS_PER_MIN`): a runaway script cannot flood the writer with changes.

`store_photo` reads an upload with Pillow (JPEG or PNG only, at most `MAX_PHOTO_PIXELS`), turns it
upright by its EXIF orientation, drops every metadata block (EXIF with its GPS, ICC, comments),
fits it in `PHOTO_SIZE` and writes a JPEG under the store's configuration folder (`photos/`),
named by its content, so a photo is never overwritten in place.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import time
from collections.abc import Awaitable, Callable
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from urllib.parse import parse_qs, quote

from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from config.i18n import t
from hall_server.web.pages.auth import Session, same_origin, session_of
from hall_server.web.pages.layout import message
from hall_server.web.pages.site import MAX_FORM_BYTES, Site, first

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_SIZE = (480, 640)
ADMIN_POSTS_PER_MIN = 60
ADMIN_ROLES = frozenset({"manager", "admin"})


class PhotoError(ValueError):
    """An upload that is not a usable photo; the message is the i18n key of what to tell."""


class UploadError(ValueError):
    """A request body that is not a form of the allowed size."""


Handler = Callable[[Request, Session], Awaitable[Response]]


class PostLimit:
    """At most `per_min` POSTs a minute per account (a sliding minute)."""

    def __init__(self, per_min: int = ADMIN_POSTS_PER_MIN) -> None:
        self.per_min = per_min
        self._seen: dict[str, list[float]] = {}

    def allow(self, who: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        recent = [x for x in self._seen.get(who, []) if x > now - 60.0]
        if len(recent) >= self.per_min:
            self._seen[who] = recent
            return False
        recent.append(now)
        self._seen[who] = recent
        return True


async def read_any_form(request: Request) -> tuple[dict[str, list[str]], dict[str, bytes]]:
    ctype = request.headers.get("content-type", "")
    kind = ctype.split(";")[0].strip().lower()
    limit = MAX_UPLOAD_BYTES + 64 * 1024 if kind == "multipart/form-data" else MAX_FORM_BYTES
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise UploadError("too large")
    if kind == "application/x-www-form-urlencoded" or (not body and not kind):
        try:
            return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100), {}
        except (UnicodeDecodeError, ValueError):
            raise UploadError("not a form") from None
    if kind != "multipart/form-data":
        raise UploadError("not a form")
    msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not msg.is_multipart():
        raise UploadError("not a multipart form")
    fields: dict[str, list[str]] = {}
    files: dict[str, bytes] = {}
    for part in list(msg.iter_parts())[:100]:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            if data:
                files[name] = data
            continue
        try:
            fields.setdefault(name, []).append(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise UploadError("form is not UTF-8") from None
    return fields, files


def admin_guard(site: Site, roles: frozenset[str] = ADMIN_ROLES, limit: PostLimit | None = None
                ) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    posts = limit or PostLimit()

    def wrap(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            s = session_of(site, request)
            if s is None:
                if request.method == "GET":
                    return RedirectResponse("/login?next=" + quote(request.url.path), status_code=303)
                return message(t("web.login.needed"), t("web.login.needed_text"), status=401,
                               hall_name=site.hall_name, kind="error")
            if s.user.role not in roles:
                return message(t("web.forbidden"), t("web.forbidden_text"), status=403, hall_name=site.hall_name,
                               kind="error")
            if request.method == "POST":
                if not posts.allow(s.user.name):
                    return message(t("admin.busy"), t("admin.busy_text"), status=429, hall_name=site.hall_name,
                                   kind="error")
                try:
                    fields, files = await read_any_form(request)
                except UploadError:
                    return message(t("web.bad_form"), t("admin.bad_upload_text"), status=400,
                                   hall_name=site.hall_name, kind="error")
                if not same_origin(request) or not hmac.compare_digest(first(fields, "csrf"), s.csrf):
                    return message(t("web.csrf"), t("web.csrf_text"), status=403, hall_name=site.hall_name,
                                   kind="error")
                request.state.form, request.state.files = fields, files
            return await fn(request, s)

        return endpoint

    return wrap


def store_photo(data: bytes, folder: Path, staff_no: str) -> str:
    """Check, turn upright, strip and resize an uploaded photo; write it under `folder/photos/`.
    Returns its path relative to `folder` (staff.toml's `photo`). Raises PhotoError (an i18n key)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError("admin.photo.too_big")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("JPEG", "PNG"):
                raise PhotoError("admin.photo.format")
            w, h = probe.size
            if w * h > MAX_PHOTO_PIXELS or w < 60 or h < 60:
                raise PhotoError("admin.photo.size")
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            upright = ImageOps.exif_transpose(img)
            rgb = upright.convert("RGB")
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise PhotoError("admin.photo.unreadable") from None
    rgb.thumbnail(PHOTO_SIZE, Image.Resampling.LANCZOS)
    clean = Image.new("RGB", rgb.size)            # a new image: no info, no EXIF, no ICC profile
    clean.paste(rgb)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    blob = out.getvalue()
    who = hashlib.sha256(staff_no.encode("utf-8")).hexdigest()[:8]
    relative = f"photos/staff-{who}-{hashlib.sha256(blob).hexdigest()[:12]}.jpg"
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, target)
    return relative
