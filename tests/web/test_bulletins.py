"""Issue 15, Publication: 周通报 / 月通报 as PDF (WeasyPrint; rendered with pdftoppm and checked for the
rare-character name, R13) and XLSX (opened with openpyxl); file names with the period; codes shown as
names; the public 公示 without citizen data, rate-limited; the charts' and the big screen's JSON."""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlite_utils
from openpyxl import load_workbook
from PIL import Image

from config.i18n import t
from hall_server.domain import bulletins
from hall_server.domain.hours import local
from tests.conftest import ROOT
from tests.web.conftest import login

PHONE, TEXT = "13900001111", "窗口人员态度冷淡私密文字"
RARE = "李𠀀"                        # staff 1002: a CJK Extension B character (U+20000)


def populate(hall_env) -> None:
    """Window 1 (张三) 2 good, window 2 (李𠀀) 4 very good, window 3 (王五) one 差评 with phone and text."""
    drv = hall_env.drv
    for _ in range(2):
        hall_env.finish(1, "1001", "A", "S001")
        drv.ok("rating.submit", {"level": 4}, "kiosk-1")
    for _ in range(4):
        hall_env.finish(2, "1002", "A", "S002")
        drv.ok("rating.submit", {"level": 5}, "kiosk-2")
    hall_env.finish(3, "1003", "B", "B001")
    drv.ok("rating.submit", {"level": 1, "tags": ["N01"], "phone": PHONE, "text": TEXT}, "kiosk-3")


def month_of(hall_env) -> str:
    return local(hall_env.drv.now, hall_env.hub.config).strftime("%Y-%m")


def test_period_keys() -> None:
    assert bulletins.period("2026-11") == bulletins.Period("month", "2026-11", "2026-11-01", "2026-11-30")
    w = bulletins.period("2026-W48")
    assert (w.start, w.end, w.days) == ("2026-11-23", "2026-11-29", 7)
    for bad in ("2026-13", "2026-W54", "26-11", "", "2026-11-01", "../etc"):
        with pytest.raises(bulletins.BadPeriod):
            bulletins.period(bad)
    assert bulletins.current_keys(date(2026, 12, 2)) == ("2026-12", "2026-W48")


def test_monthly_pdf_with_a_rare_character_name(hall_env, client, tmp_path: Path) -> None:
    populate(hall_env)
    month = month_of(hall_env)
    login(client)
    r = client.get(f"/bulletins/{month}.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    cd = r.headers["content-disposition"]
    assert f'filename="bulletin-month-{month}.pdf"' in cd
    assert unquote(cd.split("filename*=UTF-8''")[1]) == f"月通报-{month}.pdf"
    pdf = tmp_path / "month.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert RARE in text                                    # the Ext-B character survives, as text
    assert "月通报" in text and "优质服务标兵" in text and "末位" in text
    assert "服务态度差" in text and "N01" not in text       # the reason by name, never its code
    assert t("channel.4") in text                             # channel 4 (the kiosk) by name
    assert PHONE not in text and TEXT not in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "BulletinSC" in fonts                           # Noto Sans SC: the SC glyph forms
    assert "BulletinExt" in fonts                          # a Hanazono face drew 𠀀 (Noto Sans SC lacks it)
    for line in fonts.splitlines()[2:]:
        assert " yes " in line                             # every font embedded
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    img = Image.open(png).convert("L")
    assert img.size[0] > 500 and img.size[1] > 700        # A4 at 80 dpi: 661 × 935
    dark = sum(1 for v in img.getdata() if v < 128)
    assert dark > 5000                                     # not blank
    shutil.copy(png, ROOT / "docs" / "screens" / "bulletin-month.png")


def test_weekly_xlsx_opens_and_names_codes(hall_env, client) -> None:
    populate(hall_env)
    login(client)
    today = local(hall_env.drv.now, hall_env.hub.config).date()
    y, wk, _ = today.isocalendar()
    key = f"{y}-W{wk:02d}"
    r = client.get(f"/bulletins/{key}.xlsx")
    assert r.status_code == 200
    assert f'filename="bulletin-week-{key}.xlsx"' in r.headers["content-disposition"]
    assert "%E5%91%A8%E9%80%9A%E6%8A%A5" in r.headers["content-disposition"]          # 周通报
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["概况", "部门", "窗口排名", "人员排名", "差评原因", "评价渠道", "逾期事项"]
    staff = [[c.value for c in row] for row in book["人员排名"].iter_rows(min_row=2)]
    assert staff[0][1] == RARE and staff[0][7] == "优质服务标兵"          # 4 × 非常满意: first
    windows = [[c.value for c in row] for row in book["窗口排名"].iter_rows(min_row=2)]
    assert [w[1] for w in windows][-1] == "3号窗口" and windows[-1][7] == "末位"
    assert [[c.value for c in row] for row in book["差评原因"].iter_rows(min_row=2)] == [["服务态度差", 1]]
    channels = {row[0].value for row in book["评价渠道"].iter_rows(min_row=2)}
    assert channels == {t("channel.4")}
    every = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None)
    assert PHONE not in every and TEXT not in every and "N01" not in every
    assert book["逾期事项"].max_row == 1                   # the ledger's table does not exist yet: headers only


def test_bad_periods_and_login(hall_env, client) -> None:
    r = client.get("/bulletins/2026-11.pdf", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    for path in ("/charts", "/charts/data", "/bigscreen", "/bigscreen/data", "/bulletins"):
        assert client.get(path, follow_redirects=False).status_code == 303, path
    login(client)
    for bad in ("2026-13.pdf", "2026-W60.xlsx", "nonsense.pdf"):
        r = client.get(f"/bulletins/{bad}")
        assert r.status_code == 400 and "期间不正确" in r.text and "Traceback" not in r.text
    assert client.get("/bulletins/2026-11.doc").status_code == 404
    page = client.get("/bulletins")
    assert page.status_code == 200 and "月通报" in page.text
    r = client.get("/bulletins?month=2026-11&fmt=xlsx", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/bulletins/2026-11.xlsx"


def test_public_board_shows_rates_and_honour_but_no_citizen_data(hall_env, client) -> None:
    populate(hall_env)
    r = client.get("/public/board")                         # no login
    assert r.status_code == 200
    html = r.text
    assert "好评率" in html and "2号窗口" in html and "医保局" in html and "光荣榜" in html
    for secret in (PHONE, TEXT, "N01", "服务态度差", "/cases", "job", "不满意"):
        assert secret not in html, secret
    jobs = [row[0] for row in hall_env.hub.reader().execute("SELECT job_no FROM jobs").fetchall()]
    assert jobs and not any(j in html for j in jobs)
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert client.get("/public/board?month=2026-13").status_code == 400


def test_public_board_is_rate_limited(hall_env, client) -> None:
    codes = [client.get("/public/board").status_code for _ in range(65)]     # one client (its cookie kept)
    assert codes[0] == 200 and 429 in codes
    r = client.get("/public/board")
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_charts_and_big_screen_json(hall_env, client) -> None:
    populate(hall_env)
    login(client)
    d = client.get("/charts/data?range=month").json()
    assert d["floor"] == 95.0 and sum(d["trend"]["finished"]) == 7
    assert d["reasons"] == [{"name": "服务态度差", "value": 1}]
    assert d["ranking"][0]["name"] == "3号窗口" and d["ranking"][0]["good_rate"] == 0.0     # worst first
    assert sum(c[2] for c in d["heatmap"]["cells"]) == 7 and len(d["heatmap"]["weekdays"]) == 7
    today = client.get("/charts/data?range=today").json()
    assert today["by"] == "hour" and today["start"] == today["end"]
    assert client.get("/charts/data?range=custom&start=2026-02-01&end=2026-01-01").status_code == 400
    page = client.get("/charts?range=week")
    assert page.status_code == 200 and "/static/vendor/echarts/echarts.min.js" in page.text
    js = client.get("/static/vendor/echarts/echarts.min.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and len(js.content) > 500_000
    assert client.get("/static/bulletins/charts.js").status_code == 200
    assert client.get("/static/vendor/../pages/auth.py").status_code == 404
    b = client.get("/bigscreen/data").json()
    assert b["today"]["finished"] == 7 and b["today"]["rated"] == 7 and b["today"]["bad"] == 1
    assert b["today"]["levels"] == [4, 2, 0, 0, 1]
    assert sum(b["flow"]["taken"]) == 7 and sum(b["flow"]["finished"]) == 7
    assert len(b["floor"]["windows"]) == 4 and b["rank_today"][0]["name"] == "2号窗口"
    assert any("差评" in a["text"] for a in b["alerts"])
    assert PHONE not in str(b) and TEXT not in str(b)


def test_overdue_ledger_reads_an_absent_or_present_table(tmp_path: Path) -> None:
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "x.db"))
    assert bulletins.overdue_ledger(db, 10_000_000) == []              # the ledger area's table not there yet
    db.execute("CREATE TABLE ledger_items (id INTEGER PRIMARY KEY, source TEXT, window INTEGER, title TEXT, "
               "responsible_unit TEXT, responsible_person TEXT, due_ms INTEGER, status TEXT)")
    db.execute("INSERT INTO ledger_items VALUES (1, 'patrol', 2, '窗口人员离岗', '医保局', '李𠀀', 1000, 'open'), "
               "(2, 'patrol', 2, '已销号', '医保局', '王五', 1000, 'closed'), "
               "(3, 'hotline', 1, '未到期', '人社局', '张三', 999000000, 'open')")
    found = bulletins.overdue_ledger(db, 3 * 86_400_000)
    assert [(o["id"], o["person"], o["days_over"]) for o in found] == [(1, "李𠀀", 2)]


def test_ledger_items_in_the_xlsx_by_name(hall_env, client) -> None:
    """When the ledger's table exists, its overdue items reach the bulletin with the source by name."""
    populate(hall_env)
    with sqlite3.connect(hall_env.hub.db_path) as conn:        # an overdue item of the ledger (migration 90)
        conn.execute("INSERT INTO ledger_items (id, source, window, title, unit, owner, opened_ms, due_workdays, "
                     "due_ms, status, node) VALUES (1, 'patrol', 2, '窗口人员离岗', '医保局', '李𠀀', 0, 5, 1000, "
                     "'open', 'manager-test')")
    login(client)
    r = client.get(f"/bulletins/{month_of(hall_env)}.xlsx")
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(r.content))["逾期事项"].iter_rows(min_row=2)]
    assert rows and rows[0][:5] == ["窗口人员离岗", "巡查", "2号窗口", "医保局", RARE]


def test_weekly_pdf_and_long_rankings_in_print(hall_env, client, tmp_path: Path) -> None:
    from hall_server.web.pages.bulletin_files import PDF_HEAD_ROWS, PDF_TAIL_ROWS, trimmed

    populate(hall_env)
    login(client)
    today = local(hall_env.drv.now, hall_env.hub.config).date()
    y, wk, _ = today.isocalendar()
    r = client.get(f"/bulletins/{y}-W{wk:02d}.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    (tmp_path / "w.pdf").write_bytes(r.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "w.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert f"第{wk}周" in text and "周通报" in text and RARE in text
    items = [{"rank": i} for i in range(1, 151)]
    out = trimmed(items)
    assert len(out) == PDF_HEAD_ROWS + PDF_TAIL_ROWS + 1 and out[PDF_HEAD_ROWS] == {"gap": 150 - PDF_HEAD_ROWS - PDF_TAIL_ROWS}
    assert out[-1] == {"rank": 150} and trimmed(items[:40]) == items[:40]
