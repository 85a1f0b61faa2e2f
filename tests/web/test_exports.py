"""The figures' XLSX export read back with openpyxl: sheet name, header, types, no formulas."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from hall_server.web.pages.exports import to_xlsx


def test_xlsx_reads_back_with_types_and_no_formulas() -> None:
    data = to_xlsx("表[1]", ["姓名", "数", "内容"],
                   [["韩㛃", 1.5, "=HYPERLINK(\"http://x\")"], ["bad\x01char\uffff", None, True], ["周𠇔", 3, "+1"]])
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["表1"]
    sheet = book["表1"]
    assert [c.value for c in sheet[1]] == ["姓名", "数", "内容"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert rows == [["韩㛃", 1.5, "=HYPERLINK(\"http://x\")"], ["badchar", None, "是"], ["周𠇔", 3, "+1"]]
    # text that looks like a formula is a text cell, never a formula
    assert sheet["C2"].data_type == "s" and sheet["C4"].data_type == "s"
    assert sheet["B2"].data_type == "n"


def test_empty_table_and_long_sheet_name() -> None:
    book = load_workbook(io.BytesIO(to_xlsx("x" * 40, ["a"], [])))
    assert book.sheetnames == ["x" * 31] and book.active.max_row == 1
