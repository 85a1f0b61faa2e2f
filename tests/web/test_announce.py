"""GET /screen/announce/{event_id}.wav: the call announcement as one WAV, checked frame by frame
against the voice pack's clips (wave module), and refused for anything but today's calls."""

from __future__ import annotations

import dataclasses
import io
import time
import wave
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from config.schema import Calling
from config.voice_pack import CHIME, DEFAULT_PACK, VOCABULARY
from hall_server.core.backend import LocalBackend
from hall_server.core.hub import Hub
from hall_server.domain.speech import CHIME_PAUSE_MS, REPEAT_PAUSE_MS, WORD_PAUSE_MS, announcement, clips
from hall_server.web.announce_audio import AnnouncementCache
from hall_server.web.app import make_app
from tests.hall_server.conftest import Driver, make_config
from tests.web.conftest import Hall

RATE_HZ = 16000


def clip_frames(text: str, pack: Path = DEFAULT_PACK) -> bytes:
    with wave.open(str(pack / f"{VOCABULARY[text]}.wav"), "rb") as w:
        return w.readframes(w.getnframes())


def expected(ticket_clips: list[str], repeat: int = 2, pack: Path = DEFAULT_PACK) -> bytes:
    """The frames an announcement must hold, built here from the clip files and the pause lengths."""
    gap = lambda ms: b"\x00\x00" * (RATE_HZ * ms // 1000)      # noqa: E731  16-bit mono silence
    out = clip_frames(CHIME, pack) + gap(CHIME_PAUSE_MS)
    for r in range(repeat):
        for i, text in enumerate(ticket_clips):
            out += clip_frames(text, pack)
            last = i == len(ticket_clips) - 1
            out += gap(WORD_PAUSE_MS if not last else REPEAT_PAUSE_MS if r < repeat - 1 else 0)
    return out


def calls(hall: Hall) -> list[dict[str, Any]]:
    return hall.backend.snapshot("calls")[1]["calls"]["recent"]


def read_wav(data: bytes) -> tuple[wave._wave_params, bytes]:   # type: ignore[name-defined]
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getparams(), w.readframes(w.getnframes())


def call_a001_at_window_2(hall: Hall) -> dict[str, Any]:
    hall.sync()
    hall.drv.sign_in(2, "1001")
    hall.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall.drv.ok("queue.call_next", {}, "terminal-2")
    return calls(hall)[0]


def test_the_wav_is_the_clips_in_order_with_the_pauses(hall_env: Hall, client: TestClient) -> None:
    call = call_a001_at_window_2(hall_env)
    assert (call["ticket"], call["window"], call["kind"]) == ("A001", 2, "called")
    r = client.get(f"/screen/announce/{call['id']}.wav")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    assert r.headers["cache-control"] == "public, max-age=86400"
    params, frames = read_wav(r.content)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, RATE_HZ)
    said = ["请", "A", "零", "零", "一", "号", "到", "二", "号窗口", "办理"]
    assert clips(announcement(Calling().template_parts, "A001", 2, 2)) == [CHIME] + said * 2
    assert frames == expected(said)
    # the duration is the clips' plus the pauses' (chime, 9 word gaps twice, one repeat gap)
    clip_s = (len(clip_frames(CHIME)) + 2 * sum(len(clip_frames(c)) for c in said)) / 2 / RATE_HZ
    pause_s = (CHIME_PAUSE_MS + 2 * 9 * WORD_PAUSE_MS + REPEAT_PAUSE_MS) / 1000
    assert params.nframes / params.framerate == pytest.approx(clip_s + pause_s, abs=1 / RATE_HZ)
    assert 4.0 < params.nframes / params.framerate < 20.0


def test_recall_and_call_back_are_announced_and_cached(hall_env: Hall, client: TestClient) -> None:
    first = call_a001_at_window_2(hall_env)
    hall_env.drv.ok("queue.recall", {}, "terminal-2")
    again = calls(hall_env)[0]
    assert again["kind"] == "recalled" and again["id"] != first["id"]
    one = client.get(f"/screen/announce/{first['id']}.wav")
    two = client.get(f"/screen/announce/{again['id']}.wav")
    assert one.status_code == two.status_code == 200
    assert one.content == two.content                  # the same words: one assembly
    # park it, call the next, no-show that, call the parked one back
    hall_env.drv.ok("job.start", {}, "terminal-2")
    hall_env.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall_env.drv.ok("queue.park", {}, "terminal-2")
    hall_env.drv.ok("queue.call_next", {}, "terminal-2")
    hall_env.drv.ok("queue.no_show", {}, "terminal-2")
    ticket_id = hall_env.hub.reader().execute("SELECT id FROM tickets WHERE no = 'A001'").fetchone()[0]
    hall_env.drv.ok("queue.call_back", {"ticket_id": ticket_id}, "terminal-2")
    back = calls(hall_env)[0]
    assert back["kind"] == "called_back" and back["ticket"] == "A001"
    r = client.get(f"/screen/announce/{back['id']}.wav")
    assert r.status_code == 200 and r.content == one.content
    a002 = next(c for c in calls(hall_env) if c["ticket"] == "A002")
    r = client.get(f"/screen/announce/{a002['id']}.wav")
    assert read_wav(r.content)[1] == expected(["请", "A", "零", "零", "二", "号", "到", "二", "号窗口", "办理"])


def test_only_todays_calls(hall_env: Hall, client: TestClient) -> None:
    yesterday = int(time.time() * 1000) - 86_400_000
    hall_env.drv.now = yesterday
    hall_env.drv.sign_in(1, "1003")
    hall_env.drv.ok("queue.take", {"category": "A"}, "dispenser-1")
    hall_env.drv.ok("queue.call_next", {}, "terminal-1")
    old = calls(hall_env)[0]
    today = call_a001_at_window_2(hall_env)
    assert client.get(f"/screen/announce/{today['id']}.wav").status_code == 200
    r = client.get(f"/screen/announce/{old['id']}.wav")
    assert r.status_code == 404
    assert "没有这条叫号播报" in r.text and "Traceback" not in r.text
    db = hall_env.hub.reader()
    taken = db.execute("SELECT MAX(id) FROM ticket_events WHERE kind = 'taken'").fetchone()[0]
    for path in (f"{taken}", "0", "999999", "99999999999999999999999", "-1", "abc", f"{today['id']}x"):
        r = client.get(f"/screen/announce/{path}.wav")
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("text/html")
        assert "A001" not in r.text


def test_it_is_a_public_read_with_the_read_budget(hall_env: Hall, client: TestClient) -> None:
    call = call_a001_at_window_2(hall_env)
    codes = [client.get(f"/screen/announce/{call['id']}.wav").status_code for _ in range(61)]
    assert codes[:60] == [200] * 60 and codes[60] == 429


def test_a_pack_that_breaks_after_start_gives_a_503_page(tmp_path: Path, pin_hash: str) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("chime.wav", "letter-A.wav", "word-qing.wav"):
        (pack / name).write_bytes((DEFAULT_PACK / name).read_bytes())
    config = dataclasses.replace(make_config(pin_hash), calling=Calling(voice_pack=pack))
    hub = Hub(tmp_path / "hall.db", config)
    try:
        drv = Driver(hub, int(time.time() * 1000))
        drv.sign_in(1, "1001")
        drv.ok("queue.take", {"category": "A"}, "dispenser-1")
        drv.ok("queue.call_next", {}, "terminal-1")
        event = hub.state.get("calls")["recent"][0]["id"]
        with TestClient(make_app(LocalBackend(hub)), base_url="http://hall.test") as c:
            r = c.get(f"/screen/announce/{event}.wav")
        assert r.status_code == 503
        assert "叫号语音暂不可用" in r.text and "digit" not in r.text and "Traceback" not in r.text
    finally:
        hub.close()


# --- the cache -------------------------------------------------------------------------------------

def test_cache_is_bounded_and_notices_a_changed_clip(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    for path in DEFAULT_PACK.glob("*.wav"):
        (pack / path.name).write_bytes(path.read_bytes())
    calling = Calling(voice_pack=pack)
    cache = AnnouncementCache(max_bytes=1_000_000)
    first = cache.wav(calling, "A001", 1)
    assert cache.wav(calling, "A001", 1) is first and (cache.hits, cache.misses) == (1, 1)
    for n in range(2, 12):
        cache.wav(calling, f"A{n:03d}", 1)
    assert cache.size_bytes <= 1_000_000 and len(cache) < 11
    # a hall replaces a clip with its own recording: the next announcement uses it
    src = pack / "digit-1.wav"
    with wave.open(str(src), "rb") as w:
        params = w.getparams()
    with wave.open(str(src), "wb") as w:
        w.setparams(params)
        w.writeframes(b"\x01\x00" * 3200)
    changed = cache.wav(calling, "A001", 1)
    assert changed != first
    assert b"\x01\x00" * 3200 in changed


def test_a_packs_own_word_is_said(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    for path in DEFAULT_PACK.glob("*.wav"):
        (pack / path.name).write_bytes(path.read_bytes())
    (pack / "word-guke.wav").write_bytes((DEFAULT_PACK / "letter-G.wav").read_bytes())   # stands in for 顾客
    (pack / "words.toml").write_text('[words]\n"顾客" = "word-guke.wav"\n', "utf-8")
    parts = ("请", "{ticket}", "号", "顾客", "到", "{window}", "号窗口")
    wav = AnnouncementCache().wav(Calling(template_parts=parts, announce_repeat=1, voice_pack=pack), "B7", 105)
    said = ["请", "B", "七", "号", "G", "到", "一", "百", "零", "五", "号窗口"]
    assert read_wav(wav)[1] == expected(said, repeat=1)
