"""hall.toml [calling]: how calls are announced — the template, how many times, and the voice pack.

The template is split into placeholders and the words of the pack's clips (`config.voice_pack`);
the pack must hold every clip the hall needs: the template's words, the chime, the digits, the
letters of the hall's ticket prefixes (services.toml) and 十 / 百 for its window numbers
(windows.toml). Problems are reported as "hall.toml: calling.announce_template: …" or
"hall.toml: calling.voice_pack: …".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from config.reader import Table, quote
from config.schema import Calling, Category, Window
from config.voice_pack import (
    DEFAULT_PACK, DEFAULT_TEMPLATE, VOCABULARY, TemplateError, VoicePackError, index_pack, missing_clips,
    needed_clips, parse_template,
)

MAX_REPEAT = 5


def read_calling(root: Table, folder: Path, categories: Sequence[Category] | None,
                 windows: Sequence[Window] | None) -> Calling:
    table = root.section("calling")
    template = table.text("announce_template", DEFAULT_TEMPLATE)
    repeat = table.integer("announce_repeat", 1, MAX_REPEAT, default=2)
    written = table.text("voice_pack", "")
    pack = (folder / written).resolve() if written else DEFAULT_PACK
    shown = quote(written) if written else f"the shipped pack {DEFAULT_PACK.name}"
    words: set[str] | None = None
    index = None
    if written is not None:
        try:
            index = index_pack(pack)
            words = index.words()
        except VoicePackError as exc:
            table.bad("voice_pack", f"{shown}: {exc}")
    parts: tuple[str, ...] = ()
    if template is not None:
        try:   # without a readable pack, judge the words against the full vocabulary
            parts = parse_template(template, words if words is not None else set(VOCABULARY))
        except TemplateError as exc:
            table.bad("announce_template", str(exc))
    if index is not None and parts:
        letters = [c.code for c in categories or () if isinstance(c.code, str)]   # None after a problem
        numbers = [w.number for w in windows or () if isinstance(w.number, int)]
        lacking = missing_clips(index, needed_clips(parts, letters, numbers))
        if lacking:
            table.bad("voice_pack", f"{shown} lacks {', '.join(lacking)}, needed to announce this hall's calls")
    return Calling(announce_template=template or DEFAULT_TEMPLATE, announce_repeat=repeat or 2,
                   voice_pack=pack, template_parts=parts)
