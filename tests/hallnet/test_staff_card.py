"""`window/<n>.staff`: one wire shape (`hallnet.bodies.StaffCard`), which the hall server publishes
and the evaluator decodes, keeping its local photo beside it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from config.loader import load_hall
from hall_server.domain.floor import staff_card
from hallnet.bodies import StaffCard, staff_card_of
from kiosk.evaluator_view import StaffCard as KioskCard, staff_card as kiosk_card

DEMO = Path(__file__).resolve().parents[2] / "config" / "examples" / "demo-hall"


def test_the_published_card_decodes_into_the_same_type() -> None:
    config = load_hall(DEMO)
    member = config.staff[0]
    published = staff_card(config, member.staff_no)
    assert isinstance(published, StaffCard)
    assert staff_card_of(asdict(published)) == published


def test_decoding_is_lenient_only_where_an_older_or_newer_server_differs() -> None:
    assert staff_card_of({"staff_no": "HC1", "stars": "4", "promise": None, "newer_field": 1}) == \
        StaffCard("HC1", stars=4)
    assert staff_card_of({"staff_no": ""}) is None and staff_card_of(None) is None
    assert staff_card_of({"staff_no": "HC1", "stars": "many"}) is None      # does not fit: no card


def test_the_kiosk_keeps_the_wire_card_and_its_local_photo_beside_it() -> None:
    config = load_hall(DEMO)
    member = config.staff[0]
    sent = {"staff_no": member.staff_no, "name": "服务器的名字", "department": "", "stars": 5, "promise": "",
            "photo": ""}
    card = kiosk_card(config, sent)
    assert isinstance(card, KioskCard) and isinstance(card.card, StaffCard)
    assert card.card == StaffCard(member.staff_no, "服务器的名字", member.department, 5, "", "")
    assert (card.name, card.stars, card.photo) == ("服务器的名字", 5, None)   # photo "" from the server: none
