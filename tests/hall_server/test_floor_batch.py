"""The floor's summaries (`floor`, `mgr/floor`) are computed once per batch (group commit), after the
batch's messages and inside its transaction, and only when a kept domain command may have changed
them: a real hub on a real SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hall_server.core.hub import Hub
from hall_server.domain.context import Context
from hall_server.domain.hall_config_store import CONFIG_FOLDER, load_from_store, seed_from_folder
from hallnet.messages import Envelope
from hallnet.vocabulary import Msg
from tests.conftest import DEMO_HALL

from .conftest import at

Delta = tuple[int, str, Any]


def _take(i: int, category: str = "A") -> Envelope:
    return Envelope(type="queue.take", node="dispenser-1", seq=i, body={"category": category})


def _watch(hub: Hub) -> tuple[list[list[Delta]], list[int]]:
    """Every batch's deltas, and one entry per floor refresh the writer ran."""
    batches: list[list[Delta]] = []
    hub.delta_sinks.append(batches.append)
    runs: list[int] = []
    inner = hub.refresh
    assert inner is not None

    def counted(ctx: Context) -> object:
        runs.append(1)
        return inner(ctx)

    hub.refresh = counted
    return batches, runs


def _keys(deltas: list[Delta], key: str) -> list[Delta]:
    return [d for d in deltas if d[1] == key]


def test_a_batch_of_commands_publishes_floor_once_numbered_with_the_batch(hub: Hub) -> None:
    batches, runs = _watch(hub)
    n = 12
    outcomes = hub.apply([_take(i, "AB"[i % 2]) for i in range(1, n + 1)], now_ms=at(9, 0))
    assert all(o.ok for o in outcomes)
    assert len(runs) == 1                                   # computed once, not once per command
    [deltas] = batches
    [floor] = _keys(deltas, "floor")                        # one delta for `floor` in the batch
    assert floor[2]["waiting"] == n                         # … computed after the batch's last message
    assert len(_keys(deltas, "mgr/floor")) == 1             # the first batch: today's counts appear
    seqs = [seq for seq, _k, _v in deltas]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))   # numbered with the batch, no gap
    assert floor[0] > max(seq for seq, key, _v in deltas if key.startswith("queue/"))
    assert hub.state.seq == seqs[-1] and hub.state.get("floor") == floor[2]
    stored = hub.db.execute("SELECT seq FROM state WHERE key = 'floor'").fetchone()[0]
    assert stored == floor[0]                               # in the same transaction as the batch

    more = hub.apply([_take(i) for i in range(n + 1, n + 4)], now_ms=at(9, 1))
    assert all(o.ok for o in more) and len(runs) == 2
    [floor2] = _keys(batches[-1], "floor")
    assert floor2[2]["waiting"] == n + 3
    assert _keys(batches[-1], "mgr/floor") == []            # unchanged: not republished


def test_a_batch_that_changed_nothing_computes_and_publishes_no_floor(hub: Hub) -> None:
    first = _take(1)
    hub.apply([first], now_ms=at(9, 0))
    batches, runs = _watch(hub)
    seq = hub.state.seq

    refused = hub.apply([Envelope(type="queue.take", node="dispenser-1", seq=i, body={"category": "Z"})
                         for i in range(2, 6)], now_ms=at(9, 1))
    assert [o.error for o in refused] == ["unknown_category"] * 4
    resent = hub.apply([first], now_ms=at(9, 1))          # a resend: answered, not applied again
    assert resent[0].duplicate
    notes = hub.apply([Envelope(type="audit.note", node="kiosk-1", seq=i, body={"kind": "t", "subject": "x"})
                       for i in range(1, 4)], now_ms=at(9, 1))   # not a domain command: no floor to touch
    assert all(o.ok for o in notes)

    assert runs == []                                       # never computed
    assert all(not _keys(b, "floor") and not _keys(b, "mgr/floor") for b in batches)
    assert hub.state.seq == seq + 1                         # only the notes' own key moved
    assert hub.state.get("floor")["waiting"] == 1


def test_a_refused_command_in_a_batch_leaves_the_floor_of_the_kept_ones(hub: Hub) -> None:
    batches, runs = _watch(hub)
    batch = [_take(1), Envelope(type="queue.take", node="dispenser-1", seq=2, body={"category": "Z"}), _take(3)]
    outcomes = hub.apply(batch, now_ms=at(9, 0))
    assert [o.ok for o in outcomes] == [True, False, True]
    assert len(runs) == 1
    [floor] = _keys(batches[0], "floor")
    assert floor[2]["waiting"] == 2


def test_a_command_that_does_not_change_the_floor_publishes_no_floor_delta(hub: Hub) -> None:
    hub.apply([_take(1)], now_ms=at(9, 0))
    batches, runs = _watch(hub)
    out = hub.apply([Envelope(type="window.sign_in", node="terminal-1", seq=1,
                              body={"staff_no": "1001", "pin": "0000"})], now_ms=at(9, 0))  # a wrong PIN
    assert out[0].error == "wrong_pin"
    assert runs == []                                       # a refusal: nothing to recompute
    hub.apply([Envelope(type="staff.today", node="terminal-1", seq=2, body={})], now_ms=at(9, 0))
    assert len(runs) <= 1 and not any(_keys(b, "floor") for b in batches)   # a read: the floor is unchanged


def test_an_admin_change_and_commands_in_one_batch_publish_the_floor_once_under_the_new_configuration(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    hub = Hub(data / "hall.db", None)  # type: ignore[arg-type]
    try:
        assert seed_from_folder(hub.db, DEMO_HALL, data / CONFIG_FOLDER, at(9, 0))
        hub.swap_config(load_from_store(hub.db, data / CONFIG_FOLDER))
        windows = len(hub.config.windows)
        hub.apply([_take(1)], now_ms=at(9, 0))
        assert hub.state.get("floor")["windows_closed"] == windows
        batches, runs = _watch(hub)
        new_window = {"number": windows + 1, "name": f"{windows + 1}号窗口", "categories": ["A"]}
        change = Envelope(type=Msg.ADMIN_CHANGE, node="manager-boss", seq=1, body={
            "who": "boss", "what": "window.add", "items": [{"kind": "window", "key": str(windows + 1),
                                                           "doc": new_window}]})
        outcomes = hub.apply([_take(2), change, _take(3)], now_ms=at(9, 1))
        assert all(o.ok for o in outcomes), [(o.error, o.message) for o in outcomes]
        assert len(runs) == 1
        [floor] = _keys(batches[0], "floor")
        assert floor[2]["windows_closed"] == windows + 1 and floor[2]["waiting"] == 3
    finally:
        hub.close()
