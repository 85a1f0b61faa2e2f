"""Every screen, off-screen with SDL2: the right screen for each state, the words on it, the keys
and taps reaching the logic, and a PNG of each (the same scenes as docs/screens/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from window_terminal import headless, shots

from .conftest import Recorder, new_logic

EXPECTED = {
    "sign-in": ("sign_in", ["窗口工作人员签到", "2101", "王𬀩"]),
    "locked": ("sign_in", ["工号已锁定"]),
    "calling": ("main", ["A012", "已重呼 2/5", "老年人优先"]),
    "serving": ("main", ["A012", "办理中", "SB-0103", "SB20261123-0457", "群众已评价"]),
    "finished": ("main", ["评价器已请群众评价", "空闲，可叫号"]),
    "offline": ("main", ["未连接大厅服务器：叫号"]),
    "pause": ("pause", ["午休", "临时离开", "业务咨询", "培训", "其他"]),
    "paused": ("paused", ["暂停服务 · 午休", "23分", "恢复服务"]),
    "transfer": ("transfer", ["转移当前号", "16号窗口", "H 综合受理"]),
    "call-back": ("call_back", ["A007", "H009"]),
    "my-day": ("my_day", ["37", "7分", "78%", "参评率"]),
}


def texts(app) -> str:
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput

    out = []
    for w in app.sm.current_screen.walk():
        if isinstance(w, (Label, TextInput)):
            out.append(w.text)
    for rv in [w for w in app.sm.current_screen.walk() if type(w).__name__ == "RecycleView"]:
        out += [str(v) for row in rv.data for v in row.values()]
    return "\n".join(out).replace("&bl;", "[").replace("&br;", "]")


@pytest.fixture(scope="module")
def app(demo, tmp_path_factory):
    folder = tmp_path_factory.mktemp("first")
    logic, _ = shots.make_logic(demo, folder, shots.Clock(shots.NOW))
    a = headless.start(logic)
    yield a
    headless.close(a)


@pytest.mark.parametrize("scene", sorted(EXPECTED))
def test_each_screen(app, demo, tmp_path: Path, scene: str) -> None:
    clock = shots.Clock(shots.NOW)
    logic, sender = shots.make_logic(demo, tmp_path, clock)
    shots.scenes()[scene](logic, sender, clock)
    app.use(logic)
    png = headless.snapshot(app, tmp_path / f"terminal-{scene}.png")
    screen, words = EXPECTED[scene]
    assert app.sm.current == screen
    shown = texts(app)
    for word in words:
        assert word in shown, (scene, word)
    with Image.open(png) as im:
        assert im.size == (headless.WIDTH, headless.HEIGHT)
        assert len(im.convert("L").getcolors(1_000_000) or []) > 20     # drawn, not blank


def test_english(app, demo, tmp_path: Path) -> None:
    clock = shots.Clock(shots.NOW)
    logic, sender = shots.make_logic(demo, tmp_path, clock, lang="en")
    shots.serving(logic, sender, clock)
    app.use(logic)
    headless.snapshot(app, tmp_path / "en.png")
    shown = texts(app)
    for word in ("Window 1", "Current ticket", "Call next  [F1]", "Finish  [F8]", "The citizen has rated"):
        assert word in shown


def test_the_cjk_face_is_the_default_font_and_draws_every_name(app, demo) -> None:
    from kivy.core.text import DEFAULT_FONT, LabelBase

    from config.fonts import missing

    assert LabelBase._fonts[DEFAULT_FONT][0].endswith("NotoSansSC-Regular.otf")
    for s in demo.staff:                      # rare characters (R13) included: 王𬀩, 刘䶮, 周𠇔, 韩㛃
        assert not missing(s.name), s.name
    assert app.mk("[F1]") == "&bl;F1&br;"     # free text is escaped before it meets markup


def _connected_logic(demo, tmp_path, clock, state: str = "idle"):
    rec = Recorder()
    logic = new_logic(demo, tmp_path, clock, rec, window=1)
    logic.store.set("session", {"staff_no": "HC2101", "name": "王𬀩", "in_ms": clock.now})
    logic.on_connection(True)
    logic.on_state("window/1", {"window": 1, "state": state, "staff": {"staff_no": "HC2101"}, "ticket": None,
                                "ticket_id": None, "since_ms": clock.now})
    return logic, rec


def test_keys_reach_the_logic_through_the_window(app, demo, tmp_path: Path) -> None:
    clock = shots.Clock(shots.NOW)
    logic, rec = _connected_logic(demo, tmp_path, clock)
    app.use(logic)
    headless.pump()
    assert app.sm.current == "main"
    headless.press("f1")
    assert rec.types() == ["queue.call_next"]
    logic.on_reply(rec.last[0], {"ok": False, "error": "queue_empty", "message": ""})
    headless.press("f11")
    assert app.sm.current == "my_day"
    headless.press("escape")
    assert app.sm.current == "main"
    headless.press("e", ctrl=True)
    assert logic.lang == "en"
    headless.press("e", ctrl=True)
    # sign-in from the physical keyboard
    logic.store.set("session", None)
    app.refresh()
    headless.pump()
    assert app.sm.current == "sign_in"
    for key in ("2", "1", "0", "1", "enter", "1", "2", "3", "4", "enter"):
        headless.press(key)
    assert rec.last[1:] == ("window.sign_in", {"staff_no": "HC2101", "pin": "1234"})


def test_taps_and_typing_reach_the_logic(app, demo, tmp_path: Path) -> None:
    from kivy.uix.button import Button

    clock = shots.Clock(shots.NOW)
    logic, rec = _connected_logic(demo, tmp_path, clock)
    app.use(logic)
    headless.pump()
    screen = app.sm.current_screen
    buttons = {getattr(w, "name", ""): w for w in screen.walk() if isinstance(w, Button)}
    assert buttons["recall"].disabled and "当前没有已叫的号" in buttons["recall"].text
    assert not buttons["call_next"].disabled
    buttons["call_next"].dispatch("on_release")
    assert rec.types() == ["queue.call_next"]
    logic.on_reply(rec.last[0], {"ok": True, "result": {"ticket_id": 1, "ticket": "H001", "category": "H",
                                                         "priority": None, "wait_ms": 1000}})
    screen.ids.search.text = "ydjy"
    screen.ids.search.dispatch("on_text_validate")
    screen.ids.job_no.text = "SCAN-77"
    headless.pump()
    assert logic.draft == {"search": "ydjy", "service": "YB-0102", "job_no": "SCAN-77"}
    # the pause dialog's reason buttons
    logic.on_state("window/1", {"window": 1, "state": "idle", "staff": {"staff_no": "HC2101"}})
    buttons["pause"].dispatch("on_release")
    headless.pump()
    assert app.sm.current == "pause"
    reason = [w for w in app.sm.current_screen.walk() if getattr(w, "key", None) == "consulting"][0]
    reason.dispatch("on_release")
    assert rec.last[1:] == ("window.pause", {"reason": "业务咨询"})


def test_function_keys_work_while_typing_in_a_field(app, demo, tmp_path: Path) -> None:
    clock = shots.Clock(shots.NOW)
    logic, rec = _connected_logic(demo, tmp_path, clock)
    app.use(logic)
    headless.pump()
    field = app.sm.current_screen.ids.job_no
    field.focus = True
    headless.pump()
    headless.press("5")                       # digits go into the field, not to a shortcut
    headless.press("f1")
    assert rec.types() == ["queue.call_next"]
    field.focus = False
    headless.pump()
