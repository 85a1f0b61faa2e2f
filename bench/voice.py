"""How long an announcement WAV takes: reading the voice pack, assembling one announcement (cold:
a ticket not seen before) and serving one from the cache, in process; then over real HTTP
(`GET /screen/announce/{id}.wav` from a uvicorn server on loopback), cold and cached.

    python bench/voice.py [--n 300]

Prints figures; never passes or fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# the project root instead of bench/ itself, whose http.py would hide the standard library's http
sys.path[:1] = [str(Path(__file__).resolve().parent.parent)]

import httpx  # noqa: E402

from bench.measure import percentile  # noqa: E402
from config.schema import Calling  # noqa: E402
from config.voice_pack import DEFAULT_PACK, index_pack, load_frames  # noqa: E402
from hall_server.core.backend import LocalBackend  # noqa: E402
from hall_server.core.hub import Hub  # noqa: E402
from hall_server.web.announce_audio import AnnouncementCache  # noqa: E402
from hall_server.web.app import make_app  # noqa: E402
from tests.hall_server.conftest import Driver, demo_config  # noqa: E402
from tests.web.live_server import LiveServer  # noqa: E402
from hallnet.vocabulary import Key, Msg, NodeKind, node_id  # noqa: E402


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 50) * 1000:.2f} ms, p99 {percentile(values, 99) * 1000:.2f} ms"


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def in_process(n: int) -> None:
    loads = [timed(lambda: load_frames(index_pack(DEFAULT_PACK))) for _ in range(20)]
    print(f"read the pack (45 clips, headers + frames): {ms(loads)}")
    cache = AnnouncementCache(max_bytes=1 << 40)
    calling = Calling()
    cache.pack(calling.voice_pack)
    cold = [timed(lambda i=i: cache.wav(calling, f"A{i:03d}", 1 + i % 120)) for i in range(n)]
    warm = [timed(lambda i=i: cache.wav(calling, f"A{i:03d}", 1 + i % 120)) for i in range(n)]
    size = cache.size_bytes / len(cache)
    print(f"assemble one announcement (cold), {n}: {ms(cold)}; {size / 1024:.0f} KiB each")
    print(f"from the cache, {n}: {ms(warm)}")


def over_http(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp) / "hall.db", demo_config())
        try:
            drv = Driver(hub, int(time.time() * 1000))
            drv.sign_in(1, demo_config().staff[0].staff_no)
            category = demo_config().window(1).categories[0]
            ids = []
            for _ in range(n):
                drv.ok(Msg.QUEUE_TAKE, {"category": category}, node_id(NodeKind.DISPENSER, 1))
                drv.ok(Msg.QUEUE_CALL_NEXT, {}, node_id(NodeKind.TERMINAL, 1))
                ids.append(hub.state.get(Key.CALLS)["recent"][0]["id"])
                drv.ok(Msg.QUEUE_NO_SHOW, {}, node_id(NodeKind.TERMINAL, 1))
            with LiveServer(make_app(LocalBackend(hub))) as server, httpx.Client(base_url=server.url) as client:
                client.get("/login")        # the client cookie, as the hall screen holds it

                def get(i: int) -> None:
                    r = client.get(f"/screen/announce/{i}.wav")
                    assert r.status_code == 200, r.status_code

                # one client under the public read budget (60 at once, then 1 a second): 29 + 29
                count = min(n, 29)
                cold = [timed(lambda i=i: get(i)) for i in ids[:count]]
                warm = [timed(lambda i=i: get(i)) for i in ids[:count]]
            print(f"HTTP GET, cold, {count}: {ms(cold)}")
            print(f"HTTP GET, cached, {len(warm)}: {ms(warm)}")
        finally:
            hub.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="announcements to make (default: %(default)s)")
    args = parser.parse_args()
    in_process(args.n)
    over_http(args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
