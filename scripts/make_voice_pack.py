"""Make the default Mandarin voice pack (config/voicepacks/zh-mandarin/) with espeak-ng.

    python scripts/make_voice_pack.py [--out DIR] [--speed WPM]

Each clip of `config.voice_pack.VOCABULARY` is spoken by espeak-ng (Mandarin, voice `cmn-latn-pinyin`:
the plain `cmn` voice of Debian's espeak-ng 1.51 turns many characters into pinyin and then reads
the tone digits in English, "号" as "hao four"; this variant reads them as Mandarin), its
leading and trailing silence trimmed, resampled to 16 kHz mono 16-bit, peak-normalised and faded
in and out over a few milliseconds; the chime is two soft sine tones (a "ding-dong") made here.
Run once; the result is committed. espeak-ng comes from Debian (`apt-get install espeak-ng`):
when it is missing and this runs as root, it is installed.
"""

from __future__ import annotations

import argparse
import array
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.voice_pack import CHIME, DEFAULT_PACK, VOCABULARY  # noqa: E402

RATE_HZ = 16_000
PEAK = 0.7 * 32767              # about -3 dBFS
FADE_MS = 8
CHIME_LEVEL = 0.5               # the chime's peak, relative to the speech's: soft, not startling
SILENCE_LEVEL = 500             # |sample| below this at the ends counts as silence
KEEP_MS = 15                    # silence kept before and after the speech
VOICE = "cmn-latn-pinyin"


def ensure_espeak() -> str:
    found = shutil.which("espeak-ng")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("espeak-ng is missing: run  sudo apt-get install espeak-ng  and try again")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "espeak-ng"], check=True, env=env)
    found = shutil.which("espeak-ng")
    if not found:
        sys.exit("espeak-ng could not be installed")
    return found


def speak(espeak: str, text: str, speed_wpm: int) -> tuple[int, array.array]:
    """espeak-ng's 16-bit mono samples for `text` and their rate."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.wav"
        subprocess.run([espeak, "-v", VOICE, "-s", str(speed_wpm), "-w", str(out), text], check=True)
        with wave.open(str(out), "rb") as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2, "espeak-ng writes 16-bit mono"
            samples = array.array("h", w.readframes(w.getnframes()))
            return w.getframerate(), samples


def trim(samples: array.array, rate_hz: int) -> array.array:
    loud = [i for i, s in enumerate(samples) if abs(s) >= SILENCE_LEVEL]
    if not loud:
        return samples
    keep = rate_hz * KEEP_MS // 1000
    return samples[max(0, loud[0] - keep):min(len(samples), loud[-1] + keep)]


def resample(samples: array.array, from_hz: int, to_hz: int) -> list[float]:
    """Linear interpolation (speech from espeak-ng has little energy above 8 kHz)."""
    if from_hz == to_hz:
        return [float(s) for s in samples]
    count = int(len(samples) * to_hz / from_hz)
    out = []
    for i in range(count):
        x = i * from_hz / to_hz
        j = int(x)
        frac = x - j
        nxt = samples[j + 1] if j + 1 < len(samples) else samples[j]
        out.append(samples[j] * (1 - frac) + nxt * frac)
    return out


def finish(values: list[float], rate_hz: int, level: float = 1.0) -> bytes:
    """Peak-normalise (to `level` × PEAK), fade in and out, and pack as 16-bit little-endian samples."""
    peak = max((abs(v) for v in values), default=0.0) or 1.0
    gain = level * PEAK / peak
    fade = min(len(values) // 2, rate_hz * FADE_MS // 1000)
    out = array.array("h")
    for i, v in enumerate(values):
        ramp = min(1.0, i / fade, (len(values) - 1 - i) / fade) if fade else 1.0
        out.append(int(max(-32767, min(32767, round(v * gain * ramp)))))
    if sys.byteorder != "little":
        out.byteswap()
    return out.tobytes()


def chime(rate_hz: int) -> bytes:
    """Two soft tones, ding (E6-ish) then dong (C6-ish), each decaying, with their overtone."""
    values: list[float] = []
    for freq_hz, length_s in ((1318.5, 0.45), (1046.5, 0.75)):
        n = int(rate_hz * length_s)
        for i in range(n):
            t = i / rate_hz
            env = math.exp(-4.5 * t) * min(1.0, t / 0.005)
            values.append(env * (math.sin(2 * math.pi * freq_hz * t) + 0.25 * math.sin(4 * math.pi * freq_hz * t)))
    return finish(values, rate_hz, CHIME_LEVEL)


def write(path: Path, frames: bytes) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_HZ)
        w.writeframes(frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_PACK, help="the pack folder (default: %(default)s)")
    parser.add_argument("--speed", type=int, default=150, help="espeak-ng words a minute (default: %(default)s)")
    args = parser.parse_args(argv)
    espeak = ensure_espeak()
    args.out.mkdir(parents=True, exist_ok=True)
    for text, stem in VOCABULARY.items():
        if text == CHIME:
            frames = chime(RATE_HZ)
        else:
            rate_hz, samples = speak(espeak, text, args.speed)
            frames = finish(resample(trim(samples, rate_hz), rate_hz, RATE_HZ), RATE_HZ)
        write(args.out / f"{stem}.wav", frames)
        print(f"{stem}.wav  {text}  {len(frames) / 2 / RATE_HZ * 1000:.0f} ms")
    total = sum(p.stat().st_size for p in args.out.glob("*.wav"))
    print(f"{len(VOCABULARY)} clips, {total / 1024:.0f} KiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
