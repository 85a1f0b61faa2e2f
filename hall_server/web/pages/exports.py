"""Tables to files that open correctly in Excel and WPS: CSV as UTF-8 with a BOM and CRLF
(Excel needs the BOM to read Chinese), XLSX written by openpyxl (inline strings, numbers as
numbers, a bold frozen header row).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from hall_server.domain.csv_cells import cell_text, csv_safe

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")     # not allowed in an XLSX cell


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow([csv_safe(v) for v in r])
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")


def to_xlsx(sheet_name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet: a bold, frozen header row, numbers as numbers, everything else as text cells
    (a text cell is never a formula, even when it starts with `=`)."""
    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", "", sheet_name)[:31] or "Sheet1"
    bold = Font(bold=True, name="等线", size=11)
    for ci, header in enumerate(headers, start=1):
        _text(sheet.cell(row=1, column=ci), header).font = bold
    for ri, row in enumerate(rows, start=2):
        for ci, value in enumerate(row, start=1):
            cell = sheet.cell(row=ri, column=ci)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.value = value
            else:
                _text(cell, value)
    for ci in range(1, max(1, len(headers)) + 1):
        sheet.column_dimensions[get_column_letter(ci)].width = 16
    sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _text(cell: Cell, value: Any) -> Cell:
    """Plain text (illegal XML characters dropped), typed as a string so no formula can start."""
    cell.value = _BAD_XML.sub("", cell_text(value))
    cell.data_type = "s"
    return cell
