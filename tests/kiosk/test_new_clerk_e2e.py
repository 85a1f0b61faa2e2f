"""Issue 14, the evaluator's side of "add a clerk in the browser, who then signs in at a terminal and
appears on the evaluator without a restart": a real `python -m hall_server` process; the clerk (a
rare-character name, a photo) and a new tag version are added through the 管理 pages over HTTP (a
manager's session, CSRF, multipart upload); the clerk signs in at window 6's terminal (a HallClient
on the real bus); window 6's evaluator — its logic with the kiosk's own copy of the demo hall folder,
which knows neither — shows the new clerk's name at once and the photo once downloaded, then offers
the new tag version, whose tag the server accepts. A broken photo on the server (not an image, too
large, gone) leaves the placeholder. The headless Kivy app draws the new clerk:
docs/screens/kiosk-identity-new-clerk.png."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
from PIL import Image, ImageDraw

from config.loader import load_hall
from hall_server.web.users import add_user
from hallnet.client import HallClient
from hallnet.keys import load_node_keys
from kiosk.evaluator_logic import Evaluator, Screen
from kiosk.net import rated_jobs_in
from kiosk.staff_photos import MAX_PHOTO_BYTES, PhotoCache, file_of
from tests.conftest import DEMO_HALL, ROOT, ServerProcess, wait_until
from tests.kiosk.conftest import kivy_env
from tests.kiosk.hall import Inbox

pytestmark = pytest.mark.e2e

PW = "manager-password-1"
RARE_NAME = "𠈌𪚥燚"          # CJK Ext B, Ext B, and a rare BMP character
STAFF_NO = "HC3001"
PIN = "246810"
WINDOW = 6
SCREENS = ROOT / "docs" / "screens"


def photo_jpeg() -> bytes:
    """A 900×1200 portrait: a face-coloured oval on a blue backdrop (the server resizes it)."""
    img = Image.new("RGB", (900, 1200), (40, 90, 160))
    d = ImageDraw.Draw(img)
    d.ellipse((270, 220, 630, 700), fill=(230, 190, 160))
    d.rectangle((150, 780, 750, 1200), fill=(30, 30, 40))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert m, html[-500:]
    return m.group(1)


class Hall:
    """The server process, a manager's web session, and nodes on its bus."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.srv = ServerProcess(data=root / "server")
        self.srv.data.mkdir()
        add_user(self.srv.data, "boss", "manager", PW)
        for node in (f"terminal-{WINDOW}", f"kiosk-{WINDOW}", "dispenser-1"):
            self.srv.new_key(node)
        self.srv.start()
        self.web = httpx.Client(base_url=self.srv.http, timeout=10)
        r = self.web.post("/login", data={"user": "boss", "password": PW, "next": "/admin/staff"})
        assert r.status_code == 303, r.text[-500:]
        self.clients: list[HallClient] = []

    def client(self, node: str, outbox: Path, **kw: Any) -> HallClient:
        c = HallClient(node, self.srv.bus, load_node_keys(self.srv.data / "keys" / "issued", node), outbox,
                       heartbeat_s=0.5, silence_s=2.0, resend_s=0.5, **kw).start()
        self.clients.append(c)
        return c

    def post_form(self, path: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> httpx.Response:
        data = {**data, "csrf": csrf_of(self.web.get(path).text)}
        return self.web.post(path, data=data, files=files)

    def close(self) -> None:
        for c in self.clients:
            c.stop()
        self.web.close()
        self.srv.stop()
        self.srv.kill()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    h = Hall(tmp_path_factory.mktemp("new-clerk"))
    try:
        yield h
    finally:
        h.close()


class Kiosk:
    """Window 6's evaluator logic on its own node, as `python -m kiosk` runs it minus the window."""

    def __init__(self, hall: Hall, name: str) -> None:
        self.inbox = Inbox()
        folder = hall.root / name
        self.client = hall.client(f"kiosk-{WINDOW}", folder / "outbox.db", on_change=self.inbox.change,
                                  on_connection=self.inbox.connection, on_reply=self.inbox.reply)
        self.ready: list[str] = []
        self.photos = PhotoCache(hall.srv.http, folder / "staff-photos", self.ready.append)
        self.ev = Evaluator(load_hall(DEMO_HALL), WINDOW, self.client.send, qr_base=hall.srv.http, photos=self.photos)
        self.ev.mark_sent(rated_jobs_in(self.client.outbox))

    def until(self, pred: Callable[[], Any], timeout_s: float = 10.0) -> bool:
        def check() -> bool:
            self.inbox.drain(self.ev)
            self.ev.tick()
            return bool(pred())
        return wait_until(check, timeout_s)

    def close(self, hall: Hall) -> None:
        self.photos.stop()
        self.client.stop()
        hall.clients.remove(self.client)


def add_clerk(hall: Hall) -> None:
    r = hall.post_form("/admin/staff/new", {
        "staff_no": STAFF_NO, "name": RARE_NAME, "department": "区市场监督管理局", "stars": "4",
        "promise": "耐心细致，一次办好", "pin": PIN}, files={"photo": ("photo.jpg", photo_jpeg(), "image/jpeg")})
    assert r.status_code == 303 and "done=added" in r.headers["location"], r.text[-800:]


def server_photo(hall: Hall, path: str) -> Path:
    return next((hall.srv.data / "hall-config" / "photos").glob(file_of(path) or "-"))


def test_a_clerk_added_in_the_browser_shows_with_name_and_photo_without_a_restart(hall: Hall) -> None:
    k = Kiosk(hall, "kiosk-a")
    try:
        assert k.until(lambda: k.ev.connected)
        assert k.ev.view().staff is None                                  # nobody at window 6 yet
        add_clerk(hall)
        terminal = hall.client(f"terminal-{WINDOW}", hall.root / "terminal.db", subscribe=False)
        signed_s = time.monotonic()
        reply = terminal.call("window.sign_in", {"staff_no": STAFF_NO, "pin": PIN}, timeout_s=10)
        assert reply["ok"], reply
        # the name, department, stars and promise at once, from window/6 (the kiosk's folder has no HC3001)
        assert k.until(lambda: k.ev.view().staff is not None and k.ev.view().staff.name == RARE_NAME)
        name_ms = (time.monotonic() - signed_s) * 1000
        s = k.ev.view().staff
        assert (s.staff_no, s.department, s.stars, s.promise) == (STAFF_NO, "区市场监督管理局", 4, "耐心细致，一次办好")
        # the photo once the background download is done (meanwhile: the placeholder, photo None)
        served = k.ev.window_state["staff"]["photo"]
        assert served.startswith("/staff-photos/staff-")
        assert k.until(lambda: k.ev.view().staff.photo is not None)
        print(f"new clerk on the evaluator: name {name_ms:.0f} ms, photo {(time.monotonic() - signed_s) * 1000:.0f} ms "
              "after the sign-in was sent")
        local = k.ev.view().staff.photo
        assert local.read_bytes() == server_photo(hall, served).read_bytes()
        assert local.is_relative_to(hall.root / "kiosk-a" / "staff-photos") and k.ready == [file_of(served)]
        with Image.open(local) as img:
            assert img.format == "JPEG" and img.size[0] <= 480 and img.size[1] <= 640
        assert terminal.call("window.sign_out", {}, timeout_s=10)["ok"]
        assert k.until(lambda: k.ev.view().staff is None)
    finally:
        k.close(hall)


def test_a_new_tag_version_is_offered_without_a_restart_and_accepted(hall: Hall) -> None:
    k = Kiosk(hall, "kiosk-b")
    try:
        assert k.until(lambda: k.ev.connected)
        assert {x.code for x in k.ev.tags.for_level(1)} >= {"N01"} and k.ev.tags.version == 2
        page = hall.web.get("/admin/tags").text
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        r = hall.post_form("/admin/tags", {"version": version, "remove": "N01", "code0": "N09", "text0": "指引不清楚",
                                           "levels0": ["1", "2"]})
        assert r.status_code == 303 and "done=3" in r.headers["location"], r.text[-800:]
        assert k.until(lambda: k.ev.tags.version == 3)
        terminal = hall.client(f"terminal-{WINDOW}", hall.root / "terminal-b.db", subscribe=False)
        dispenser = hall.client("dispenser-1", hall.root / "dispenser.db", subscribe=False)
        assert terminal.call("window.sign_in", {"staff_no": STAFF_NO, "pin": PIN}, timeout_s=10)["ok"]
        assert dispenser.call("queue.take", {"category": "B"}, timeout_s=10)["ok"]
        assert terminal.call("queue.call_next", {}, timeout_s=10)["ok"]
        assert terminal.call("job.start", {}, timeout_s=10)["ok"]
        done = terminal.call("job.finish", {"service_code": "BDC-0101"}, timeout_s=10)
        assert done["ok"], done
        assert k.until(lambda: k.ev.view().screen == Screen.RATE)
        assert k.ev.view().staff.name == RARE_NAME
        assert k.ev.tap_level(2)
        offered = [x.code for x in k.ev.view().tags]
        assert "N09" in offered and "N01" not in offered
        assert ("N09", "指引不清楚") in [(x.code, x.text) for x in k.ev.view().tags]
        k.ev.toggle_tag("N01")                                            # withdrawn: not taken
        k.ev.toggle_tag("N09")
        assert k.ev.submit()
        assert wait_until(lambda: k.client.pending_count() == 0, 10)
        db = sqlite3.connect(hall.srv.data / "hall.db")
        try:
            row = db.execute("SELECT r.level, r.tags, r.tag_version FROM ratings r JOIN jobs j ON j.id = r.job_id "
                             "WHERE j.pub = ?", [done["result"]["job"]]).fetchone()
        finally:
            db.close()
        assert row is not None and (row[0], json.loads(row[1]), row[2]) == (2, ["N09"], 3)
        assert terminal.call("window.sign_out", {}, timeout_s=10)["ok"]
    finally:
        k.close(hall)


@pytest.mark.parametrize("broken", ["not_an_image", "too_large", "gone"])
def test_a_broken_photo_on_the_server_leaves_the_placeholder(hall: Hall, broken: str) -> None:
    terminal = hall.client(f"terminal-{WINDOW}", hall.root / f"terminal-{broken}.db", subscribe=False)
    assert terminal.call("window.sign_in", {"staff_no": STAFF_NO, "pin": PIN}, timeout_s=10)["ok"]
    k = Kiosk(hall, f"kiosk-{broken}")
    stored: Path | None = None
    kept = b""
    try:
        assert k.until(lambda: k.ev.view().staff is not None and k.ev.view().staff.name == RARE_NAME)
        served = k.ev.window_state["staff"]["photo"]
        stored = server_photo(hall, served)
        kept = stored.read_bytes()
        if broken == "not_an_image":
            stored.write_bytes(b"<html>oops</html>")
        elif broken == "too_large":
            stored.write_bytes(kept + b"\0" * MAX_PHOTO_BYTES)
        else:
            stored.unlink()
        assert k.until(lambda: k.photos.failed(served))
        for _ in range(5):
            k.ev.tick()
        assert k.ev.view().staff.photo is None and k.ev.view().staff.name == RARE_NAME   # placeholder, no crash
        assert not list((hall.root / f"kiosk-{broken}" / "staff-photos").glob("*"))
    finally:
        if stored is not None:
            stored.write_bytes(kept)
        k.close(hall)
        assert terminal.call("window.sign_out", {}, timeout_s=10)["ok"]


def test_the_evaluator_app_draws_the_new_clerk_with_the_photo(hall: Hall, tmp_path: Path) -> None:
    """The real EvaluatorApp, headless, on the real bus: the identity screen with the new clerk's
    rare-character name and the downloaded photo; the layout check passes."""
    terminal = hall.client(f"terminal-{WINDOW}", hall.root / "terminal-shot.db", subscribe=False)
    assert terminal.call("window.sign_in", {"staff_no": STAFF_NO, "pin": PIN}, timeout_s=10)["ok"]
    out = tmp_path / "kiosk-identity-new-clerk.png"
    try:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "kiosk" / "identity_driver.py"), hall.srv.bus, hall.srv.http,
             str(hall.srv.data / "keys" / "issued"), str(tmp_path / "kiosk"), str(WINDOW), RARE_NAME, str(out)],
            cwd=ROOT, env=kivy_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        proc.wait(60)
        reader.join(5)
        assert lines, proc.stderr.read()[-3000:]
        report = json.loads(lines[-1])
        assert report.get("shot"), (report, proc.stderr.read()[-3000:])
        assert RARE_NAME in report["name"] and report["photo"].endswith(file_of(report["served"]))
        assert report["first_photo_placeholder"] in (True, False)       # shown before the download, if it was slow
        assert not report["problems"], report["problems"]
        assert out.stat().st_size > 10_000
        SCREENS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, SCREENS / "kiosk-identity-new-clerk.png")
    finally:
        assert terminal.call("window.sign_out", {}, timeout_s=10)["ok"]
