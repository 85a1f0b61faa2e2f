"""The evaluator shows its window's called number while idle (issue 13, "Window screens"): from the
public `window/<n>` state it already receives; not while a rating is asked, not when offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.evaluator_logic import Evaluator, Screen
from tests.kiosk.test_app_headless import shots

WINDOW = 3
STAFF = {"staff_no": "HC2106", "name": "周𠇔", "department": "区不动产登记中心", "stars": 3, "promise": ""}


@pytest.fixture
def ev(demo, clock, outbox) -> Evaluator:
    e = Evaluator(demo, WINDOW, outbox, clock=clock, wall_ms=clock.wall_ms, qr_base="http://hall.test/")
    e.on_connection(True)
    return e


def window(state: str, ticket: str | None) -> dict:
    return {"window": WINDOW, "state": state, "pause_reason": None, "staff": STAFF, "ticket": ticket}


def test_the_called_number_shows_while_idle(ev, clock) -> None:
    ev.on_state(f"window/{WINDOW}", window("idle", None))
    assert ev.view().called == ""
    ev.on_state(f"window/{WINDOW}", window("calling", "A012"))
    v = ev.view()
    assert v.screen == Screen.IDENTITY and v.called == "A012" and v.status_text == "服务中"
    ev.on_state(f"window/{WINDOW}", window("serving", "A012"))
    assert ev.view().called == "A012"
    ev.on_state(f"window/{WINDOW}", {**window("paused", None), "pause_reason": "lunch"})
    assert ev.view().called == ""
    ev.on_state(f"window/{WINDOW}", window("calling", "B003"))
    ev.on_state(f"window/{WINDOW + 1}", window("calling", "C001"))      # another window's call is not ours
    assert ev.view().called == "B003"
    ev.on_connection(False)                                             # an old number is not shown as current
    assert ev.view().called == ""
    ev.on_connection(True)
    ev.on_state(f"rating/{WINDOW}", {"window": WINDOW, "job": "job-1", "handle": 7, "staff_no": "HC2106",
                                     "staff_name": "周𠇔", "department": "", "stars": 3,
                                     "expires_ms": clock.wall_ms() + 60_000, "tag_version": 2})
    assert ev.view().screen == Screen.RATE and ev.view().called == ""      # rating: the screen is the citizen's


def test_the_identity_screen_draws_the_called_number(tmp_path: Path) -> None:
    """Kivy offscreen (kiosk.shots): the identity screen of a window that called A012 says 当前号 A012."""
    r = shots(tmp_path, "evaluator")
    identity = r["screens"]["identity"]
    assert any("当前号 A012" in text for text in identity["texts"]) and not identity["problems"]
    assert not any("A012" in text for text in r["screens"]["rate"]["texts"])
    assert (r["dir"] / identity["file"]).stat().st_size > 10_000
