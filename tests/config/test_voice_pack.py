"""Voice packs (config/voice_pack.py) and hall.toml [calling] (config/read_calling.py): the shipped
pack, packs with a clip missing or clips in mixed formats, and template errors, as `load_hall` and
`python -m config check` report them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.loader import load_hall
from config.voice_pack import (
    CHIME, DEFAULT_PACK, VOCABULARY, ClipFormat, ClipMissing, ClipUnreadable, MixedFormats, TemplateError,
    VoicePackError, index_pack, parse_template,
)

ROOT = Path(__file__).resolve().parents[2]
WORDS = set(VOCABULARY) - {CHIME}
LISTED = "the words a pack can say are listed in zh-mandarin/README.md, and a pack adds its own in words.toml"


def pack_copy(tmp: Path, name: str = "our-pack") -> Path:
    target = tmp / name
    shutil.copytree(DEFAULT_PACK, target)
    return target


def with_calling(hall: Path, section: str) -> None:
    path = hall / "hall.toml"
    path.write_text(path.read_text("utf-8") + "\n[calling]\n" + section + "\n", "utf-8")


def problems(hall: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_hall(hall)
    return [str(p) for p in err.value.problems]


def write_wav(path: Path, rate_hz: int = 16000, channels: int = 1, width: int = 2, frames: int = 1600) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate_hz)
        w.writeframes(b"\x00" * frames * channels * width)


# --- the shipped pack ----------------------------------------------------------------------------

def test_shipped_pack_has_every_clip_in_one_small_format() -> None:
    index = index_pack(DEFAULT_PACK)
    assert set(index.files) == set(VOCABULARY)
    assert index.format == ClipFormat(16000, 1, 2)
    total = sum(p.stat().st_size for p in DEFAULT_PACK.iterdir())
    assert total < 1024 * 1024, total
    readme = (DEFAULT_PACK / "README.md").read_text("utf-8")
    for text, stem in VOCABULARY.items():
        if stem.startswith(("digit-", "letter-")):
            continue                    # listed as ranges: digit-0.wav … digit-9.wav
        assert f"`{stem}.wav`" in readme and (text == CHIME or text in readme), stem
    assert "`digit-0.wav` … `digit-9.wav`" in readme and "`letter-A.wav` … `letter-Z.wav`" in readme


def test_shipped_clips_are_short_and_not_silent() -> None:
    for path in DEFAULT_PACK.glob("*.wav"):
        with wave.open(str(path), "rb") as w:
            data = w.readframes(w.getnframes())
            seconds = w.getnframes() / w.getframerate()
        assert 0.1 < seconds < 2.0, path.name
        assert max(abs(int.from_bytes(data[i:i + 2], "little", signed=True)) for i in range(0, len(data), 2)) > 8000


def test_demo_hall_uses_the_shipped_pack(demo_dir: Path) -> None:
    calling = load_hall(demo_dir).calling
    assert calling.voice_pack == DEFAULT_PACK
    assert calling.announce_repeat == 2
    assert calling.template_parts == ("请", "{ticket}", "号", "到", "{window}", "号窗口", "办理")


# --- pack problems -------------------------------------------------------------------------------

def test_mixed_formats_are_refused(tmp_path: Path) -> None:
    pack = pack_copy(tmp_path)
    write_wav(pack / "digit-7.wav", rate_hz=22050)
    with pytest.raises(MixedFormats) as err:
        index_pack(pack)
    assert "digit-7.wav is 22050 Hz, 1 channel(s), 16-bit but chime.wav is 16000 Hz" in str(err.value)
    write_wav(pack / "digit-7.wav", channels=2)
    with pytest.raises(MixedFormats, match="digit-7.wav is 16000 Hz, 2 channel"):
        index_pack(pack)
    write_wav(pack / "digit-7.wav", width=1)
    with pytest.raises(MixedFormats, match="digit-7.wav is 16000 Hz, 1 channel\\(s\\), 8-bit"):
        index_pack(pack)


def test_unreadable_clips_are_refused(tmp_path: Path) -> None:
    pack = pack_copy(tmp_path)
    (pack / "word-dao.wav").write_text("not a wav", "utf-8")
    with pytest.raises(ClipUnreadable, match="word-dao.wav is not a PCM WAV file"):
        index_pack(pack)
    write_wav(pack / "word-dao.wav", frames=0)
    with pytest.raises(ClipUnreadable, match="word-dao.wav holds no sound"):
        index_pack(pack)
    write_wav(pack / "word-dao.wav", frames=16000 * 11)
    with pytest.raises(ClipUnreadable, match="word-dao.wav lasts 11.0 s"):
        index_pack(pack)
    (pack / "word-dao.wav").unlink()
    (pack / "word-dao.wav").mkdir()
    with pytest.raises(ClipUnreadable, match="not a regular file"):
        index_pack(pack)


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(VoicePackError, match="no such folder"):
        index_pack(tmp_path / "nothing")
    with pytest.raises(ClipMissing, match="holds none of the pack's clips"):
        index_pack(tmp_path)


@pytest.mark.parametrize("removed, says", [("digit-7.wav", "七"), ("chime.wav", "a chime"), ("letter-A.wav", "A"),
                                           ("number-10.wav", "十")])
def test_load_names_a_missing_clip(hall_copy: Path, removed: str, says: str) -> None:
    pack = pack_copy(hall_copy, "voice")
    (pack / removed).unlink()
    with_calling(hall_copy, 'voice_pack = "voice"')
    assert problems(hall_copy) == [f'hall.toml: calling.voice_pack: "voice" lacks {removed} ({says}), '
                                   "needed to announce this hall's calls"]


def test_only_the_clips_this_hall_needs(hall_copy: Path) -> None:
    """The demo hall's ticket prefixes are A–H and its windows 1–16: no Z, no 百 needed."""
    pack = pack_copy(hall_copy, "voice")
    for name in ("letter-Z.wav", "letter-Q.wav", "number-100.wav", "word-chuangkou.wav"):
        (pack / name).unlink()
    with_calling(hall_copy, 'voice_pack = "voice"')
    assert load_hall(hall_copy).calling.voice_pack == pack.resolve()


def test_a_template_word_whose_clip_is_missing(hall_copy: Path) -> None:
    pack = pack_copy(hall_copy, "voice")
    (pack / "word-banli.wav").unlink()
    with_calling(hall_copy, 'voice_pack = "voice"')
    assert problems(hall_copy) == ['hall.toml: calling.announce_template: "办理" needs the clip word-banli.wav, '
                                   "which the voice pack lacks"]


def test_a_missing_pack_folder(hall_copy: Path) -> None:
    with_calling(hall_copy, 'voice_pack = "no-such-pack"')
    [problem] = problems(hall_copy)
    assert problem.startswith('hall.toml: calling.voice_pack: "no-such-pack": no such folder ')


# --- the template --------------------------------------------------------------------------------

@pytest.mark.parametrize("template, message", [
    ("请{ticket}号到{name}号窗口办理", "unknown placeholder {name}; use {ticket} and {window}"),
    ("请{ticket号到{window}号窗口办理", "unmatched '{' at character 2; the placeholders are {ticket} and {window}"),
    ("请{ticket}号到号窗口办理", "must hold {window} exactly once, holds it 0 times"),
    ("请{ticket}{ticket}号到{window}号窗口", "must hold {ticket} exactly once, holds it 2 times"),
    ("请{ticket}号顾客到{window}号窗口办理", 'no clip of the voice pack says "顾客" (at character 11); ' + LISTED),
    ("请{ticket}号到{window}号窗口办理。", 'no clip of the voice pack says "。" (at character 25); ' + LISTED),
    ("  ", "must not be empty"),
])
def test_template_errors(hall_copy: Path, template: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        parse_template(template, WORDS)
    assert str(err.value) == message
    with_calling(hall_copy, f'announce_template = "{template}"')
    assert problems(hall_copy) == [f"hall.toml: calling.announce_template: {message}"]


def test_repeat_and_unknown_keys(hall_copy: Path) -> None:
    with_calling(hall_copy, "announce_repeat = 0\nannounce_repeats = 2")
    assert problems(hall_copy) == [
        "hall.toml: calling.announce_repeat: must be between 1 and 5, got 0",
        'hall.toml: calling.announce_repeats: unknown key; did you mean "announce_repeat"?',
    ]


def test_a_valid_custom_calling_section(hall_copy: Path) -> None:
    with_calling(hall_copy, 'announce_template = "{ticket} 号 请到 {window} 窗口"\nannounce_repeat = 3')
    calling = load_hall(hall_copy).calling
    assert calling.template_parts == ("{ticket}", "号", "请", "到", "{window}", "窗口")
    assert calling.announce_repeat == 3


# --- a pack's own words (words.toml) ------------------------------------------------------------

def test_a_pack_adds_its_own_words(hall_copy: Path) -> None:
    pack = pack_copy(hall_copy, "voice")
    write_wav(pack / "word-guke.wav")
    (pack / "words.toml").write_text('[words]\n"顾客" = "word-guke.wav"\n', "utf-8")
    with_calling(hall_copy, 'voice_pack = "voice"\nannounce_template = "请{ticket}号顾客到{window}号窗口办理"')
    calling = load_hall(hall_copy).calling
    assert calling.template_parts == ("请", "{ticket}", "号", "顾客", "到", "{window}", "号窗口", "办理")
    assert index_pack(pack).files["顾客"] == pack / "word-guke.wav"


@pytest.mark.parametrize("words, message", [
    ('"顾客" = "word-guke.wav"', "words.toml: words.顾客: word-guke.wav is not in the pack"),
    ('"请" = "x.wav"', "words.toml: words.请: already a built-in word (its clip is word-qing.wav)"),
    ('"顾 客" = "x.wav"', "words.toml: words.顾 客: a word has no spaces, braces or brackets"),
    ('"顾客" = "../x.wav"', 'words.toml: words.顾客: expected a file name such as "word-guke.wav" (ASCII letters, '
                          "digits, _ . -)"),
    ('"顾客" = "digit-1.wav"', "words.toml: words.顾客: digit-1.wav is the clip of a built-in word"),
    ('"顾客" = 3', 'words.toml: words.顾客: expected a file name such as "word-guke.wav" (ASCII letters, '
                  "digits, _ . -)"),
])
def test_bad_words_toml(tmp_path: Path, words: str, message: str) -> None:
    pack = pack_copy(tmp_path)
    (pack / "words.toml").write_text("[words]\n" + words + "\n", "utf-8")
    with pytest.raises(VoicePackError) as err:
        index_pack(pack)
    assert str(err.value) == message


def test_words_toml_that_is_no_toml(tmp_path: Path) -> None:
    pack = pack_copy(tmp_path)
    (pack / "words.toml").write_text("[words\n", "utf-8")
    with pytest.raises(VoicePackError, match="^words.toml: invalid TOML"):
        index_pack(pack)
    (pack / "words.toml").write_text("[word]\n", "utf-8")
    with pytest.raises(VoicePackError, match="^words.toml: word: unknown key"):
        index_pack(pack)


def test_an_extra_clip_in_another_format_is_refused(tmp_path: Path) -> None:
    pack = pack_copy(tmp_path)
    write_wav(pack / "word-guke.wav", rate_hz=8000)
    (pack / "words.toml").write_text('[words]\n"顾客" = "word-guke.wav"\n', "utf-8")
    with pytest.raises(MixedFormats, match="word-guke.wav is 8000 Hz"):
        index_pack(pack)


# --- python -m config check ----------------------------------------------------------------------

def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "config", "check", str(folder)], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, timeout=60)


def test_config_check_passes_with_the_shipped_pack_and_names_a_removed_clip(hall_copy: Path) -> None:
    pack = pack_copy(hall_copy, "voice")
    with_calling(hall_copy, 'voice_pack = "voice"')
    done = check(hall_copy)
    assert done.returncode == 0, done.stderr
    (pack / "digit-4.wav").unlink()
    done = check(hall_copy)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "hall.toml: calling.voice_pack: \"voice\" lacks digit-4.wav (四), needed to announce this hall's calls",
        "1 problem in " + str(hall_copy),
    ]


def test_config_check_refuses_mixed_formats(hall_copy: Path) -> None:
    pack = pack_copy(hall_copy, "voice")
    write_wav(pack / "letter-B.wav", rate_hz=44100)
    with_calling(hall_copy, 'voice_pack = "voice"')
    done = check(hall_copy)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        'hall.toml: calling.voice_pack: "voice": letter-B.wav is 44100 Hz, 1 channel(s), 16-bit but chime.wav is '
        "16000 Hz, 1 channel(s), 16-bit; every clip of a pack must have the same format")
