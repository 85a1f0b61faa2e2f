"""Prepare the UI fonts (run by setup.sh): Simplified Chinese faces and their character maps.

Debian's Noto Sans CJK comes as collections (.ttc) whose first face is Japanese; Kivy opens the
first face. We extract the SC faces into .fonts/ and record which code points each UI font
covers, so screens can send the rare characters the SC face lacks (CJK Ext B and beyond,
DOMAIN R13) to a fallback face (HanaMin).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / ".fonts"
NOTO = Path("/usr/share/fonts/opentype/noto")
HANAZONO = Path("/usr/share/fonts/truetype/hanazono")


def _ranges(codepoints: set[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for cp in sorted(codepoints):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def _extract_sc(ttc: Path, target: Path) -> set[int]:
    for face in TTCollection(str(ttc)).fonts:
        if face["name"].getDebugName(1) in ("Noto Sans CJK SC", "Noto Sans CJK SC Regular"):
            face.save(str(target))
            return set(face.getBestCmap())
    raise SystemExit(f"prepare_fonts: no SC face in {ttc}")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    cmaps: dict[str, list[list[int]]] = {}
    for weight in ("Regular", "Bold"):
        src = NOTO / f"NotoSansCJK-{weight}.ttc"
        if not src.exists():
            print(f"prepare_fonts: {src} is missing (Debian package fonts-noto-cjk)", file=sys.stderr)
            return 1
        target = OUT / f"NotoSansSC-{weight}.otf"
        cps = _extract_sc(src, target) if not target.exists() else set(TTFont(str(target)).getBestCmap())
        cmaps[target.name] = _ranges(cps)
    for name in ("HanaMinA.ttf", "HanaMinB.ttf"):
        src = HANAZONO / name
        if src.exists():
            cmaps[str(src)] = _ranges(set(TTFont(str(src), lazy=True).getBestCmap()))
        else:
            print(f"prepare_fonts: {src} is missing (Debian package fonts-hanazono); rare characters may not render",
                  file=sys.stderr)
    (OUT / "cmaps.json").write_text(json.dumps(cmaps))
    print(f"prepare_fonts: {', '.join(Path(k).name for k in cmaps)} ready in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
