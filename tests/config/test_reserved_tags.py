"""The reserved reason codes (config.reserved_tags): no hall may configure REASON_PENDING
(原因待回访) nor its older form KEYPAD; the problem names the file, the key and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.test_loader_errors import problems_of


@pytest.mark.parametrize("code", ["REASON_PENDING", "KEYPAD"])
def test_reserved_reason_codes_are_refused(hall_copy: Path, code: str) -> None:
    with open(hall_copy / "tags.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[[tags]]\ncode = "{code}"\ntext = "原因"\nlevels = [1]\n')
    assert problems_of(hall_copy) == [
        f'tags.toml: tags[14].code: "{code}" is reserved (the server records it for a 差评 whose reason the call-back '
        'collects)']
