"""Writes prompt.wav: the two-tone chime the evaluator plays when a rating opens.

A recorded voice prompt ("请您对本次服务进行评价") can replace it with `--prompt-audio FILE`.
Run: python kiosk/assets/make_prompt.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000


def chime() -> bytes:
    out = bytearray()
    for freq, dur in ((880.0, 0.25), (660.0, 0.45)):
        n = int(RATE * dur)
        for i in range(n):
            env = min(1.0, i / 200) * (1 - i / n) ** 2
            out += struct.pack("<h", int(12000 * env * math.sin(2 * math.pi * freq * i / RATE)))
    return bytes(out)


def main() -> None:
    path = Path(__file__).with_name("prompt.wav")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(chime())
    print(path)


if __name__ == "__main__":
    main()
