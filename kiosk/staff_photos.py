"""Staff photos from the hall server (亮身份 without a restart).

`window/<n>.staff.photo` names a photo on the hall server's HTTP side (`/staff-photos/<file>`,
public, only files the staff list names). `PhotoCache.local(path)` answers at once, on any thread:
the photo's file on this kiosk's disk once it is there, else None (the screen shows the clerk's
photo from the kiosk's own configuration folder, or a placeholder, meanwhile). The first time a
file is named in this process, one background thread (never Kivy's) downloads it with a timeout
and a size cap, checks it with Pillow (JPEG or PNG, sane pixel sizes, the whole image decodable)
and writes it under the cache folder as `<content hash>-<file>`; `on_ready(file)` then tells the
app to redraw. The server names an uploaded photo by its content (`staff-<who>-<hash>.jpg`), so a
new photo is a new file; a photo imported from a hall folder keeps its folder name, so a cached
file is shown at once and fetched again once per run (a changed photo gets a new local name:
Kivy caches textures by file name). A failed download (unreachable, 404, not an image, too large)
is logged once per file and tried again after `retry_s`; nothing is raised to the caller.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from PIL import Image, UnidentifiedImageError

log = logging.getLogger("kiosk.photos")

PHOTO_ROUTE = "/staff-photos/"
MAX_PHOTO_BYTES = 2 * 1024 * 1024       # the server's photos are at most 480×640 JPEGs (~100 KiB)
MAX_PHOTO_SIDE_PX = 4096
MIN_PHOTO_SIDE_PX = 16
IMAGE_FORMATS = ("JPEG", "PNG")
FETCH_TIMEOUT_S = 5.0
RETRY_S = 120.0
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class PhotoRejected(ValueError):
    """A download that is not a usable photo (too large, not JPEG/PNG, undecodable)."""


class PhotoUnavailable(OSError):
    """The hall server did not give the photo (unreachable, timeout, an HTTP error)."""


def file_of(photo_path: str) -> str | None:
    """The file name in `/staff-photos/<file>`, or None for anything else (no path escapes)."""
    if not isinstance(photo_path, str) or not photo_path.startswith(PHOTO_ROUTE):
        return None
    name = photo_path[len(PHOTO_ROUTE):]
    return name if FILE_NAME.fullmatch(name) and ".." not in name else None


def check_photo(data: bytes, max_bytes: int = MAX_PHOTO_BYTES) -> None:
    """Raise PhotoRejected unless `data` is a JPEG or PNG of sane size that decodes whole."""
    if len(data) > max_bytes:
        raise PhotoRejected(f"{len(data)} bytes, more than {max_bytes}")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in IMAGE_FORMATS:
                raise PhotoRejected(f"format {probe.format}, not JPEG or PNG")
            w, h = probe.size
            if not (MIN_PHOTO_SIDE_PX <= w <= MAX_PHOTO_SIDE_PX and MIN_PHOTO_SIDE_PX <= h <= MAX_PHOTO_SIDE_PX):
                raise PhotoRejected(f"{w}×{h} px")
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()                      # a truncated file fails here
    except PhotoRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PhotoRejected(f"not a readable image ({type(exc).__name__})") from None


def fetch(url: str, max_bytes: int = MAX_PHOTO_BYTES, timeout_s: float = FETCH_TIMEOUT_S) -> bytes:
    """GET `url`; at most `max_bytes` are read. Raises PhotoUnavailable or PhotoRejected."""
    request = urllib.request.Request(url, headers={"Accept": "image/jpeg, image/png"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:   # noqa: S310 (http only, see base)
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise PhotoRejected(f"{length} bytes announced, more than {max_bytes}")
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise PhotoUnavailable(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise PhotoUnavailable(str(getattr(exc, "reason", exc))) from None
    if len(data) > max_bytes:
        raise PhotoRejected(f"more than {max_bytes} bytes")
    return data


class PhotoCache:
    """Photos of `base_url` + `/staff-photos/<file>`, kept under `folder`; see the module docstring."""

    def __init__(self, base_url: str, folder: Path, on_ready: Callable[[str], None] | None = None, *,
                 max_bytes: int = MAX_PHOTO_BYTES, timeout_s: float = FETCH_TIMEOUT_S, retry_s: float = RETRY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base_url = base_url.rstrip("/")
        self.folder = folder
        self.on_ready = on_ready
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self.clock = clock
        self._lock = threading.Lock()
        self._ready: dict[str, Path] = {}           # file → its local copy
        self._asked: set[str] = set()               # fetched (or being fetched) in this run
        self._failed: dict[str, float] = {}         # file → when it failed last (monotonic)
        self._logged: set[str] = set()              # failures already logged
        self._looked: set[str] = set()              # looked for on disk (a copy from an earlier run)
        self._todo: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.downloads = 0                          # photos fetched and accepted (tests, logs)

    # --- any thread -------------------------------------------------------------------------------

    def local(self, photo_path: str) -> Path | None:
        """The photo's local file, or None for now (its download is started once, in the background)."""
        name = file_of(photo_path)
        if name is None:
            return None
        with self._lock:
            ready = self._ready.get(name)
            if ready is None and name not in self._looked:
                self._looked.add(name)
                ready = self._on_disk(name)
                if ready is not None:
                    self._ready[name] = ready
            failed_s = self._failed.get(name)
            due = name not in self._asked and (failed_s is None or self.clock() - failed_s >= self.retry_s)
            if due:
                self._asked.add(name)
        if due:
            self._start()
            self._todo.put(name)
        return ready

    def failed(self, photo_path: str) -> bool:
        name = file_of(photo_path)
        with self._lock:
            return name is not None and name in self._failed

    def stop(self) -> None:
        if self._thread is not None:
            self._todo.put(None)
            self._thread.join(1.0)             # a hanging download does not hold the app's exit (daemon thread)
            self._thread = None

    # --- the download thread ----------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="staff-photos", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            name = self._todo.get()
            if name is None:
                return
            try:
                changed = self._download(name)
            except (PhotoUnavailable, PhotoRejected, OSError) as exc:
                self._fail(name, exc)
                continue
            except Exception as exc:        # noqa: BLE001 — a photo must never stop the kiosk
                self._fail(name, exc)
                continue
            if changed and self.on_ready is not None:
                try:
                    self.on_ready(name)
                except Exception:           # noqa: BLE001
                    log.exception("staff photo %s: the screen could not take it", name)

    def _download(self, name: str) -> bool:
        data = fetch(f"{self.base_url}{PHOTO_ROUTE}{name}", self.max_bytes, self.timeout_s)
        check_photo(data, self.max_bytes)
        digest = hashlib.sha256(data).hexdigest()[:16]
        target = self.folder / f"{digest}-{name}"
        with self._lock:
            self._failed.pop(name, None)
            self._logged.discard(name)
            if self._ready.get(name) == target and target.is_file():
                return False
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        for old in self.folder.glob(f"*-{name}"):
            if old != target and old.name[16:17] == "-":
                old.unlink(missing_ok=True)
        with self._lock:
            self._ready[name] = target
            self.downloads += 1
        log.info("staff photo %s: downloaded (%d bytes)", name, len(data))
        return True

    def _fail(self, name: str, exc: BaseException) -> None:
        with self._lock:
            self._failed[name] = self.clock()
            self._asked.discard(name)
            first = name not in self._logged
            self._logged.add(name)
        if first:
            log.warning("staff photo %s from %s: %s; the placeholder shows", name, self.base_url, exc)

    def _on_disk(self, name: str) -> Path | None:
        """A copy from an earlier run (the newest, if a photo changed under the same name)."""
        try:
            found = [p for p in self.folder.glob(f"*-{name}") if p.name[16:17] == "-" and p.is_file()]
        except OSError:
            return None
        return max(found, key=lambda p: p.stat().st_mtime) if found else None
