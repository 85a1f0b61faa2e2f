"""The monthly city bulletin: the halls ranked (the ranking page's figures) and the overdue 差评
cases, as XLSX (openpyxl) and as PDF (WeasyPrint, Simplified Chinese in Noto Sans CJK SC)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from city_server.layout import render
from config.i18n import t

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_COLS = ("finished", "good_rate", "participation_rate", "cases", "callback_rate", "rectify_rate", "overdue")


def title(month: date) -> str:
    return t("city.bulletin.title", y=month.year, m=month.month)


def xlsx(month: date, rows: list[dict[str, Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = t("city.bulletin.ranking")
    ws.append([title(month)])
    ws["A1"].font = Font(bold=True, size=14)
    head = [t("city.col.rank"), t("city.col.hall"), *(t(f"city.col.{c}") for c in _COLS), t("city.col.open_cases")]
    ws.append(head)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8F0FB")
        cell.alignment = Alignment(horizontal="center")
    for i, r in enumerate(rows, 1):
        ws.append([i, r["name"], r["finished"], r["good_rate"], r["participation_rate"], r["cases"],
                   r["callback_rate"], r["rectify_rate"], r["overdue_steps"] + r["overdue_jobs"], r["open_cases"]])
        for col in (4, 5, 7, 8):
            ws.cell(row=i + 2, column=col).number_format = "0.0%"
    ws.column_dimensions["B"].width = 28
    for col in "CDEFGHIJ":
        ws.column_dimensions[col].width = 12
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def pdf(month: date, rows: list[dict[str, Any]], cases: list[dict[str, Any]]) -> bytes:
    from weasyprint import HTML          # slow to import: only when a PDF is asked for

    html = render("bulletin.html", title=title(month), rows=rows, overdue=[c for c in cases if c["overdue"]],
                  made=f"{datetime.now():%Y-%m-%d %H:%M}")
    return bytes(HTML(string=html).write_pdf())
