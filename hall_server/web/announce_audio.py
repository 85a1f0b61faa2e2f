"""Call announcements as WAV files: the steps of `hall_server.domain.speech` assembled from a voice
pack's clips with the `wave` module, kept in a bounded in-memory LRU.

The frames of an announcement are the clips' frames in order with silence (zero samples; 128 for
8-bit WAV) for each pause, in the pack's own format. A pack is read once per folder (about 0.5 MB
for the shipped one) and read again when its clips' sizes or times change.
"""

from __future__ import annotations

import io
import threading
import wave
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from config.schema import Calling
from config.voice_pack import ClipFormat, ClipMissing, PackIndex, index_pack, load_frames
from hall_server.domain.speech import Step, announcement

MAX_CACHE_BYTES = 16 * 1024 * 1024      # about 40 announcements of 12 s at 16 kHz mono 16-bit
MAX_PACKS = 4


@dataclass(frozen=True)
class LoadedPack:
    index: PackIndex
    frames: dict[str, bytes]
    stamp: tuple[tuple[str, int, int], ...]      # (file, size, mtime_ns) of every clip, to notice changes


def silence(fmt: ClipFormat, ms: int) -> bytes:
    count = fmt.rate_hz * ms // 1000
    return (b"\x80" if fmt.sample_width_bytes == 1 else b"\x00") * (count * fmt.frame_bytes)


def assemble(steps: Sequence[Step], frames: dict[str, bytes], fmt: ClipFormat) -> bytes:
    """One WAV file: every step's clip, then its pause. ClipMissing when the pack lacks a clip."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(fmt.channels)
        w.setsampwidth(fmt.sample_width_bytes)
        w.setframerate(fmt.rate_hz)
        for step in steps:
            clip = frames.get(step.clip)
            if clip is None:
                raise ClipMissing(f"the voice pack has no clip saying {step.clip!r}")
            w.writeframesraw(clip)
            if step.pause_after_ms:
                w.writeframesraw(silence(fmt, step.pause_after_ms))
    return out.getvalue()


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime_ns) of every WAV file in the folder: a clip added, removed or replaced
    changes it."""
    out = []
    for p in sorted(folder.glob("*.wav")):
        try:
            st = p.stat()
            out.append((p.name, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((p.name, -1, -1))
    return tuple(out)


class AnnouncementCache:
    """Announcement WAVs by (pack, template, repeat, ticket, window), at most MAX_CACHE_BYTES."""

    def __init__(self, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._wavs: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._bytes = 0
        self._packs: OrderedDict[Path, LoadedPack] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def pack(self, folder: Path) -> LoadedPack:
        """The pack's clips, read again when a clip file changed; raises VoicePackError."""
        held = self._packs.get(folder)
        stamp = _stamp(folder)
        if held is not None and stamp == held.stamp:
            return held
        index = index_pack(folder)
        loaded = LoadedPack(index, load_frames(index), stamp)
        self._packs[folder] = loaded
        self._packs.move_to_end(folder)
        while len(self._packs) > MAX_PACKS:
            self._packs.popitem(last=False)
        return loaded

    def wav(self, calling: Calling, ticket: str, window: int) -> bytes:
        """The announcement of `ticket` at `window` as a WAV file (raises Unspeakable, VoicePackError)."""
        with self._lock:
            pack = self.pack(calling.voice_pack)
            key = (calling.voice_pack, pack.stamp, calling.template_parts, calling.announce_repeat, ticket, window)
            held = self._wavs.get(key)
            if held is not None:
                self._wavs.move_to_end(key)
                self.hits += 1
                return held
            self.misses += 1
            steps = announcement(calling.template_parts, ticket, window, calling.announce_repeat)
            data = assemble(steps, pack.frames, pack.index.format)
            self._wavs[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes and len(self._wavs) > 1:
                _, old = self._wavs.popitem(last=False)
                self._bytes -= len(old)
            return data

    def __len__(self) -> int:
        return len(self._wavs)

    @property
    def size_bytes(self) -> int:
        return self._bytes
