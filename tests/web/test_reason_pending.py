"""原因待回访 on the manager's pages: a 差评 whose reason the call-back collects (the kiosk's
walked-away 差评, the keypad's 差评) is marked on the case list, named on the case page and in the
figures' rating export; old keypad records keep their text (按键评价，原因待回访)."""

from __future__ import annotations

from tests.web.conftest import login


def test_the_pending_reason_shows_on_the_case_list_page_and_export(hall_env, client) -> None:
    fin = hall_env.finish()
    hall_env.sync()
    r = hall_env.drv.ok("rating.submit", {"job": fin["job"], "level": 1, "tags": ["REASON_PENDING"]}, "kiosk-1")
    chosen = hall_env.drv.ok("rating.submit", {"job": hall_env.finish()["job"], "level": 2, "tags": ["N01"]}, "kiosk-1")
    login(client)
    lst = client.get("/cases").text
    row = lst[lst.index(f'data-case="{r["case_id"]}"'):]
    row = row[:row.index("</tr>")]
    assert "reason-pending" in row and "原因待回访" in row
    other = lst[lst.index(f'data-case="{chosen["case_id"]}"'):]
    assert "reason-pending" not in other[:other.index("</tr>")]
    page = client.get(f"/cases/{r['case_id']}").text
    assert "原因待回访" in page and "REASON_PENDING" not in page
    exp = client.get("/figures/export.csv?table=ratings").content.decode("utf-8-sig")
    assert "原因待回访" in exp and "REASON_PENDING" not in exp and "N01" in exp


def test_an_old_keypad_record_keeps_its_text(hall_env, client) -> None:
    fin = hall_env.finish()
    hall_env.sync()
    r = hall_env.drv.ok("rating.submit", {"window": 1, "level": 2}, "gateway-1")
    db = hall_env.hub.db
    # a record as keypad 差评 were written before REASON_PENDING (ratings are append-only: a copy)
    cur = db.execute("INSERT INTO ratings (job_id, round, level, channel, tags, tag_version, text, phone, is_default, "
                     "at_ms, node, window, staff_no, service_code) SELECT job_id, 2, level, channel, '[\"KEYPAD\"]', "
                     "tag_version, text, phone, is_default, at_ms, node, window, staff_no, service_code FROM ratings "
                     "WHERE id = ?", [r["rating_id"]])
    db.execute("UPDATE cases SET rating_id = ? WHERE id = ?", [cur.lastrowid, r["case_id"]])
    db.conn.commit()
    assert r["job"] == fin["job"]
    login(client)
    assert "按键评价，原因待回访" in client.get(f"/cases/{r['case_id']}").text
    lst = client.get("/cases").text
    row = lst[lst.index(f'data-case="{r["case_id"]}"'):]
    assert "reason-pending" in row[:row.index("</tr>")]
    exp = client.get("/figures/export.csv?table=ratings").content.decode("utf-8-sig")
    assert "按键评价，原因待回访" in exp
