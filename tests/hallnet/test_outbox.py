from __future__ import annotations

from pathlib import Path

import pytest

from hallnet import messages as m
from hallnet.outbox import Outbox


def test_messages_survive_reopening_and_keep_their_order_and_sequence(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    envs = [box.put("audit.note", {"i": i}) for i in range(5)]
    box.close()
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    rows = box.pending()
    assert [r[1] for r in rows] == [e.id for e in envs]
    assert [m.decode(r[2]).body["i"] for r in rows] == list(range(5))
    assert box.put("audit.note", {}).seq == 6
    box.delete([e.id for e in envs])
    assert box.count() == 1
    later = box.put("audit.note", {})
    assert box.pending()[-1][0] > rows[-1][0], "numbers never go back, even when the outbox empties"
    box.delete([later.id])
    assert box.count() == 1 and box.last_seq() == 7


def test_a_message_too_large_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    with pytest.raises(m.MessageTooLarge):
        box.put("audit.note", {"x": "a" * (m.MAX_MESSAGE_BYTES + 10)})
    assert box.count() == 0 and box.last_seq() == 0


def test_an_acknowledged_secret_does_not_stay_in_the_file(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", "terminal-1")
    env = box.put("window.sign_in", {"staff_no": "HC2101", "pin": "PIN-739155"})
    box.put("audit.note", {"kind": "filler"})
    box.delete([env.id])
    box.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("o.db"))
    assert b"PIN-739155" not in raw
