"""Cells a spreadsheet will not run: one neutraliser for every CSV the hall writes (the figures
exports of the web pages and the export sink's provincial records).

Excel and WPS run a cell that starts with `=`, `+`, `-` or `@` (and, after a tab or CR, what
follows) as a formula: a citizen's rating text `=HYPERLINK(...)` would become a live link in the
province's spreadsheet. Such text gets a leading `'`, which the spreadsheet shows as plain text.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> str:
    """A cell's text: empty for None, 是/否 for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def csv_safe(value: Any) -> Any:
    """Numbers stay numbers; text that a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = cell_text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
