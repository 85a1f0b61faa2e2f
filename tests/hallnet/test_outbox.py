from __future__ import annotations

import threading
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


def test_concurrent_puts_share_commits_and_each_returns_only_when_stored(tmp_path: Path) -> None:
    """Group commit: puts that wait behind a commit share the next one; every put still returns its
    own envelope, stored, with a sequence number of its own; a message too large fails alone."""
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    got: list[m.Envelope] = []
    refused: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def putter(i: int) -> None:
        start.wait()
        for k in range(25):
            body = {"x": "a" * (m.MAX_MESSAGE_BYTES + 10)} if (i, k) == (3, 7) else {"i": i, "k": k}
            try:
                env = box.put("audit.note", body)
            except m.MessageTooLarge as exc:
                with lock:
                    refused.append(exc)
                continue
            assert env.id in {row[1] for row in box.pending(0, 10_000)}
            with lock:
                got.append(env)

    threads = [threading.Thread(target=putter, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refused) == 1 and len(got) == 199
    assert sorted(e.seq for e in got) == list(range(1, 200))
    assert box.count() == 199 and box.last_seq() == 199
    assert box.commits < 199, "waiting puts shared commits"
    box.close()
