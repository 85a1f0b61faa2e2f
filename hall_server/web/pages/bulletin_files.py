"""A bulletin (`hall_server.domain.bulletins.build`) as files: an A4 PDF by WeasyPrint from the Jinja2
template `bulletin_pdf.html`, and an XLSX workbook by openpyxl (one sheet per table).

Fonts (R13): the PDF embeds Noto Sans SC (the project's `.fonts/`, made for Simplified Chinese: the
JP face a Noto CJK collection opens first would draw some characters in Japanese forms) and, for the
rare characters Noto Sans SC lacks (CJK Extension B and beyond: 𠀀, 𪚥…), Debian's HanaMinB; each by
`@font-face` from its local file, so the PDF looks the same on any machine. A face that is missing
here is left out of the list and fontconfig's "Noto Sans CJK SC" is the fallback.

Codes are never shown: channels, reasons and levels by name; periods in Chinese.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from config.i18n import t
from config.schema import HallConfig
from hall_server.domain.bulletins import Period
from hall_server.domain.csv_cells import cell_text
from hall_server.domain.hours import local
from hall_server.web.pages.layout import pct, render

ROOT = Path(__file__).resolve().parents[3]
FONT_FACES: tuple[tuple[str, str, tuple[Path, ...]], ...] = (
    ("BulletinSC", "normal", (ROOT / ".fonts" / "NotoSansSC-Regular.otf",)),
    ("BulletinSC", "bold", (ROOT / ".fonts" / "NotoSansSC-Bold.otf",)),
    ("BulletinExtA", "normal", (Path("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"),)),
    ("BulletinExtB", "normal", (Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),)),
)
PDF_HEAD_ROWS, PDF_TAIL_ROWS = 30, 10      # a long ranking in the PDF: its head and tail (the XLSX has all)
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class BulletinRenderError(RuntimeError):
    """WeasyPrint could not make the PDF (a broken font file, an impossible layout)."""


def font_faces() -> list[dict[str, str]]:
    """The `@font-face` rules' sources that exist on this machine."""
    out = []
    for family, weight, paths in FONT_FACES:
        found = next((p for p in paths if p.is_file()), None)
        if found is not None:
            out.append({"family": family, "weight": weight, "url": found.as_uri()})
    return out


def period_title(p: Period) -> str:
    """月通报（2026年11月） / 周通报（2026年第48周，11月23日—11月29日）."""
    a, b = date.fromisoformat(p.start), date.fromisoformat(p.end)
    if p.kind == "month":
        return t("bulletins.title.month", year=a.year, month=a.month)
    return t("bulletins.title.week", year=a.isocalendar()[0], week=a.isocalendar()[1],
             start=f"{a.month}月{a.day}日", end=f"{b.month}月{b.day}日")


def file_names(p: Period, fmt: str) -> tuple[str, str]:
    """(the Chinese file name, its ASCII fallback): 月通报-2026-11.pdf, bulletin-month-2026-11.pdf."""
    return f"{t('bulletins.file.' + p.kind)}-{p.key}.{fmt}", f"bulletin-{p.kind}-{p.key}.{fmt}"


def disposition(p: Period, fmt: str) -> str:
    name, ascii_name = file_names(p, fmt)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _num(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def trimmed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A ranking for print: all of it when short, else its first PDF_HEAD_ROWS and last PDF_TAIL_ROWS
    (the praised and the 末位 are there) around one `{"gap": n}` row (a 150-window hall's bulletin
    stays a few pages and is made in about a second; the full ranking is in the XLSX)."""
    if len(items) <= PDF_HEAD_ROWS + PDF_TAIL_ROWS + 5:
        return items
    gap = len(items) - PDF_HEAD_ROWS - PDF_TAIL_ROWS
    return [*items[:PDF_HEAD_ROWS], {"gap": gap}, *items[-PDF_TAIL_ROWS:]]


def view(config: HallConfig, b: dict[str, Any], trim: bool = False) -> dict[str, Any]:
    """The bulletin as the PDF (`trim`: long rankings cut, see `trimmed`) and the sheets show it
    (names, percentages, local times)."""
    hall = b["hall"] or {}
    cases = b["cases"] or {}

    def when(ms: int | None) -> str:
        return local(ms, config).strftime("%Y-%m-%d") if ms else ""

    summary = [
        (t("bulletins.k.finished"), hall.get("finished", 0)),
        (t("bulletins.k.rated"), hall.get("rated", 0)),
        (t("bulletins.k.participation"), pct(hall.get("participation_rate"))),
        (t("bulletins.k.good_rate"), pct(hall.get("good_rate"))),
        (t("bulletins.k.bad"), hall.get("bad", 0)),
        (t("bulletins.k.mean_level"), _num(hall.get("mean_level"), 2)),
        (t("bulletins.k.mean_wait"), _num((hall.get("mean_wait_s") or 0) / 60 if hall.get("mean_wait_s") is not None else None)),
        (t("bulletins.k.overdue_jobs"), hall.get("overdue", 0)),
        (t("bulletins.k.cases"), cases.get("cases", 0)),
        (t("bulletins.k.callback_rate"), pct(cases.get("callback_rate"))),
        (t("bulletins.k.rectify_rate"), pct(cases.get("rectify_rate"))),
        (t("bulletins.k.overdue_items"), len(b["overdue"])),
    ]
    mark = {True: t("bulletins.mark.top"), False: ""}
    windows = [{"rank": w["rank"], "name": w["label"], "score": "" if w.get("score") is None else w["score"],
                "finished": w["finished"], "good_rate": pct(w["good_rate"]), "bad": w.get("bad_counted", w["bad"]),
                "overdue": w["overdue"], "mark": t("bulletins.mark.bottom") if w["bottom"] else mark[w["top"]],
                "top": w["top"], "bottom": w["bottom"]} for w in b["windows"]]
    staff = [{"rank": s["rank"], "name": s["label"], "department": s.get("department") or _dept(config, s["key"]),
              "score": "" if s.get("score") is None else s["score"], "finished": s["finished"],
              "good_rate": pct(s["good_rate"]), "bad": s.get("bad_counted", s["bad"]),
              "mark": t("bulletins.mark.top_staff") if s["top"] else "", "top": s["top"]} for s in b["staff"]]
    return {
        "title": period_title(b["period"]),
        "hall_name": config.hall.name,
        "made": local(b["now_ms"], config).strftime("%Y-%m-%d %H:%M"),
        "summary": summary,
        "departments": [{"name": d["key"], "finished": d["finished"], "rated": d["rated"],
                         "good_rate": pct(d["good_rate"]), "bad": d["bad"]} for d in b["departments"]],
        "windows": trimmed(windows) if trim else windows,
        "staff": trimmed(staff) if trim else staff,
        "top_windows": [w["label"] for w in b["top_windows"]],
        "top_staff": [s["label"] for s in b["top_staff"]],
        "bottom_windows": [w["label"] for w in b["bottom_windows"]],
        "reasons": b["reasons"],
        "channels": [{"name": t(f"channel.{c['channel']}"), "count": c["n"]} for c in b["channels"]],
        "overdue": [{**o, "source": source_name(str(o["source"])), "window": "" if o["window"] is None else _window_name(config, o["window"]),
                     "due": when(o["due_ms"])} for o in b["overdue"]],
        "is_month": b["period"].kind == "month",
    }


def source_name(code: str) -> str:
    """A ledger item's source by name (`bulletins.source.<code>`); an unknown code is shown as 其他."""
    if not code:
        return ""
    key = f"bulletins.source.{code}"
    text = t(key)
    return t("bulletins.source.other") if text == key else text


def _dept(config: HallConfig, staff_no: Any) -> str:
    try:
        return config.staff_member(str(staff_no)).department
    except KeyError:
        return ""


def _window_name(config: HallConfig, number: Any) -> str:
    try:
        return config.window(int(number)).name
    except (KeyError, ValueError, TypeError):
        return str(number)


def to_pdf(config: HallConfig, b: dict[str, Any]) -> bytes:
    """The bulletin as an A4 PDF (WeasyPrint)."""
    from weasyprint import HTML                       # heavy: imported when a PDF is asked for
    from weasyprint.text.fonts import FontConfiguration

    html = render("bulletin_pdf.html", v=view(config, b, trim=True), fonts=font_faces())
    try:
        return HTML(string=html, base_url=str(ROOT)).write_pdf(font_config=FontConfiguration())
    except (OSError, ValueError) as exc:
        raise BulletinRenderError(str(exc)) from exc


def _sheet(book: Workbook, title: str, headers: Sequence[str], data: Sequence[Sequence[Any]],
           highlight: Sequence[str | None] = ()) -> None:
    sheet = book.create_sheet(title[:31])
    bold = Font(bold=True, name="等线", size=11)
    fills = {"top": PatternFill("solid", fgColor="E8F3FF"), "bottom": PatternFill("solid", fgColor="FFECE8")}
    for ci, h in enumerate(headers, 1):
        c = sheet.cell(row=1, column=ci, value=h)
        c.font = bold
    for ri, row in enumerate(data, 2):
        for ci, value in enumerate(row, 1):
            c = sheet.cell(row=ri, column=ci)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                c.value = value
            else:
                c.value = _BAD_XML.sub("", cell_text(value))
                c.data_type = "s"                      # text never becomes a formula
            mark = highlight[ri - 2] if ri - 2 < len(highlight) else None
            if mark:
                c.fill = fills[mark]
    for ci in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(ci)].width = 18
    sheet.freeze_panes = "A2"


def to_xlsx(config: HallConfig, b: dict[str, Any]) -> bytes:
    """The bulletin as a workbook: 概况, 部门, 窗口排名, 人员排名, 差评原因, 评价渠道, 逾期事项."""
    v = view(config, b)
    book = Workbook()
    first = book.active
    first.title = t("bulletins.sheet.summary")
    first.cell(row=1, column=1, value=v["title"]).font = Font(bold=True, size=14, name="等线")
    first.cell(row=2, column=1, value=v["hall_name"])
    for ri, (k, val) in enumerate(v["summary"], 4):
        first.cell(row=ri, column=1, value=k)
        first.cell(row=ri, column=2, value=val)
    r = 4 + len(v["summary"]) + 1
    for label, names in ((t("bulletins.top_windows"), v["top_windows"]), (t("bulletins.top_staff"), v["top_staff"]),
                         (t("bulletins.bottom_windows"), v["bottom_windows"])):
        first.cell(row=r, column=1, value=label).font = Font(bold=True, name="等线")
        first.cell(row=r, column=2, value="、".join(names) or t("bulletins.none"))
        r += 1
    first.column_dimensions["A"].width, first.column_dimensions["B"].width = 22, 40
    h = lambda *keys: [t(f"bulletins.col.{k}") for k in keys]  # noqa: E731
    _sheet(book, t("bulletins.sheet.departments"), h("department", "finished", "rated", "good_rate", "bad"),
           [[d["name"], d["finished"], d["rated"], d["good_rate"], d["bad"]] for d in v["departments"]])
    _sheet(book, t("bulletins.sheet.windows"), h("rank", "window", "score", "finished", "good_rate", "bad", "overdue", "mark"),
           [[w["rank"], w["name"], w["score"], w["finished"], w["good_rate"], w["bad"], w["overdue"], w["mark"]]
            for w in v["windows"]],
           ["bottom" if w["bottom"] else "top" if w["top"] else None for w in v["windows"]])
    _sheet(book, t("bulletins.sheet.staff"), h("rank", "staff", "department", "score", "finished", "good_rate", "bad", "mark"),
           [[s["rank"], s["name"], s["department"], s["score"], s["finished"], s["good_rate"], s["bad"], s["mark"]]
            for s in v["staff"]], ["top" if s["top"] else None for s in v["staff"]])
    _sheet(book, t("bulletins.sheet.reasons"), h("reason", "count"), [[x["name"], x["count"]] for x in v["reasons"]])
    _sheet(book, t("bulletins.sheet.channels"), h("channel", "count"), [[x["name"], x["count"]] for x in v["channels"]])
    _sheet(book, t("bulletins.sheet.overdue"), h("item", "source", "window", "unit", "person", "due", "days_over"),
           [[o["title"], o["source"], o["window"], o["unit"], o["person"], o["due"], o["days_over"]] for o in v["overdue"]])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
