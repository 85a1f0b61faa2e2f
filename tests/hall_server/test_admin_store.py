"""The store as the hall's configuration (issue 14): first-start import, build, export → check →
import round trip, admin changes applied through the writer with the config swapped after the
commit, state keys republished, audit rows for every change, refusals storing nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.loader import load_hall
from config.pins import hash_pin
from hall_server.core.hub import Hub
from hall_server.domain.hall_config_store import (
    CONFIG_FOLDER, diff_docs, export_folder, folder_docs, load_from_store, seed_from_folder, store_docs,
)
from hallnet.vocabulary import Msg
from tests.conftest import DEMO_HALL, ROOT

T0 = 1_795_400_000_000      # 2026-11-23 (a Monday) around 09:30 in the hall


@pytest.fixture
def hub(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    h = Hub(data / "hall.db", None)  # type: ignore[arg-type]
    assert seed_from_folder(h.db, DEMO_HALL, data / CONFIG_FOLDER, T0)
    h.swap_config(load_from_store(h.db, data / CONFIG_FOLDER))
    yield h
    h.close()


def staff_doc(hub: Hub, staff_no: str) -> dict:
    return next(s for s in store_docs(hub.db)["staff.toml"]["staff"] if s["staff_no"] == staff_no)


def test_the_first_start_imports_the_folder_once_and_builds_the_same_hall(hub: Hub) -> None:
    folder = load_hall(DEMO_HALL)
    assert hub.config.hall == folder.hall and hub.config.windows == folder.windows
    assert hub.config.services == folder.services and hub.config.tags == folder.tags
    assert [s.name for s in hub.config.staff] == [s.name for s in folder.staff]
    assert all(s.photo is not None and s.photo.is_file() and CONFIG_FOLDER in str(s.photo) for s in hub.config.staff)
    assert not seed_from_folder(hub.db, DEMO_HALL, hub.db_path.parent / CONFIG_FOLDER, T0 + 1)   # only when empty
    whos = {r[0] for r in hub.db.execute("SELECT DISTINCT who FROM admin_audit")}
    assert whos == {"first-start"}


def test_export_is_accepted_by_config_check_and_imports_with_no_differences(hub: Hub, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    export_folder(hub.db, hub.db_path.parent / CONFIG_FOLDER, out)
    check = subprocess.run([sys.executable, "-m", "config", "check", str(out)], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert diff_docs(store_docs(hub.db), folder_docs(out)) == []
    assert load_hall(out).staff == tuple(
        s.__class__(**{**s.__dict__, "photo": out / s.photo.relative_to(hub.db_path.parent / CONFIG_FOLDER)})
        for s in hub.config.staff)


def change(hub: Hub, what: str, *items: tuple[str, str, dict], who: str = "boss") -> object:
    return hub.submit(Msg.ADMIN_CHANGE, {"who": who, "what": what, "items": [
        {"kind": k, "key": key, "doc": doc} for k, key, doc in items]}, now_ms=T0 + 60_000)


def test_a_new_clerk_is_in_the_config_at_once_and_audited(hub: Hub) -> None:
    doc = {"staff_no": "HC2999", "name": "𠈌𪚥", "department": "区行政审批服务局", "pin_hash": hash_pin("2468"),
           "stars": 4, "promise": "热情服务"}
    before_seq = hub.state.seq
    r = change(hub, "staff.add", ("staff", "HC2999", doc))
    assert r.ok, r.error
    assert hub.config.staff_member("HC2999").name == "𠈌𪚥"
    assert hub.state.seq > before_seq                     # windows, queues republished
    row = hub.db.execute("SELECT who, what, kind, key, before, after FROM admin_audit ORDER BY id DESC LIMIT 1").fetchone()
    assert row[:4] == ("boss", "staff.add", "staff", "HC2999") and row[4] is None
    assert json.loads(row[5])["name"] == "𠈌𪚥"
    signed = hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2999", "pin": "2468"}, node="terminal-5",
                        now_ms=T0 + 120_000)
    assert signed.ok, signed.error
    card = hub.state.snapshot("window/5")[1]["window/5"]["staff"]
    assert card["name"] == "𠈌𪚥" and card["stars"] == 4 and card["promise"] == "热情服务"


def test_a_refused_change_stores_nothing_and_names_the_problem(hub: Hub) -> None:
    config, seq = hub.config, hub.state.seq
    audits = hub.db.execute("SELECT COUNT(*) FROM admin_audit").fetchone()[0]
    r = change(hub, "window.edit", ("window", "3", {"number": 3, "name": "三号", "categories": ["ZZ"]}))
    assert not r.ok and r.error == "config_refused"
    assert any(p["key"].endswith("categories") for p in r.details["problems"])
    assert hub.config is config and hub.state.seq == seq
    assert hub.db.execute("SELECT COUNT(*) FROM admin_audit").fetchone()[0] == audits
    assert store_docs(hub.db)["windows.toml"]["windows"][2]["name"] != "三号"


def test_a_new_tag_version_is_published_for_the_evaluators(hub: Hub) -> None:
    tags = store_docs(hub.db)["tags.toml"]
    n01 = next(x for x in tags["tags"] if x["code"] == "N01")
    assert change(hub, "tags.version", ("file", "tags.toml", {"version": 3}), ("tag", "N01", {**n01, "removed_in": 3}),
                  ("tag", "N09", {"code": "N09", "text": "指引不清", "levels": [1, 2], "added_in": 3})).ok
    value = hub.state.get("tags")
    assert value["version"] == 3 and {"code": "N09", "text": "指引不清", "levels": [1, 2], "added_in": 3,
                                      "removed_in": None} in value["tags"]
    assert [x.code for x in hub.config.tags.for_level(1)] == ["N02", "N03", "N04", "N05", "N06", "N08", "N09"]
    assert [x.code for x in hub.config.tags.for_level(1, 2)][0] == "N01"        # version 2 still has it


def test_a_disabled_clerk_cannot_sign_in_and_keeps_their_records(hub: Hub) -> None:
    doc = {**staff_doc(hub, "HC2101"), "active": False}
    assert change(hub, "staff.disable", ("staff", "HC2101", doc)).ok
    r = hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2101", "pin": "1234"}, node="terminal-1", now_ms=T0 + 120_000)
    assert not r.ok and r.error == "wrong_pin"
    assert hub.config.staff_member("HC2101").name == "王𬀩"          # still named in old records


def test_a_closed_window_refuses_sign_in_and_its_name_changes_everywhere(hub: Hub) -> None:
    w = store_docs(hub.db)["windows.toml"]["windows"][1]
    assert change(hub, "window.edit", ("window", "2", {**w, "name": "临时窗口", "open": False})).ok
    assert hub.state.snapshot("window/2")[1]["window/2"]["name"] == "临时窗口"
    r = hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2102", "pin": "1234"}, node="terminal-2", now_ms=T0 + 120_000)
    assert not r.ok and r.error == "window_closed"


def test_unlock_ends_a_lockout_and_is_audited(hub: Hub) -> None:
    for i in range(5):
        hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2103", "pin": "0000"}, node="terminal-3", now_ms=T0 + i)
    locked = hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2103", "pin": "1234"}, node="terminal-3", now_ms=T0 + 10)
    assert locked.error == "account_locked"
    from hall_server.domain.alerts import floor_alerts
    alerts = [a for a in floor_alerts(hub.db, hub.config, T0 + 15, [], [], {}) if a.kind == "locked"]
    assert [dict(a.args) for a in alerts] == [{"staff_no": "HC2103", "name": hub.config.staff_member("HC2103").name,
                                               "minutes": 5}]
    r = hub.submit(Msg.ADMIN_UNLOCK, {"who": "boss", "staff_no": "HC2103"}, now_ms=T0 + 20)
    assert r.ok and r.result["was_locked"]
    assert hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2103", "pin": "1234"}, node="terminal-3",
                      now_ms=T0 + 30).ok
    assert hub.db.execute("SELECT COUNT(*) FROM admin_audit WHERE what = 'staff.unlock'").fetchone()[0] == 1
    assert not [a for a in floor_alerts(hub.db, hub.config, T0 + 40, [], [], {}) if a.kind == "locked"]


def test_only_the_web_side_may_change_the_configuration(hub: Hub) -> None:
    r = hub.submit(Msg.ADMIN_CHANGE, {"who": "x", "what": "staff.add", "items": [
        {"kind": "staff", "key": "HC2101", "doc": staff_doc(hub, "HC2101")}]}, node="terminal-1")
    assert not r.ok and r.error == "forbidden"


def test_the_cli_exports_and_imports_with_differences_shown_before_apply(hub: Hub, tmp_path: Path) -> None:
    data = hub.db_path.parent
    hub.close()
    out = tmp_path / "edited"
    run = lambda *a: subprocess.run([sys.executable, "-m", "hall_server", "config", *a, "--data", str(data)],
                                    cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run("export", str(out)).returncode == 0
    text = (out / "windows.toml").read_text(encoding="utf-8").replace("综合受理一号窗口", "综合受理壹号窗口", 1)
    (out / "windows.toml").write_text(text, encoding="utf-8")
    shown = run("import", str(out))
    assert shown.returncode == 0 and "~ window 1: name" in shown.stdout and "综合受理壹号窗口" in shown.stdout
    again = Hub(data / "hall.db", None)  # type: ignore[arg-type]
    assert load_from_store(again.db, data / CONFIG_FOLDER).window(1).name == "综合受理一号窗口"   # not yet
    again.close()
    applied = run("import", str(out), "--apply")
    assert applied.returncode == 0, applied.stderr
    again = Hub(data / "hall.db", None)  # type: ignore[arg-type]
    assert load_from_store(again.db, data / CONFIG_FOLDER).window(1).name == "综合受理壹号窗口"
    assert again.db.execute("SELECT who FROM admin_audit ORDER BY id DESC LIMIT 1").fetchone()[0] == "import"
    again.close()
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "hall.toml").write_text("[hall]\nname = 1\n", encoding="utf-8")
    refused = run("import", str(broken), "--apply")
    assert refused.returncode == 1 and "hall.toml" in refused.stderr


def test_a_reset_pin_is_replaced_by_the_clerk_at_the_next_sign_in(hub: Hub) -> None:
    r = hub.submit(Msg.ADMIN_PIN_RESET, {"who": "boss", "staff_no": "HC2104", "pin_hash": hash_pin("135790")},
                   now_ms=T0)
    assert r.ok, r.error
    sign = lambda body, at: hub.submit(Msg.WINDOW_SIGN_IN, {"staff_no": "HC2104", **body}, node="terminal-4",
                                       now_ms=T0 + at)
    assert sign({"pin": "1234"}, 1).error == "wrong_pin"                     # the old PIN is gone
    asked = sign({"pin": "135790"}, 2)
    assert asked.error == "pin_change_required"
    assert sign({"pin": "135790", "new_pin": "12a"}, 3).error == "bad_new_pin"
    assert sign({"pin": "135790", "new_pin": "135790"}, 4).error == "bad_new_pin"    # not the one-time PIN
    done = sign({"pin": "135790", "new_pin": "8642"}, 5)
    assert done.ok and hub.state.get("window/4")["staff"]["name"] == hub.config.staff_member("HC2104").name
    assert hub.submit(Msg.WINDOW_SIGN_OUT, {}, node="terminal-4", now_ms=T0 + 6).ok
    assert sign({"pin": "135790"}, 7).error == "wrong_pin"                   # the one-time PIN is spent
    assert sign({"pin": "8642"}, 8).ok                                       # no reset pending any more
    whats = [r[0] for r in hub.db.execute("SELECT what FROM admin_audit WHERE key = 'HC2104' ORDER BY id")]
    assert whats[-2:] == ["staff.pin_reset", "staff.pin_set"]
    assert "8642" not in json.dumps([list(r) for r in hub.db.execute("SELECT after FROM admin_audit")])


def test_the_admin_audit_is_append_only(hub: Hub) -> None:
    import sqlite3
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        hub.db.execute("UPDATE admin_audit SET who = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        hub.db.execute("DELETE FROM admin_audit")


def test_admin_posts_are_limited_per_account() -> None:
    from hall_server.web.pages.admin_upload import PostLimit
    limit = PostLimit(per_min=3)
    assert [limit.allow("boss", now=t) for t in (0.0, 1.0, 2.0, 3.0)] == [True, True, True, False]
    assert limit.allow("other", now=3.0)                      # per account
    assert limit.allow("boss", now=61.0)                      # a sliding minute
