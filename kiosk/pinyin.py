"""An on-screen pinyin input for the comment box: letters in, Chinese characters out.

The citizen types toneless pinyin on the on-screen keyboard (ü as v) and picks a candidate:
whole phrases first (服务 for "fuwu"), then single characters (the most common first), for
the whole buffer and for its first syllable. The index is built once from pypinyin's data,
lazily, the first time the comment screen is opened, in a child process (`python -m
kiosk.pinyin` prints it as JSON): building it reads pypinyin's whole dictionaries, some 60 MB of
small Python objects that, freed, stay in the kiosk's heap (fragmented) for its lifetime; the
index itself is about 10 MB. Where no child can run, it is built in this process. The data is
read from pypinyin's own JSON files, not by importing the package, which would keep it all.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

MAX_TEXT = 200
PAGE = 8
BUILD_TIMEOUT_S = 60.0
ROOT = Path(__file__).resolve().parent.parent      # the folder holding the `kiosk` package

log = logging.getLogger("kiosk.pinyin")

Index = tuple[dict[str, list[str]], dict[str, list[str]]]


def toneless(syllable: str) -> str:
    s = syllable.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v")
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return s.replace("u\u0308", "v").lower()


def _common_chars() -> list[str]:
    """GB2312's 6,763 characters: what a citizen writes in a comment."""
    out = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


@lru_cache(maxsize=1)
def index() -> Index:
    """(syllable → characters, joined pinyin → phrases), most common first: from a child process
    (see the module docstring), else built here."""
    try:
        return index_from_child()
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        log.warning("pinyin index: the child process failed (%s); building it in this process", exc)
        return build_index()


def index_from_child(timeout_s: float = BUILD_TIMEOUT_S) -> Index:
    """`build_index()` run by `python -m kiosk.pinyin`; raises OSError, ValueError (bad output) or
    subprocess.SubprocessError (failed, timed out)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    out = subprocess.run([sys.executable, "-m", "kiosk.pinyin"], capture_output=True, check=True, env=env,
                         timeout=timeout_s, cwd=ROOT).stdout
    chars, phrases = json.loads(out)
    if not isinstance(chars, dict) or not isinstance(phrases, dict) or not chars:
        raise ValueError("not an index")
    return chars, phrases


def build_index() -> Index:
    """(syllable → characters, joined pinyin → phrases), most common first.

    A character's weight for a syllable is how often pypinyin's phrase list reads it so."""
    phrases_dict, pinyin_dict = _pypinyin_data()
    freq: Counter[tuple[str, str]] = Counter()
    keyed: list[tuple[str, str]] = []
    for phrase, readings in phrases_dict.items():
        if len(readings) != len(phrase):
            continue
        syls = [toneless(r[0]) for r in readings]
        freq.update(zip(phrase, syls))
        if 2 <= len(phrase) <= 4:
            keyed.append(("".join(syls), phrase))
    phrases: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for key, phrase in keyed:
        phrases[key].append((-min(freq[(c, s)] for c, s in zip(phrase, _split(phrase, phrases_dict))), phrase))
    chars: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for order, ch in enumerate(_common_chars()):
        readings = pinyin_dict.get(ord(ch))
        if not readings:
            continue
        for r in dict.fromkeys(toneless(x) for x in readings.split(",")):
            chars[r].append((-freq[(ch, r)], order, ch))
    return ({k: [c for *_, c in sorted(v)] for k, v in chars.items()},
            {k: [p for _, p in sorted(v)] for k, v in phrases.items()})


def _pypinyin_data() -> tuple[dict[str, list[list[str]]], dict[int, str]]:
    """pypinyin's readings of phrases and of characters (code point → "yī,..."), read from the JSON
    files its `phrases_dict` / `pinyin_dict` modules load; only if those files are not where the
    pinned version keeps them, from the modules themselves."""
    spec = importlib.util.find_spec("pypinyin")         # finds the package without running it
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in map(Path, folders):
        phrases_file, chars_file = folder / "phrases_dict.json", folder / "pinyin_dict.json"
        if phrases_file.is_file() and chars_file.is_file():
            phrases: dict[str, list[list[str]]] = json.loads(phrases_file.read_text(encoding="utf-8"))
            raw: dict[str, Any] = json.loads(chars_file.read_text(encoding="utf-8"))
            return phrases, {int(code): readings for code, readings in raw.items()}
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    return phrases_dict, pinyin_dict


def _split(phrase: str, phrases_dict: dict) -> list[str]:
    return [toneless(r[0]) for r in phrases_dict[phrase]]


def _leading_phrases(buffer: str) -> tuple[int, list[str]]:
    """Phrases spelled by the longest leading part of `buffer` (letters used, phrases)."""
    phrases = index()[1]
    for n in range(len(buffer), 1, -1):
        if buffer[:n] in phrases:
            return n, phrases[buffer[:n]]
    return 0, []


def _leading_syllable(buffer: str) -> int:
    chars = index()[0]
    for n in range(min(6, len(buffer)), 0, -1):
        if buffer[:n] in chars:
            return n
    return 0


def candidates(buffer: str) -> list[str]:
    """What typing `buffer` may mean: phrases spelled by (the start of) it, then characters of its
    first syllable, or of every syllable an unfinished one may become."""
    buffer = buffer.lower()
    if not buffer:
        return []
    chars = index()[0]
    out: list[str] = list(_leading_phrases(buffer)[1])
    n = _leading_syllable(buffer)
    if n:
        out += chars[buffer[:n]]
    if n < len(buffer) or not n:
        ranked: list[tuple[int, str]] = []
        for syl in (k for k in chars if k.startswith(buffer)):
            ranked += [(i, c) for i, c in enumerate(chars[syl][:6])]
        out += [c for _, c in sorted(ranked, key=lambda x: x[0])]
    return list(dict.fromkeys(out))


def consumed(buffer: str, choice: str) -> int:
    """How many letters of `buffer` picking `choice` uses up."""
    n, phrases = _leading_phrases(buffer)
    if len(choice) > 1 and choice in phrases:
        return n
    n = _leading_syllable(buffer)
    if n and choice in index()[0][buffer[:n]]:
        return n
    return len(buffer)


class PinyinInput:
    """The comment being written: committed text, the pinyin being typed, its candidates."""

    def __init__(self, text: str = "") -> None:
        self.text = text[:MAX_TEXT]
        self.buffer = ""
        self.page = 0

    def key(self, letter: str) -> None:
        letter = letter.lower()
        if len(letter) == 1 and "a" <= letter <= "z" and len(self.buffer) < 24:
            self.buffer += letter
            self.page = 0

    def backspace(self) -> None:
        if self.buffer:
            self.buffer = self.buffer[:-1]
            self.page = 0
        elif self.text:
            self.text = self.text[:-1]

    def put(self, chars: str) -> None:
        """Punctuation or digits straight into the text."""
        if not self.buffer:
            self.text = (self.text + chars)[:MAX_TEXT]

    def all_candidates(self) -> list[str]:
        return candidates(self.buffer)

    def shown(self) -> list[str]:
        c = self.all_candidates()
        return c[self.page * PAGE:(self.page + 1) * PAGE]

    def more(self) -> None:
        if (self.page + 1) * PAGE < len(self.all_candidates()):
            self.page += 1
        else:
            self.page = 0

    def pick(self, i: int) -> None:
        shown = self.shown()
        if not 0 <= i < len(shown):
            return
        choice = shown[i]
        n = consumed(self.buffer, choice)
        self.text = (self.text + choice)[:MAX_TEXT]
        self.buffer = self.buffer[n:]
        self.page = 0


if __name__ == "__main__":          # the child process of `index_from_child`
    sys.stdout.write(json.dumps(build_index(), ensure_ascii=False, separators=(",", ":")))
