"""Voice packs: folders of short WAV clips from which the hall's call announcements are assembled.

A pack is a folder of PCM WAV files, one per thing said, named in ASCII (a pack travels through
Windows zip tools and USB sticks, where Chinese file names get mangled); `VOCABULARY` maps what
each clip says to its file name, and the pack's README.md lists them. All clips of a pack share
one format (sample rate, channels, sample width): `index_pack` refuses a pack whose clips differ.

A pack may say more words than the built-in ones: its optional `words.toml` maps each extra word to
its clip (`[words]` "顾客" = "word-guke.wav"), so a hall's template can use them.

The announcement template (hall.toml `[calling] announce_template`, e.g. "请{ticket}号到{window}号窗口办理")
is split by `parse_template` into placeholders and words, each word one clip of the pack, the
longest clip first ("号窗口" before "号" + "窗口" when the pack has it). `needed_clips` says which
clips a hall needs besides the template's words: the chime, the ten digits, the letters of its
ticket prefixes, and 十 / 百 when it has windows numbered 10 and up / 100 and up.

Standard library only (config may import nothing else); `config.read_calling` reports the errors
as "hall.toml: calling.…: message" problems, the hall server reads the frames with `load_frames`.
"""

from __future__ import annotations

import re
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from config.toml_read import UnreadableToml, read_toml

CHIME = "[chime]"                    # the clip played before an announcement (says nothing)
DIGITS = "零一二三四五六七八九"        # digit d is read DIGITS[d], in ticket numbers and window numbers
TEN, HUNDRED = "十", "百"
TICKET, WINDOW = "{ticket}", "{window}"
PLACEHOLDERS = (TICKET, WINDOW)
DEFAULT_TEMPLATE = "请{ticket}号到{window}号窗口办理"
DEFAULT_PACK = Path(__file__).resolve().parent / "voicepacks" / "zh-mandarin"

_WORDS = {"请": "word-qing", "号": "word-hao", "到": "word-dao", "窗口": "word-chuangkou",
          "号窗口": "word-hao-chuangkou", "办理": "word-banli"}
# What a clip says → its file name without ".wav".
VOCABULARY: dict[str, str] = {
    CHIME: "chime",
    **{d: f"digit-{i}" for i, d in enumerate(DIGITS)},
    TEN: "number-10", HUNDRED: "number-100",
    **{chr(c): f"letter-{chr(c)}" for c in range(ord("A"), ord("Z") + 1)},
    **_WORDS,
}

MAX_CLIP_S = 10.0                    # a clip says one word: longer is a mistake (a whole recording)
MAX_CLIP_BYTES = 2 * 1024 * 1024
RATES_HZ = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000)
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
WORDS_FILE = "words.toml"
MAX_EXTRA_WORDS = 200
_EXTRA_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\.wav")


class VoicePackError(ValueError):
    """A voice pack cannot be used; the message says why, naming the file."""


class ClipUnreadable(VoicePackError):
    """A clip is not a PCM WAV file the `wave` module reads, or is empty, too long or too large."""


class MixedFormats(VoicePackError):
    """Two clips of one pack differ in sample rate, channels or sample width."""


class ClipMissing(VoicePackError):
    """The pack lacks a clip the hall needs."""


class TemplateError(ValueError):
    """The announcement template has an unknown placeholder or text no clip says."""


@dataclass(frozen=True)
class ClipFormat:
    rate_hz: int
    channels: int
    sample_width_bytes: int

    def __str__(self) -> str:
        return f"{self.rate_hz} Hz, {self.channels} channel(s), {self.sample_width_bytes * 8}-bit"

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.sample_width_bytes


@dataclass(frozen=True)
class PackIndex:
    """What a pack folder holds: the clips present (what each says → its file) and their format."""

    folder: Path
    files: dict[str, Path]
    format: ClipFormat

    def words(self) -> set[str]:
        """The texts a template may use: every clip except the chime."""
        return {text for text in self.files if text != CHIME}


def clip_file(text: str) -> str:
    return VOCABULARY[text] + ".wav"


def _header(path: Path) -> tuple[ClipFormat, int]:
    """The clip's format and its number of frames; ClipUnreadable when it is no usable WAV."""
    try:
        if not path.is_file():
            raise ClipUnreadable(f"{path.name} is not a regular file")
        if path.stat().st_size > MAX_CLIP_BYTES:
            raise ClipUnreadable(f"{path.name} is larger than {MAX_CLIP_BYTES // (1024 * 1024)} MiB")
        with wave.open(str(path), "rb") as w:
            fmt = ClipFormat(w.getframerate(), w.getnchannels(), w.getsampwidth())
            frames = w.getnframes()
    except (wave.Error, EOFError) as exc:
        raise ClipUnreadable(f"{path.name} is not a PCM WAV file ({exc})") from None
    except OSError as exc:
        raise ClipUnreadable(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    if fmt.rate_hz not in RATES_HZ or fmt.channels not in (1, 2) or fmt.sample_width_bytes not in (1, 2):
        raise ClipUnreadable(f"{path.name} is {fmt}; use 8- or 16-bit mono or stereo at "
                             f"{', '.join(map(str, RATES_HZ))} Hz")
    if frames == 0:
        raise ClipUnreadable(f"{path.name} holds no sound")
    if frames > MAX_CLIP_S * fmt.rate_hz:
        raise ClipUnreadable(f"{path.name} lasts {frames / fmt.rate_hz:.1f} s; a clip says one word "
                             f"(at most {MAX_CLIP_S:.0f} s)")
    return fmt, frames


def index_pack(folder: Path) -> PackIndex:
    """Read the headers of every known clip in `folder`; raise VoicePackError (a subclass) when the
    folder is missing, a clip is unreadable, or two clips differ in format."""
    if not folder.is_dir():
        raise VoicePackError(f"no such folder {folder}")
    files: dict[str, Path] = {}
    first: tuple[str, ClipFormat] | None = None
    wanted = {text: folder / f"{stem}.wav" for text, stem in VOCABULARY.items()}
    for text, path in {**wanted, **extra_words(folder)}.items():
        if not path.exists() and text in VOCABULARY:
            continue
        fmt, _ = _header(path)
        if first is None:
            first = (path.name, fmt)
        elif fmt != first[1]:
            raise MixedFormats(f"{path.name} is {fmt} but {first[0]} is {first[1]}; "
                               "every clip of a pack must have the same format")
        files[text] = path
    if first is None:
        raise ClipMissing(f"{folder} holds none of the pack's clips (e.g. {clip_file(CHIME)}, "
                          f"{clip_file(DIGITS[0])}); see {DEFAULT_PACK.name}/README.md")
    return PackIndex(folder=folder, files=files, format=first[1])


def extra_words(folder: Path) -> dict[str, Path]:
    """The pack's own words from its optional words.toml (`[words]` text = "file.wav"); raise
    VoicePackError naming the entry when one is wrong. A listed file must exist."""
    try:
        data = read_toml(folder / WORDS_FILE)
    except FileNotFoundError:
        return {}
    except UnreadableToml as exc:
        raise VoicePackError(f"{WORDS_FILE}: {exc}") from None
    unknown = sorted(set(data) - {"words"})
    if unknown:
        raise VoicePackError(f"{WORDS_FILE}: {unknown[0]}: unknown key; the file holds one table [words]")
    words = data.get("words", {})
    if not isinstance(words, dict):
        raise VoicePackError(f"{WORDS_FILE}: words: expected a table of \"text\" = \"file.wav\"")
    if len(words) > MAX_EXTRA_WORDS:
        raise VoicePackError(f"{WORDS_FILE}: words: at most {MAX_EXTRA_WORDS} words, got {len(words)}")
    builtin_files = {f"{stem}.wav" for stem in VOCABULARY.values()}
    out: dict[str, Path] = {}
    for text, name in words.items():
        where = f"{WORDS_FILE}: words.{text}"
        if not text.strip() or any(c.isspace() or c in "{}[]" for c in text):
            raise VoicePackError(f"{where}: a word has no spaces, braces or brackets")
        if text in VOCABULARY:
            raise VoicePackError(f"{where}: already a built-in word (its clip is {clip_file(text)})")
        if not isinstance(name, str) or not _EXTRA_FILE.fullmatch(name):
            raise VoicePackError(f'{where}: expected a file name such as "word-guke.wav" (ASCII letters, '
                                 "digits, _ . -)")
        if name in builtin_files:
            raise VoicePackError(f"{where}: {name} is the clip of a built-in word")
        if not (folder / name).exists():
            raise ClipMissing(f"{where}: {name} is not in the pack")
        out[text] = folder / name
    return out


def needed_clips(parts: Iterable[str], letters: Iterable[str], window_numbers: Iterable[int]) -> list[str]:
    """The clips a hall needs, in vocabulary order: the chime, the template's words, and for the
    placeholders the digits, the ticket prefixes' letters, and 十 / 百 when windows reach 10 / 100."""
    parts = list(parts)
    needed = {CHIME} | {p for p in parts if p not in PLACEHOLDERS}
    if TICKET in parts:
        needed |= set(DIGITS) | set("".join(letters))
    if WINDOW in parts:
        numbers = list(window_numbers)
        needed |= set(DIGITS)
        needed |= {TEN} if any(n >= 10 for n in numbers) else set()
        needed |= {HUNDRED} if any(n >= 100 for n in numbers) else set()
    order = {text: i for i, text in enumerate(VOCABULARY)}
    return sorted(needed, key=lambda text: (order.get(text, len(order)), text))


def missing_clips(index: PackIndex, needed: Iterable[str]) -> list[str]:
    """The file names of the needed clips the pack lacks, each with what it says."""
    return [f"{clip_file(text)} ({'a chime' if text == CHIME else text})"
            for text in needed if text not in index.files and text in VOCABULARY]


def parse_template(template: str, words: set[str]) -> tuple[str, ...]:
    """Split the template into placeholders and words (each a clip text in `words`), longest
    clip first; whitespace is skipped. Raise TemplateError naming what cannot be said."""
    if not template.strip():
        raise TemplateError("must not be empty")
    parts: list[str] = []
    pos = 0
    longest = max((len(w) for w in words), default=1)
    while pos < len(template):
        char = template[pos]
        if char.isspace():
            pos += 1
            continue
        if char in "{}":
            match = _PLACEHOLDER.match(template, pos)
            if match is None:
                raise TemplateError(f"unmatched {char!r} at character {pos + 1}; "
                                    f"the placeholders are {TICKET} and {WINDOW}")
            if match.group() not in PLACEHOLDERS:
                raise TemplateError(f"unknown placeholder {match.group()}; use {TICKET} and {WINDOW}")
            parts.append(match.group())
            pos = match.end()
            continue
        for size in range(min(longest, len(template) - pos), 0, -1):
            if template[pos:pos + size] in words:
                parts.append(template[pos:pos + size])
                pos += size
                break
        else:
            raise TemplateError(_unsayable(template, pos, words))
    for placeholder in PLACEHOLDERS:
        count = parts.count(placeholder)
        if count != 1:
            raise TemplateError(f"must hold {placeholder} exactly once, holds it {count} times")
    return tuple(parts)


def _unsayable(template: str, pos: int, words: set[str]) -> str:
    """The problem at `pos`: a known word whose clip the pack lacks, or text no clip says."""
    for text in sorted(VOCABULARY, key=len, reverse=True):
        if text != CHIME and template.startswith(text, pos) and text not in words:
            return f'"{text}" needs the clip {clip_file(text)}, which the voice pack lacks'
    end = pos + 1
    while end < len(template) and template[end] not in "{}" and not template[end].isspace() and not any(
            template.startswith(w, end) for w in words):
        end += 1
    return (f'no clip of the voice pack says "{template[pos:end]}" (at character {pos + 1}); the words a '
            f"pack can say are listed in {DEFAULT_PACK.name}/README.md, and a pack adds its own in {WORDS_FILE}")


def load_frames(index: PackIndex) -> dict[str, bytes]:
    """Every clip's PCM frames (what it says → bytes), checking the format again (the folder may
    have changed since it was indexed); raise VoicePackError."""
    out: dict[str, bytes] = {}
    for text, path in index.files.items():
        fmt, count = _header(path)
        if fmt != index.format:
            raise MixedFormats(f"{path.name} is {fmt} but the pack is {index.format}")
        try:
            with wave.open(str(path), "rb") as w:
                out[text] = w.readframes(count)
        except (wave.Error, EOFError, OSError) as exc:
            raise ClipUnreadable(f"{path.name} cannot be read ({exc})") from None
    return out
