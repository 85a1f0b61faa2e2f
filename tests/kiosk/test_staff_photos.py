"""The evaluator's staff photo download (`kiosk.staff_photos.PhotoCache`) against a real HTTP server
on loopback: a photo is fetched in the background and kept on disk (found at once by the next run),
a changed photo gets a new local file, and a broken one (404, not an image, too large, truncated,
a GIF, an unreachable server) is refused, logged once, tried again later, never raised."""

from __future__ import annotations

import io
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from PIL import Image

from kiosk.evaluator_view import staff_card
from kiosk.staff_photos import MAX_PHOTO_BYTES, PhotoCache, PhotoRejected, check_photo, file_of
from tests.conftest import free_port, wait_until


def image(size: tuple[int, int] = (120, 160), fmt: str = "JPEG", colour: tuple[int, int, int] = (200, 120, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


class Photos(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        name = self.path.removeprefix("/staff-photos/")
        data = self.files.get(name) if self.path.startswith("/staff-photos/") else None
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_a: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Photos.files, Photos.hits = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Photos)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class Now:
    def __init__(self) -> None:
        self.s = 100.0

    def __call__(self) -> float:
        return self.s


def test_a_photo_is_downloaded_in_the_background_and_kept_for_the_next_run(server: str, tmp_path: Path) -> None:
    Photos.files["staff-ab-123.jpg"] = good = image()
    ready: list[str] = []
    cache = PhotoCache(server, tmp_path / "photos", ready.append)
    try:
        assert cache.local("/staff-photos/staff-ab-123.jpg") is None          # at once: not there yet
        assert wait_until(lambda: cache.local("/staff-photos/staff-ab-123.jpg") is not None, 5)
        assert ready == ["staff-ab-123.jpg"]
        local = cache.local("/staff-photos/staff-ab-123.jpg")
        assert local.read_bytes() == good and local.parent == tmp_path / "photos"
        assert Photos.hits == ["/staff-photos/staff-ab-123.jpg"]              # once, however often asked
    finally:
        cache.stop()
    # the next run (a kiosk restart, the server unreachable): the kept copy shows at once
    later = PhotoCache(f"http://127.0.0.1:{free_port()}", tmp_path / "photos")
    try:
        assert later.local("/staff-photos/staff-ab-123.jpg") == local
        assert wait_until(lambda: later.failed("/staff-photos/staff-ab-123.jpg"), 5)
        assert later.local("/staff-photos/staff-ab-123.jpg") == local        # a failed refresh keeps the copy
    finally:
        later.stop()


def test_a_photo_changed_under_the_same_name_gets_a_new_local_file(server: str, tmp_path: Path) -> None:
    Photos.files["HC2101.png"] = image(fmt="PNG")
    first = PhotoCache(server, tmp_path)
    assert wait_until(lambda: first.local("/staff-photos/HC2101.png") is not None, 5)
    old = first.local("/staff-photos/HC2101.png")
    first.stop()
    Photos.files["HC2101.png"] = image(fmt="PNG", colour=(10, 20, 30))      # re-imported with the server stopped
    ready: list[str] = []
    second = PhotoCache(server, tmp_path, ready.append)
    try:
        assert second.local("/staff-photos/HC2101.png") == old               # the old one meanwhile
        assert wait_until(lambda: ready == ["HC2101.png"], 5)
        new = second.local("/staff-photos/HC2101.png")
        assert new != old and new.read_bytes() == Photos.files["HC2101.png"] and not old.exists()
    finally:
        second.stop()


@pytest.mark.parametrize("name, data", [
    ("missing.jpg", None),                                          # 404
    ("text.jpg", b"<html>not an image</html>"),
    ("huge.jpg", b"\xff\xd8" + b"\0" * MAX_PHOTO_BYTES),              # over the size cap
    ("cut.jpg", image((300, 400))[:300]),                            # truncated
    ("anim.jpg", image(fmt="GIF")),                                  # not JPEG or PNG
    ("tiny.jpg", image((4, 4))),
])
def test_a_broken_photo_is_refused_logged_once_and_tried_again_later(server: str, tmp_path: Path, caplog, demo,
                                                                      name: str, data: bytes | None) -> None:
    if data is not None:
        Photos.files[name] = data
    now = Now()
    cache = PhotoCache(server, tmp_path, retry_s=60, clock=now)
    path = f"/staff-photos/{name}"
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.photos"):
            assert cache.local(path) is None
            assert wait_until(lambda: cache.failed(path), 5)
            assert cache.local(path) is None and len(Photos.hits) == 1     # not again before retry_s
            now.s += 61
            assert cache.local(path) is None
            assert wait_until(lambda: len(Photos.hits) == 2 and cache.failed(path), 5)
        assert len([r for r in caplog.records if name in r.getMessage()]) == 1     # logged once
        assert not list(tmp_path.glob(f"*{name}*"))
        # what the evaluator shows: a clerk the kiosk's config does not know gets the placeholder
        card = {"staff_no": "HC3001", "name": "𠈌𪚥燚", "department": "区市场监督管理局", "stars": 4,
                "promise": "", "photo": path}
        assert staff_card(demo, card, cache).photo is None
    finally:
        cache.stop()


def test_only_staff_photo_paths_are_fetched() -> None:
    assert file_of("/staff-photos/staff-1a2b-3c4d.jpg") == "staff-1a2b-3c4d.jpg"
    for bad in ("/staff-photos/../hall.db", "/staff-photos/a/b.jpg", "/staff-photos/", "/etc/passwd",
                "/staff-photos/.hidden", "/staff-photos/a b.jpg", "", None):
        assert file_of(bad) is None, bad  # type: ignore[arg-type]
    check_photo(image())
    with pytest.raises(PhotoRejected):
        check_photo(image(), max_bytes=100)


def test_the_card_prefers_the_server_and_falls_back_to_the_config(demo, tmp_path: Path) -> None:
    class Ready:
        def __init__(self, path: Path | None) -> None:
            self.path = path

        def local(self, _photo: str) -> Path | None:
            return self.path

    mine = demo.staff_member("HC2101")
    downloaded = tmp_path / "x-staff.jpg"
    downloaded.write_bytes(image())
    card = {"staff_no": "HC2101", "name": "王𬀩", "department": "新部门", "stars": 2, "promise": "",
            "photo": "/staff-photos/staff.jpg"}
    c = staff_card(demo, card, Ready(downloaded))
    assert (c.name, c.department, c.stars, c.promise, c.photo) == ("王𬀩", "新部门", 2, "", downloaded)
    assert staff_card(demo, card, Ready(None)).photo == mine.photo             # downloading: the kiosk's own
    assert staff_card(demo, {**card, "photo": ""}, Ready(downloaded)).photo is None   # the server says: none
    older = {k: v for k, v in card.items() if k not in ("photo", "promise")}        # an older server's card
    c = staff_card(demo, {**older, "name": ""}, None)
    assert (c.name, c.promise, c.photo) == (mine.name, mine.promise, mine.photo)
