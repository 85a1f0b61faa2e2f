from __future__ import annotations

import threading
import time
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


def test_the_sender_gets_new_rows_from_memory_in_order_and_earlier_ones_from_the_file(tmp_path: Path) -> None:
    """`next_rows` hands over what this process stored without reading it back; rows of an earlier
    run come from the file; either way every row once, in order, with its stored frame."""
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    earlier = [box.put("audit.note", {"i": i}) for i in range(3)]
    box.close()
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    now = box.put_many([("audit.note", {"i": i}) for i in range(3, 6)])
    got = box.next_rows(0, 2) + box.next_rows(2, 10)      # from the file (an earlier run's rows first)
    assert [r[1] for r in got] == [e.id for e in earlier + now]
    later = [box.put("audit.note", {"i": i}) for i in range(6, 9)]
    fresh = box.next_rows(got[-1][0], 2)
    fresh += box.next_rows(fresh[-1][0], 10)
    assert [r[1] for r in fresh] == [e.id for e in later]
    assert fresh == box.pending(got[-1][0])           # the same (n, id, frame) as stored
    assert box.next_rows(fresh[-1][0], 10) == []
    box.close()


def test_rows_beyond_the_memory_bound_are_read_from_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("hallnet.outbox.FRESH_MAX_BYTES", 300)
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    envs = [box.put("audit.note", {"pad": "x" * 100, "i": i}) for i in range(10)]
    rows, after = [], 0
    while batch := box.next_rows(after, 3):
        rows += batch
        after = batch[-1][0]
    assert [r[1] for r in rows] == [e.id for e in envs]
    box.close()


def test_a_delete_waits_for_a_put_in_its_commit_or_gives_up_at_once(tmp_path: Path) -> None:
    """Puts and deletes take turns on the outbox's lock: without waiting, a delete that meets a put
    storing returns False at once (no sleep in SQLite's busy handler); waiting, it goes through."""
    box = Outbox(tmp_path / "o.db", "kiosk-1")
    env = box.put("audit.note", {})
    with box._lock:                                    # as a put does during its commit
        started = time.monotonic()
        assert box.delete([env.id], wait=False) is False
        assert time.monotonic() - started < 0.05
    assert box.delete([env.id], wait=False) is True
    assert box.count() == 0
    box.close()
