"""The evaluator follows what the hall server publishes after an admin change, without a restart
(issue 14): the reason tags of the `tags` key, the window's name, and the staff card of
`window/<n>.staff` (with its photo, through the photo cache) also while a rating is asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.evaluator_logic import Evaluator, Screen

WINDOW = 3
NEW_CLERK = {"staff_no": "HC3001", "name": "𠈌𪚥燚", "department": "区市场监督管理局", "stars": 4,
             "promise": "耐心细致，一次办好", "photo": "/staff-photos/staff-ab12-cd34.jpg"}


class Downloaded:
    """Stands in for kiosk.staff_photos.PhotoCache: `done` says whether the download finished."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = False
        self.asked: list[str] = []

    def local(self, photo_path: str) -> Path | None:
        self.asked.append(photo_path)
        return self.path if self.done else None


def tags_value(version: int = 3) -> dict:
    """Version 3: N01 withdrawn, N09 new (as the admin tags page publishes it)."""
    return {"version": version, "tags": [
        {"code": "N01", "text": "态度不好", "levels": [1, 2], "added_in": 1, "removed_in": 3},
        {"code": "N02", "text": "等待时间长", "levels": [1, 2], "added_in": 1, "removed_in": None},
        {"code": "N09", "text": "指引不清楚", "levels": [1, 2], "added_in": 3, "removed_in": None},
        {"code": "P02", "text": "办事高效", "levels": [4, 5], "added_in": 1, "removed_in": None}]}


@pytest.fixture
def photos(tmp_path: Path) -> Downloaded:
    p = tmp_path / "0123456789abcdef-staff-ab12-cd34.jpg"
    p.write_bytes(b"jpeg")
    return Downloaded(p)


@pytest.fixture
def ev(demo, clock, outbox, photos) -> Evaluator:
    e = Evaluator(demo, WINDOW, outbox, clock=clock, wall_ms=clock.wall_ms, qr_base="http://hall.test/", photos=photos)
    e.on_connection(True)
    return e


def open_rating(ev: Evaluator, clock, job: str = "job-1") -> None:
    ev.on_state(f"rating/{WINDOW}", {"window": WINDOW, "job": job, "staff_no": "HC3001", "staff_name": "𠈌𪚥燚",
                                     "department": "区市场监督管理局", "stars": 4,
                                     "expires_ms": clock.wall_ms() + 60_000, "tag_version": 3})


def test_a_clerk_the_kiosk_config_does_not_know_shows_from_the_state_then_with_the_photo(ev, photos) -> None:
    ev.on_state(f"window/{WINDOW}", {"window": WINDOW, "name": "综合受理窗口", "state": "idle", "staff": NEW_CLERK})
    s = ev.view().staff
    assert (s.staff_no, s.name, s.department, s.stars, s.promise) == ("HC3001", "𠈌𪚥燚", "区市场监督管理局", 4,
                                                                      "耐心细致，一次办好")
    assert s.photo is None and photos.asked == [NEW_CLERK["photo"]]     # placeholder while it downloads
    photos.done = True
    assert ev.view().staff.photo == photos.path


def test_while_rating_the_card_keeps_the_window_cards_promise_and_photo(ev, clock, photos) -> None:
    photos.done = True
    ev.on_state(f"window/{WINDOW}", {"window": WINDOW, "state": "serving", "staff": NEW_CLERK})
    open_rating(ev, clock)
    v = ev.view()
    assert v.screen == Screen.RATE
    assert (v.staff.name, v.staff.promise, v.staff.photo) == ("𠈌𪚥燚", "耐心细致，一次办好", photos.path)


def test_a_window_renamed_by_a_manager_shows_its_new_name(ev) -> None:
    assert "3号窗口" in ev.view().window_title
    ev.on_state(f"window/{WINDOW}", {"window": WINDOW, "name": "综合受理窗口", "state": "closed", "staff": None})
    assert ev.view().window_title.endswith("综合受理窗口")


def test_the_reason_tags_of_a_new_version_are_offered_at_once(ev, clock, outbox) -> None:
    assert ev.tags.version == 2 and "N01" in [x.code for x in ev.tags.for_level(1)]
    ev.on_state("tags", tags_value())
    open_rating(ev, clock)
    assert ev.tap_level(1)
    assert [x.code for x in ev.view().tags] == ["N02", "N09"]
    ev.toggle_tag("N01")                            # withdrawn in version 3: not taken
    ev.toggle_tag("N09")
    assert ev.submit()
    assert outbox.sent[-1] == ("rating.submit", {"job": "job-1", "level": 1, "tags": ["N09"],
                                                 "pressed_ms": outbox.sent[-1][1]["pressed_ms"]})


def test_a_tag_withdrawn_while_the_citizen_chooses_is_dropped_from_the_choice(ev, clock, outbox) -> None:
    open_rating(ev, clock)
    ev.tap_level(2)
    ev.toggle_tag("N01")
    ev.toggle_tag("N02")
    ev.on_state("tags", tags_value())
    assert [x.code for x in ev.view().tags if x.selected] == ["N02"]
    assert ev.submit() and outbox.sent[-1][1]["tags"] == ["N02"]


@pytest.mark.parametrize("bad", [None, "x", {"version": "3", "tags": []}, {"version": 3}, {"tags": []}])
def test_a_missing_or_malformed_tags_key_keeps_the_configs(ev, demo, bad) -> None:
    ev.on_state("tags", tags_value())
    ev.on_state("tags", bad)
    assert ev.tags == demo.tags


def test_a_malformed_tag_in_the_key_is_skipped(ev) -> None:
    value = tags_value()
    value["tags"] += [{"code": 7, "text": "x", "levels": [1]}, "N10", {"code": "N11", "text": "坏", "levels": 2}]
    ev.on_state("tags", value)
    assert ev.tags.version == 3 and [x.code for x in ev.tags.for_level(1)] == ["N02", "N09"]


def test_levels_three_to_five_follow_the_new_version_too(ev, clock, outbox) -> None:
    ev.on_state("tags", {**tags_value(), "tags": [x for x in tags_value()["tags"] if x["code"] != "P02"]})
    open_rating(ev, clock)
    assert ev.tap_level(5)                          # no tag for level 5 any more: sent at once
    assert ev.view().screen == Screen.THANKS and outbox.sent[-1][1]["level"] == 5
