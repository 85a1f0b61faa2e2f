"""Typed bodies at the edge: every handled type has a body type, and a body that does not fit is
refused as `bad_request` naming the field, before any handler runs."""

from __future__ import annotations

import pytest

from hall_server.assembly import hall_handlers
from hallnet.bodies import BODIES, QueueTake, typed

from .conftest import Driver


def test_every_handled_type_has_a_body_type() -> None:
    assert set(hall_handlers()) == set(BODIES)


def test_a_body_becomes_its_type() -> None:
    assert typed("queue.take", {"category": "A"}) == QueueTake(category="A")


@pytest.mark.parametrize(("type_", "body", "node", "field"), [
    ("queue.take", {}, "dispenser-1", "category"),
    ("queue.take", {"category": "A", "vip": True}, "dispenser-1", "vip"),
    ("queue.take", {"category": 7}, "dispenser-1", "category"),
    ("rating.submit", {"level": 6}, "kiosk-1", "level"),
    ("rating.submit", {"level": True}, "kiosk-1", "level"),
    ("case.decide", {"case_id": 1, "upheld": "yes"}, "web", "upheld"),
    ("audit.note", {"kind": "x" * 65}, "kiosk-1", "kind"),
])
def test_a_body_that_does_not_fit_is_refused_naming_the_field(hall: Driver, type_: str, body: dict, node: str,
                                                              field: str) -> None:
    a = hall.refused("bad_request", type_, body, node)
    assert a.details == {"field": field}
