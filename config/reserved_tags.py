"""Reason codes no hall may configure (the loader refuses them in tags.toml): the server records
them itself, and every screen and page that shows a rating's reasons shows their text.

`REASON_PENDING` — 原因待回访: a 差评 whose reason the call-back (回访) collects. The window's
evaluators record it: a serial keypad, which has only the five level keys, and the touchscreen
kiosk when the citizen chose 不满意 / 非常不满意 and walked away from the reasons screen.
`KEYPAD` — the same meaning, as keypad 差评 were recorded before `REASON_PENDING` existed; old
records keep it and keep their text (按键评价，原因待回访). Nothing records it any more.
"""

from __future__ import annotations

from collections.abc import Iterable

PENDING_REASON_TAG = "REASON_PENDING"
LEGACY_KEYPAD_TAG = "KEYPAD"
RESERVED_TAGS = (PENDING_REASON_TAG, LEGACY_KEYPAD_TAG)
# config.i18n keys of their texts
RESERVED_TAG_TEXT_KEYS = {PENDING_REASON_TAG: "tag.REASON_PENDING", LEGACY_KEYPAD_TAG: "tag.KEYPAD"}


def reason_pending(tags: Iterable[str]) -> bool:
    """The rating's reason is to be asked in the call-back (either reserved code)."""
    return any(tag in RESERVED_TAGS for tag in tags)
