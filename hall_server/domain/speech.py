"""What a call announcement says, as a sequence of voice-pack clips (pure; no sound here).

"请{ticket}号到{window}号窗口办理" for ticket A012 at window 3 is: chime, then 请 A 零 一 二 号 到 三
号窗口 办理, said `repeat` times. The ticket is read character by character (letters as letters,
digits as digits), the window as a number (12: 十二, 20: 二十, 105: 一百零五, 110: 一百一十). Each clip
is named by what it says: a key of `config.voice_pack.VOCABULARY` (CHIME for the chime). The
template comes already split into placeholders and words (`config.voice_pack.parse_template`, at
config load); `hall_server.web.announce_audio` turns the steps into one WAV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from config.voice_pack import CHIME, DIGITS, HUNDRED, TEN, TICKET, WINDOW

WORD_PAUSE_MS = 120          # between two clips of one saying
CHIME_PAUSE_MS = 300         # after the chime
REPEAT_PAUSE_MS = 800        # between two sayings
MAX_WINDOW = 999             # windows.toml numbers are 1–999


class Unspeakable(ValueError):
    """A ticket or window number has a character or value no clip says."""


@dataclass(frozen=True)
class Step:
    clip: str                # what the clip says (a key of config.voice_pack.VOCABULARY)
    pause_after_ms: int      # silence after it


def ticket_clips(ticket: str) -> list[str]:
    """A012 → A 零 一 二: uppercase letters as letters, digits as digits."""
    out = []
    for char in ticket:
        if "A" <= char <= "Z":
            out.append(char)
        elif "0" <= char <= "9":
            out.append(DIGITS[int(char)])
        else:
            raise Unspeakable(f"ticket {ticket!r}: no clip says {char!r}")
    if not out:
        raise Unspeakable("empty ticket number")
    return out


def window_clips(number: int) -> list[str]:
    """A window number read as a number: 3 三, 10 十, 12 十二, 20 二十, 99 九十九, 100 一百,
    105 一百零五, 110 一百一十, 999 九百九十九."""
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_WINDOW:
        raise Unspeakable(f"window number must be 1–{MAX_WINDOW}, got {number!r}")
    hundreds, rest = divmod(number, 100)
    if not hundreds:
        return _below_hundred(rest, leading=True)
    out = [DIGITS[hundreds], HUNDRED]
    if rest and rest < 10:
        out += [DIGITS[0], DIGITS[rest]]               # 105: 一百零五
    elif rest:
        out += _below_hundred(rest, leading=False)     # 110: 一百一十, 125: 一百二十五
    return out


def _below_hundred(n: int, leading: bool) -> list[str]:
    """1–99; a leading 10–19 is 十… (十二), after 百 it is 一十… (一百一十二)."""
    tens, ones = divmod(n, 10)
    out = [] if not tens else [TEN] if tens == 1 and leading else [DIGITS[tens], TEN]
    if ones or not tens:
        out.append(DIGITS[ones])
    return out


def saying(parts: Sequence[str], ticket: str, window: int) -> list[str]:
    """One saying of the template: its words, with the ticket and window read out."""
    out: list[str] = []
    for part in parts:
        if part == TICKET:
            out += ticket_clips(ticket)
        elif part == WINDOW:
            out += window_clips(window)
        else:
            out.append(part)
    return out


def announcement(parts: Sequence[str], ticket: str, window: int, repeat: int) -> tuple[Step, ...]:
    """The chime, then the saying `repeat` times, with the pauses between."""
    if repeat < 1:
        raise Unspeakable(f"repeat must be at least 1, got {repeat}")
    words = saying(parts, ticket, window)
    steps = [Step(CHIME, CHIME_PAUSE_MS)]
    for r in range(repeat):
        last_pause = REPEAT_PAUSE_MS if r < repeat - 1 else 0
        steps += [Step(w, WORD_PAUSE_MS if i < len(words) - 1 else last_pause) for i, w in enumerate(words)]
    return tuple(steps)


def clips(steps: Sequence[Step]) -> list[str]:
    return [s.clip for s in steps]
