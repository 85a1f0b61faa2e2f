"""Property tests: the queue's order (R9) and 一次一评 (R2) under random interleavings."""

from __future__ import annotations

from pathlib import Path
import tempfile

from hypothesis import given, settings, strategies as st, HealthCheck

from hall_server.core.hub import Hub
from hallnet.messages import Envelope

from .conftest import Driver, at, make_config

PRIORITIES = st.sampled_from([None, None, None, "appointment", "elderly", "green"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(takes=st.lists(st.tuples(st.sampled_from("AB"), PRIORITIES), min_size=1, max_size=12))
def test_call_order_is_priority_then_first_come(pin_hash: str, takes: list) -> None:
    with tempfile.TemporaryDirectory() as d:
        hub = Hub(Path(d) / "h.db", make_config(pin_hash))
        hall = Driver(hub, at(9, 0))
        hall.sign_in(2, "1002")                       # window 2 serves A and B
        expected = []
        for i, (cat, prio) in enumerate(takes):
            hall.advance(1)
            t = hall.ok("queue.take", {"category": cat, "priority": prio}, "dispenser-1")
            expected.append((-(prio is not None), i, t["ticket"]))
        expected.sort()
        called = []
        for _ in takes:
            called.append(hall.ok("queue.call_next", {}, "terminal-2")["ticket"])
            hall.ok("queue.no_show", {}, "terminal-2")
        assert called == [t for _, _, t in expected]
        hall.refused("queue_empty", "queue.call_next", {}, "terminal-2")
        hub.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(["kiosk", "gateway", "web", "kiosk2"]), levels=st.lists(st.integers(3, 5), min_size=4,
                                                                                     max_size=4))
def test_exactly_one_first_rating_whatever_the_order(pin_hash: str, order: list, levels: list) -> None:
    with tempfile.TemporaryDirectory() as d:
        hub = Hub(Path(d) / "h.db", make_config(pin_hash))
        hall = Driver(hub, at(9, 0))
        hall.sign_in(1, "1001")
        fin = hall.serve(1)
        bodies = {"kiosk": ("kiosk-1", {}), "kiosk2": ("kiosk-1", {"job": fin["job"]}),
                  "gateway": ("gateway-1", {"window": 1}), "web": ("web", {"job": fin["job"], "channel": 3})}
        batch = [Envelope(type="rating.submit", node=bodies[k][0], seq=i, body={**bodies[k][1], "level": lv})
                 for i, (k, lv) in enumerate(zip(order, levels))]
        out = hub.apply(batch, now_ms=hall.now)
        assert [o.ok for o in out].count(True) == 1
        assert all(o.error == "already_rated" for o in out if not o.ok)
        assert out[0].ok
        assert hub.db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 1
        hub.close()


def test_staff_side_never_sees_the_level(hall: Driver) -> None:
    """R6: no state key a terminal can see carries the level while (or after) the citizen rates."""
    seen: list = []
    hall.hub.delta_sinks.append(seen.extend)
    hall.sign_in(1, "1001")
    hall.serve(1)
    hall.ok("rating.submit", {"level": 1, "tags": ["N01"]}, "kiosk-1")
    for _seq, key, value in seen:
        if key.startswith(("window/", "rating/", "queue/", "calls")):
            assert "level" not in repr(value) and "N01" not in repr(value), (key, value)
