"""The evaluator's logic without a window: what it shows, what it sends, and when."""

from __future__ import annotations

import pytest

from kiosk.evaluator_logic import Evaluator, Screen, valid_mobile

WINDOW = 3


def opening(clock, job: str = "job-1", open_s: int = 60) -> dict:
    return {"window": WINDOW, "job": job, "handle": 7, "staff_no": "HC2106", "staff_name": "周𠇔",
            "department": "区不动产登记中心", "stars": 3, "expires_ms": clock.wall_ms() + open_s * 1000,
            "tag_version": 2, "qr_path": f"/r/SIGNED-{job}", "qr_url": None}


@pytest.fixture
def ev(demo, clock, outbox) -> Evaluator:
    e = Evaluator(demo, WINDOW, outbox, clock=clock, wall_ms=clock.wall_ms, qr_base="http://hall.test/",
                  tag_timeout_s=8, thanks_s=4)
    e.on_connection(True)
    e.on_state(f"window/{WINDOW}", {"window": WINDOW, "state": "serving", "pause_reason": None,
                                    "staff": {"staff_no": "HC2106", "name": "周𠇔", "department": "区不动产登记中心",
                                              "stars": 3, "promise": "换位思考，用心服务"}})
    return e


def test_identity_shows_who_serves(ev) -> None:
    v = ev.view()
    assert v.screen == Screen.IDENTITY and v.status == "serving" and v.status_text == "服务中"
    assert v.staff.name == "周𠇔" and v.staff.staff_no == "HC2106" and v.staff.stars == 3
    assert v.staff.promise == "换位思考，用心服务" and v.staff.photo is not None and v.staff.photo.exists()
    assert v.banner == "" and v.countdown_s is None and v.qr_url is None
    assert "3号窗口" in v.window_title


@pytest.mark.parametrize("state, reason, status, text", [
    ("paused", "lunch", "paused", "暂停服务（午休）"),
    ("paused", "临时离开", "paused", "暂停服务（临时离开）"),
    ("closed", None, "closed", "已下班"),
    ("idle", None, "serving", "服务中"),
])
def test_window_states(ev, state, reason, status, text) -> None:
    ev.on_state(f"window/{WINDOW}", {"state": state, "pause_reason": reason, "staff": None})
    v = ev.view()
    assert (v.status, v.status_text) == (status, text)
    assert v.staff is None


def test_offline_is_said_on_the_identity_screen_and_as_a_banner(ev) -> None:
    ev.on_connection(False)
    v = ev.view()
    assert v.status == "offline" and v.status_text == "未连接大厅服务器"
    assert "未连接" in v.banner
    ev.on_connection(True)
    ev.set_pending(2)
    assert ev.view().banner == "2条评价正在上传"


def _without_pressed(sent: list) -> list:
    """The bodies sent, less `pressed_ms` (checked on its own below)."""
    return [(t, {k: v for k, v in body.items() if k != "pressed_ms"}) for t, body in sent]


def test_pressed_ms_is_when_the_level_was_chosen_on_the_servers_clock(ev, clock, outbox) -> None:
    opened = opening(clock)
    ev.on_state(f"rating/{WINDOW}", opened)
    clock.advance(7)
    assert ev.tap_level(2)
    clock.advance(30)                               # the citizen takes a while over the reasons
    ev.toggle_tag(ev.view().tags[0].code)
    assert ev.submit()
    (_, body), = outbox.sent
    assert body["pressed_ms"] == opened["expires_ms"] - 53_000   # 60 s window, chosen after 7 s


def answer_link(ev, outbox, qr_url: str | None = None) -> None:
    """The hall server answers the evaluator's last `rating.link` request."""
    ref, body = outbox.links[-1]
    ev.on_reply(ref, {"ref": ref, "ok": True, "result": {"job": body["job"], "qr_path": f"/r/SIGNED-{body['job']}",
                                                         "qr_url": qr_url}})


def test_the_qr_code_is_the_servers_signed_link(ev, clock, outbox) -> None:
    """Behaviour changed by issue 11: the link comes from the `rating.link` reply, never from state."""
    ev.on_state(f"rating/{WINDOW}", {**opening(clock), "qr_url": "http://10.0.0.5:8080/r/FROM-STATE"})
    assert ev.view().qr_url is None                       # what public state carries is not shown
    assert ev.ask_link() and not ev.ask_link()            # asked once
    answer_link(ev, outbox, "http://10.0.0.5:8080/r/SIGNED-job-1")
    assert ev.view().qr_url == "http://10.0.0.5:8080/r/SIGNED-job-1"      # the hall's public_url wins


def test_good_rating_two_taps(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    v = ev.view()
    assert v.screen == Screen.RATE and v.countdown_s == 60 and v.qr_url is None   # the buttons do not wait
    ev.tick()                                                   # asks for the QR link (the app: after drawing)
    assert outbox.links == [(outbox.links[0][0], {"job": "job-1"})]
    answer_link(ev, outbox)
    v = ev.view()
    assert v.screen == Screen.RATE and v.qr_url == "http://hall.test/r/SIGNED-job-1"
    assert v.staff.name == "周𠇔"
    assert ev.tap_level(5)
    v = ev.view()
    assert v.screen == Screen.TAGS and v.level == 5 and v.can_submit
    assert [t.code for t in v.tags] == ["P01", "P02", "P03", "P04", "P05", "P06"]
    assert v.countdown_s == 8
    assert outbox.sent == []
    ev.toggle_tag("P02")
    assert ev.submit()
    assert _without_pressed(outbox.sent) == [("rating.submit", {"job": "job-1", "level": 5, "tags": ["P02"]})]
    assert ev.view().screen == Screen.THANKS
    clock.advance(4)
    ev.tick()
    assert ev.view().screen == Screen.IDENTITY


def test_the_tag_screen_times_out_by_itself_and_sends(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    ev.tap_level(4)
    clock.advance(7.9)
    ev.tick()
    assert outbox.sent == []
    clock.advance(0.2)
    ev.tick()
    assert _without_pressed(outbox.sent) == [("rating.submit", {"job": "job-1", "level": 4})]
    assert ev.view().screen == Screen.THANKS


def test_the_tag_screen_never_outlives_the_server_deadline(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    clock.advance(57)
    ev.tap_level(3)
    assert ev.view().countdown_s == 3
    clock.advance(3)
    ev.tick()
    assert _without_pressed(outbox.sent) == [("rating.submit", {"job": "job-1", "level": 3})]


def test_repeated_taps_are_ignored(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    assert ev.tap_level(5)
    assert not ev.tap_level(5) and not ev.tap_level(1)
    assert ev.submit()
    assert not ev.submit() and not ev.tap_level(4)
    ev.on_state(f"rating/{WINDOW}", opening(clock))       # the same 办件 published again
    assert ev.view().screen == Screen.THANKS
    assert len(outbox.sent) == 1


def test_bad_rating_needs_a_tag_and_takes_phone_and_text(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    ev.tap_level(1)
    v = ev.view()
    assert v.screen == Screen.REASONS and not v.can_submit
    assert "N01" in [t.code for t in v.tags] and "N07" not in [t.code for t in v.tags]   # removed in v2
    assert not ev.submit() and ev.view().message == "请至少选择一个原因"
    ev.toggle_tag("N01")
    ev.toggle_tag("N08")
    ev.toggle_tag("P01")             # not a tag of this level
    ev.open_phone()
    assert ev.view().screen == Screen.PHONE
    for d in "1381234":
        ev.phone_key(d)
    assert not ev.phone_done() and "11位" in ev.view().message
    for d in "56789999":             # only 11 digits fit
        ev.phone_key(d)
    assert ev.view().phone == "13812345678"
    assert ev.phone_done()
    ev.open_text()
    assert ev.view().screen == Screen.TEXT
    for k in "taidu":
        ev.text_key(k)
    assert ev.view().candidates[0] == "态度"
    ev.text_key("cand:0")
    ev.text_key("，")
    assert ev.view().text == "态度，"
    ev.text_done()
    v = ev.view()
    assert v.screen == Screen.REASONS and v.phone == "13812345678" and v.text == "态度，"
    assert ev.submit()
    assert _without_pressed(outbox.sent) == [("rating.submit", {"job": "job-1", "level": 1, "tags": ["N01", "N08"],
                                              "text": "态度，", "phone": "13812345678"})]


def test_phone_back_keeps_the_old_number(ev, clock) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    ev.tap_level(2)
    ev.open_phone()
    ev.phone_key("1")
    ev.back()
    assert ev.view().phone == ""


@pytest.mark.parametrize("number, ok", [("13812345678", True), ("19912345678", True), ("12812345678", False),
                                        ("1381234567", False), ("138123456789", False), ("+8613812345678", False),
                                        ("", False)])
def test_mainland_mobile(number, ok) -> None:
    assert valid_mobile(number) is ok


def test_timeout_goes_back_and_sends_nothing(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    clock.advance(30)
    assert ev.view().countdown_s == 30
    clock.advance(30)
    ev.tick()
    assert ev.view().screen == Screen.IDENTITY and outbox.sent == []


def test_timeout_on_the_reasons_screen_sends_what_was_chosen(ev, clock, outbox) -> None:
    """Behaviour changed by issue 11: a 差评 chosen in time is never lost (it sent nothing before)."""
    opened = opening(clock)
    ev.on_state(f"rating/{WINDOW}", opened)
    ev.tap_level(2)
    ev.toggle_tag("N02")
    clock.advance(61)
    ev.tick()
    assert ev.view().screen == Screen.REASONS          # the level was chosen in time: reasons may follow
    assert outbox.sent == []
    clock.advance(ev.reasons_s)
    ev.tick()
    assert outbox.sent == [("rating.submit", {"job": "job-1", "level": 2, "pressed_ms": opened["expires_ms"] - 60_000,
                                              "tags": ["N02"]})]


@pytest.mark.parametrize("screen", ["reasons", "phone", "text"])
def test_a_walked_away_bad_rating_is_sent_with_the_pending_reason_and_the_tap_time(ev, clock, outbox,
                                                                                  screen) -> None:
    opened = opening(clock)
    ev.on_state(f"rating/{WINDOW}", opened)
    clock.advance(12)
    assert ev.tap_level(1)                               # 非常不满意, 12 s into the 60 s window
    if screen == "phone":
        ev.open_phone()
        ev.phone_key("1")                                # not confirmed: not sent
    elif screen == "text":
        ev.open_text()
    assert ev.view().screen.value == screen
    clock.advance(ev.reasons_s - 0.5)
    ev.tick()
    assert outbox.sent == []
    clock.advance(0.5)
    ev.tick()                                            # the citizen walked away
    assert outbox.sent == [("rating.submit", {"job": "job-1", "level": 1, "pressed_ms": opened["expires_ms"] - 48_000,
                                              "tags": ["REASON_PENDING"]})]
    assert ev.view().screen == Screen.THANKS and ev.pending == 1
    clock.advance(4)
    ev.tick()
    assert ev.view().screen == Screen.IDENTITY
    ev.on_state(f"rating/{WINDOW}", opened)              # published again: never rated twice
    assert ev.view().screen == Screen.IDENTITY and len(outbox.sent) == 1


def test_rated_elsewhere_closes_the_rate_screen(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    ev.on_state(f"rating/{WINDOW}", None)
    assert ev.view().screen == Screen.IDENTITY and outbox.sent == []


def test_closing_during_the_tag_screen_sends_the_chosen_level(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    ev.tap_level(5)
    ev.on_state(f"rating/{WINDOW}", None)
    assert _without_pressed(outbox.sent) == [("rating.submit", {"job": "job-1", "level": 5})]


def test_a_new_job_replaces_an_unfinished_one(ev, clock, outbox) -> None:
    first = opening(clock, "job-1")
    ev.on_state(f"rating/{WINDOW}", first)
    ev.tick()
    clock.advance(5)
    ev.tap_level(2)
    ev.on_state(f"rating/{WINDOW}", opening(clock, "job-2"))
    v = ev.view()
    assert v.screen == Screen.RATE and v.level is None and v.qr_url is None
    # the 差评 of job-1 is sent, not dropped (issue 11), with the pending reason and its tap time
    assert outbox.sent == [("rating.submit", {"job": "job-1", "level": 2, "pressed_ms": first["expires_ms"] - 55_000,
                                              "tags": ["REASON_PENDING"]})]
    answer_link(ev, outbox)                              # the late answer for job-1 is not shown for job-2
    assert ev.view().qr_url is None
    ev.tick()
    answer_link(ev, outbox)
    assert ev.view().qr_url == "http://hall.test/r/SIGNED-job-2"


def test_expired_or_already_sent_openings_are_not_shown(ev, clock) -> None:
    late = opening(clock)
    late["expires_ms"] = clock.wall_ms() - 1
    ev.on_state(f"rating/{WINDOW}", late)
    assert ev.view().screen == Screen.IDENTITY
    ev.mark_sent({"job-9"})
    ev.on_state(f"rating/{WINDOW}", opening(clock, "job-9"))
    assert ev.view().screen == Screen.IDENTITY


def test_other_windows_are_ignored(ev, clock) -> None:
    ev.on_state("rating/4", opening(clock))
    assert ev.view().screen == Screen.IDENTITY


def test_english(demo, clock, outbox) -> None:
    e = Evaluator(demo, WINDOW, outbox, lang="en", clock=clock, wall_ms=clock.wall_ms)
    v = e.view()
    assert v.status_text == "Not connected to the hall server" and v.window_title.startswith("Window 3")


def test_unknown_window_is_refused(demo, outbox) -> None:
    with pytest.raises(ValueError):
        Evaluator(demo, 99, outbox)


def test_a_citizen_giving_reasons_for_a_bad_rating_may_finish_after_the_deadline(ev, clock, outbox) -> None:
    opened = opening(clock)
    ev.on_state(f"rating/{WINDOW}", opened)
    clock.advance(50)
    assert ev.tap_level(1)                              # chosen in time, 10 s before the deadline
    clock.advance(30)
    ev.tick()
    ev.on_state(f"rating/{WINDOW}", None)               # the server's window closed meanwhile
    assert ev.view().screen == Screen.REASONS and ev.view().countdown_s > 0
    ev.toggle_tag(ev.view().tags[0].code)
    assert ev.submit()
    (_, body), = outbox.sent
    assert body["pressed_ms"] == opened["expires_ms"] - 10_000   # within the window: the server accepts it



def test_a_refused_link_shows_no_qr_and_link_requests_are_not_counted_as_ratings(ev, clock, outbox) -> None:
    ev.on_state(f"rating/{WINDOW}", opening(clock))
    assert ev.ask_link()
    ev.set_pending(1)                                    # only the link request is in the outbox
    assert ev.view().banner == ""
    ref, _ = outbox.links[-1]
    ev.on_reply("someone-else", {"ok": True, "result": {"job": "job-1", "qr_path": "/r/X"}})
    ev.on_reply(ref, {"ref": ref, "ok": False, "error": "wrong_window", "message": "…"})
    assert ev.view().qr_url is None and ev.view().screen == Screen.RATE
    ev.set_pending(1)
    assert ev.view().banner == "1条评价正在上传"
    ev.on_reply(ref, {"ref": ref, "ok": True, "result": {"job": "job-1", "qr_path": "/r/LATE"}})   # answered once
    assert ev.view().qr_url is None


# --- a kiosk restart between the level tap and the timeout --------------------------------------

def _restarted(demo, clock, outbox, drafts_path, sent_jobs=frozenset()) -> Evaluator:
    from kiosk.drafts import DraftStore

    e = Evaluator(demo, WINDOW, outbox, clock=clock, wall_ms=clock.wall_ms, drafts=DraftStore(drafts_path))
    e.mark_sent(set(sent_jobs))
    return e


def test_a_tapped_bad_level_survives_a_restart_and_is_sent_once(demo, clock, tmp_path) -> None:
    from tests.kiosk.conftest import Outbox

    first_run = Outbox()
    e = _restarted(demo, clock, first_run, tmp_path / "kiosk-3-drafts.db")
    opened = opening(clock)
    e.on_state(f"rating/{WINDOW}", opened)
    clock.advance(9)
    assert e.tap_level(2)
    assert e.drafts.kept()[0].level == 2 and first_run.sent == []
    e.drafts.close()                                     # the process dies on the reasons screen
    clock.advance(30)
    second_run = Outbox()
    e2 = _restarted(demo, clock, second_run, tmp_path / "kiosk-3-drafts.db")
    assert e2.resume_kept() == 1
    assert second_run.sent == [("rating.submit", {"job": "job-1", "level": 2,
                                                  "pressed_ms": opened["expires_ms"] - 51_000,
                                                  "tags": ["REASON_PENDING"]})]
    assert e2.drafts.kept() == [] and e2.resume_kept() == 0
    e2.on_state(f"rating/{WINDOW}", opened)              # the server still shows it: not asked again
    assert e2.view().screen == Screen.IDENTITY
    e2.drafts.close()


def test_a_kept_tap_whose_rating_is_in_the_outbox_is_not_sent_again(demo, clock, tmp_path) -> None:
    from tests.kiosk.conftest import Outbox

    out = Outbox()
    e = _restarted(demo, clock, out, tmp_path / "d.db")
    e.on_state(f"rating/{WINDOW}", opening(clock))
    e.tap_level(5)                                       # the tags screen: kept too
    e.on_state(f"rating/{WINDOW}", opening(clock, "job-2"))
    e.tap_level(1)
    e.toggle_tag("N01")
    assert e.submit()                                    # sent: no longer kept
    assert [tap.job for tap in e.drafts.kept()] == []    # job-1 was sent when job-2 opened
    e.on_state(f"rating/{WINDOW}", opening(clock, "job-3"))
    e.tap_level(4)
    e.drafts.close()
    again = Outbox()
    # job-3 as if its rating had reached the outbox just before the crash
    e2 = _restarted(demo, clock, again, tmp_path / "d.db", sent_jobs={"job-3"})
    assert e2.resume_kept() == 0 and again.sent == [] and e2.drafts.kept() == []
    e2.drafts.close()
