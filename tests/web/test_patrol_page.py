"""Issue 15: patrols recorded from the phone page (multipart with photos, CSRF, roles); photos
stored resized with no EXIF (no GPS) and served to managers only; findings in the ledger; a patrol
without findings recorded too; a bad photo refused in Chinese with the rest kept."""

from __future__ import annotations

import io
import re

from PIL import Image

from hall_server.domain import ledger
from hall_server.web.users import add_user
from tests.web.conftest import VIEWER_PW, login
from tests.web.patrol_photo import GPS_IFD, phone_jpeg


def _csrf(client) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/patrol?window=1").text)
    assert m
    return m[1]


def test_a_patrol_with_a_photo_lands_in_the_ledger_without_exif(hall_env, client) -> None:
    hall_env.finish(window=1, staff_no="1001")                 # 张三 on duty at window 1
    login(client)
    step1 = client.get("/patrol").text
    assert "张三" in step1 and 'href="/patrol?window=1"' in step1 and "全厅" in step1
    form = client.get("/patrol?window=1").text
    assert 'accept="image/*"' in form and "capture" in form and 'value="1001" selected' in form
    assert "玩手机" in form and "离岗" in form
    csrf = _csrf(client)
    r = client.post("/patrol", data={"csrf": csrf, "window": "1", "kind": "undercover", "announced": "no",
                                     "staff_no": "1001", "findings": ["phone", "dress"], "note": "10:20 看手机"},
                    files=[("photos", ("IMG_0001.jpg", phone_jpeg(), "image/jpeg"))], follow_redirects=False)
    assert r.status_code == 303, r.text[-400:]
    db = hall_env.hub.reader()
    items = [r_ for r_ in ledger.entries(db, hall_env.hub.config, hall_env.site.now_ms(), ledger.Filter(show="all"))
             if r_["source"] == "patrol"]
    assert sorted(i["title"] for i in items) == ["玩手机", "着装不规范"]
    assert all(i["window"] == 1 and i["staff_no"] == "1001" and i["owner"] == "张三" for i in items)
    name = db.execute("SELECT name FROM patrol_photos").fetchone()[0]
    stored = hall_env.site.data_dir / "patrol-photos" / name
    with Image.open(stored) as img:
        assert max(img.size) == 1600 and img.size[1] > img.size[0]       # resized, turned upright
        assert not img.getexif() and not img.getexif().get_ifd(GPS_IFD)
    assert b"Exif" not in stored.read_bytes()[:200] and b"PhoneMaker" not in stored.read_bytes()
    got = client.get(f"/patrol/photos/{name}")
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert f"/patrol/photos/{name}" in client.get("/patrol").text           # the manager sees recent patrols
    assert client.get("/patrol/photos/../../hall.db").status_code == 404
    client.cookies.clear()
    login(client, "watcher", VIEWER_PW)
    assert client.get(f"/patrol/photos/{name}").status_code == 403
    assert client.get("/patrol").status_code == 403


def test_an_inspector_records_a_patrol_without_findings(hall_env, client) -> None:
    add_user(hall_env.site.data_dir, "xunchayuan", "inspector", "inspect-pass-1")
    login(client, "xunchayuan", "inspect-pass-1")
    csrf = _csrf(client)
    r = client.post("/patrol", data={"csrf": csrf, "window": "0", "kind": "daily", "announced": "yes"},
                    files=[("photos", ("", b"", "application/octet-stream"))], follow_redirects=False)
    assert r.status_code == 303
    row = hall_env.hub.reader().execute("SELECT kind, announced, window, node FROM patrols").fetchone()
    assert tuple(row) == ("daily", 1, None, "manager-xunchayuan")
    assert hall_env.hub.reader().execute("SELECT COUNT(*) FROM ledger_items").fetchone()[0] == 0
    photo = hall_env.site.data_dir / "patrol-photos"
    assert not photo.exists() or not list(photo.iterdir())


def test_a_bad_photo_or_form_is_refused_in_chinese_and_nothing_is_lost(hall_env, client) -> None:
    login(client)
    csrf = _csrf(client)
    r = client.post("/patrol", data={"csrf": csrf, "window": "2", "kind": "daily", "announced": "yes",
                                     "findings": ["hygiene"], "note": "地面有水渍"},
                    files=[("photos", ("notes.txt", b"not a photo at all", "image/jpeg"))])
    assert r.status_code == 422 and "不是可识别的照片" in r.text and "地面有水渍" in r.text
    assert 'value="hygiene" checked' in r.text
    assert hall_env.hub.reader().execute("SELECT COUNT(*) FROM patrols").fetchone()[0] == 0
    r = client.post("/patrol", data={"csrf": csrf, "window": "2", "kind": "daily", "announced": "yes"})
    assert r.status_code == 400 and "<html" in r.text                     # not multipart: a page, no traceback
    r = client.post("/patrol", data={"window": "2", "kind": "daily", "announced": "yes"},
                    files=[("photos", ("a.jpg", phone_jpeg(), "image/jpeg"))])
    assert r.status_code == 403                                            # no CSRF token
    r = client.post("/patrol", data={"csrf": csrf, "window": "2", "kind": "daily", "announced": "yes"},
                    files=[("photos", ("a.jpg", phone_jpeg(), "image/jpeg"))],
                    headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    assert hall_env.hub.reader().execute("SELECT COUNT(*) FROM patrols").fetchone()[0] == 0


def test_photo_limits_are_checked_before_decoding(tmp_path) -> None:
    from PIL import Image as PILImage

    from hall_server.web.pages.patrol_photos import PhotoError, store_photo

    big = io.BytesIO()
    PILImage.new("1", (8000, 8000)).save(big, "PNG")          # 64 megapixels in a few kB: refused unopened
    for data, code in ((big.getvalue(), "too_large"), (b"\xff\xd8" + b"\0" * (2 * 1024 * 1024), "too_large"),
                       (b"GIF89a-not-really", "not_image")):
        try:
            store_photo(data, tmp_path / "photos", 1, 1600, "x")
        except PhotoError as exc:
            assert exc.code == code
        else:
            raise AssertionError(code)
    assert not (tmp_path / "photos").exists()
