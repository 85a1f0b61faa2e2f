"""Writes prompt.wav: what the evaluator plays when a rating opens — a short chime, then the spoken
prompt "请您对本次服务进行评价" (Mandarin, from espeak-ng's cmn voice).

The clip is generated once and committed; the kiosk only plays it. espeak-ng (Debian package
espeak-ng) is needed to regenerate it; without it this writes the chime alone. A recorded voice can
replace it at run time with `--prompt-audio FILE`.
Run: python kiosk/assets/make_prompt.py
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

RATE = 22_050                      # espeak-ng's own output rate
PROMPT_ZH = "请您对本次服务进行评价"


def chime() -> bytes:
    out = bytearray()
    for freq, dur in ((880.0, 0.25), (660.0, 0.45)):
        n = int(RATE * dur)
        for i in range(n):
            env = min(1.0, i / 200) * (1 - i / n) ** 2
            out += struct.pack("<h", int(12000 * env * math.sin(2 * math.pi * freq * i / RATE)))
    return bytes(out + b"\x00\x00" * int(RATE * 0.15))


def speech(text: str) -> bytes:
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: writing the chime alone")
        return b""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "cmn", "-s", "175", "-w", str(out), text], check=True)
        with wave.open(str(out), "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE):
                raise SystemExit(f"unexpected espeak-ng output format {w.getparams()}")
            return w.readframes(w.getnframes())


def main() -> None:
    path = Path(__file__).with_name("prompt.wav")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(chime() + speech(PROMPT_ZH))
    print(path)


if __name__ == "__main__":
    main()
