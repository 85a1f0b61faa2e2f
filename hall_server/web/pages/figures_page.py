"""Figures (`/figures`): the daily trend, the hour-of-day × weekday heatmap, per-window and
per-staff tables, the monthly assessment with its lists (优质服务窗口, 优质服务标兵, 末位), and
every table exported as CSV or XLSX (`/figures/export.<csv|xlsx>?table=…`) with Chinese headers.

Flagged ratings (issue 11, `domain.rating_flags`): how many of the period's ratings are flagged as
"one device rating many 办件", the 好评率 with and without them, and the list (card `#flags`).
Flagged ratings count in every figure; the list is for the managers to check them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.i18n import t
from config.reserved_tags import RESERVED_TAGS
from hall_server.domain import assessment, export as domain_export, figures, rating_flags
from hall_server.domain.common import rows
from hall_server.domain.errors import BadRequest
from hall_server.domain.hours import local
from hall_server.domain.ratings import tag_text
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.exports import to_csv, to_xlsx
from hall_server.web.pages.layout import esc, manager_header, message, page, pct
from hall_server.web.pages.site import Site

TABLES = ("daily", "window", "staff", "hour", "assessment_windows", "assessment_staff", "ratings")
FIG_COLS = ("finished", "rated", "participation_rate", "good_rate", "bad", "bad_rate", "mean_level", "mean_wait_s",
            "overdue")
WEEKDAYS = "一二三四五六日"


class Period:
    def __init__(self, site: Site, request: Request) -> None:
        today = local(site.now_ms(), site.config).date()
        q = request.query_params
        self.end = q.get("end") or today.isoformat()
        self.start = q.get("start") or (today - timedelta(days=29)).isoformat()
        self.month = q.get("month") or today.strftime("%Y-%m")
        figures.check_days(self.start, self.end)          # BadRequest on nonsense
        figures.month_days(self.month)

    def query(self, **extra: str) -> str:
        return urlencode({"start": self.start, "end": self.end, "month": self.month, **extra})


def _name(site: Site, kind: str, key: Any) -> str:
    if site.config is None:
        return str(key)
    try:
        if kind == "window":
            return f"{key} {site.config.window(int(key)).name}"
        if kind == "staff":
            return f"{site.config.staff_member(str(key)).name}（{key}）"
    except (KeyError, ValueError):
        pass
    return str(key)


def _fig_row(r: dict[str, Any]) -> list[Any]:
    def rate(x: float | None) -> Any:
        return "" if x is None else round(x * 100, 1)
    return [r["finished"], r["rated"], rate(r["participation_rate"]), rate(r["good_rate"]), r["bad"],
            rate(r["bad_rate"]), "" if r["mean_level"] is None else round(r["mean_level"], 2),
            "" if r["mean_wait_s"] is None else round(r["mean_wait_s"] / 60, 1), r["overdue"]]


def fig_headers(first_col: str) -> list[str]:
    return [t(first_col)] + [t(f"web.fig.col.{c}") for c in FIG_COLS]


def table(site: Site, name: str, p: Period) -> tuple[str, list[str], list[list[Any]]]:
    """(title, Chinese headers, rows) of one exportable table."""
    db, config = site.backend.reader(), site.config
    if name in ("daily", "window", "staff", "hour"):
        by = {"daily": "day"}.get(name, name)
        data = figures.report(db, config, p.start, p.end, by)
        first = {"daily": "web.fig.col.day", "window": "web.fig.col.window", "staff": "web.fig.col.staff",
                 "hour": "web.fig.col.hour"}[name]
        keyf = (lambda k: _name(site, name, k)) if name in ("window", "staff") else (
            lambda k: f"{int(k):02d}:00" if name == "hour" else k)
        return (t(f"web.fig.table.{name}"), fig_headers(first), [[keyf(r["key"])] + _fig_row(r) for r in data])
    if name in ("assessment_windows", "assessment_staff"):
        if config is None:
            return t(f"web.fig.table.{name}"), [], []
        m = assessment.monthly(db, config, p.month)
        items = m["windows"] if name == "assessment_windows" else m["staff"]
        top = set(m["top_windows"] if name == "assessment_windows" else m["top_staff"])
        bottom = set(m["bottom_windows"]) if name == "assessment_windows" else set()
        headers = [t("web.fig.col.rank"), t("web.fig.col.window" if name == "assessment_windows" else "web.fig.col.staff"),
                   t("web.fig.col.score"), t("web.fig.col.finished"), t("web.fig.col.good_rate"),
                   t("web.fig.col.bad_counted"), t("web.fig.col.overdue"), t("web.fig.col.away_half_days"),
                   t("web.fig.col.late_early"), t("web.fig.col.mark")]
        out = []
        for r in items:
            key = r["key"]
            label = f"{key} {r['name']}" if name == "assessment_windows" else f"{r['name']}（{key}）"
            mark = t("web.fig.top_window" if name == "assessment_windows" else "web.fig.top_staff") if key in top else (
                t("web.fig.bottom") if key in bottom else "")
            out.append([r["rank"], label, r["score"], r["finished"],
                        "" if r["good_rate"] is None else round(r["good_rate"] * 100, 1), r["bad_counted"],
                        r["overdue"], r["away_half_days"], r["late_early"], mark])
        return t(f"web.fig.table.{name}", month=p.month), headers, out
    # ratings: the R11 record of each rating in the period; text masked (R6), phone never included
    if config is None:
        return t("web.fig.table.ratings"), [], []
    a, b = figures._ms_range(config, p.start, p.end)
    found = rows(db, "SELECT r.*, j.job_no, j.promised_min, j.started_ms FROM ratings r JOIN jobs j ON j.id = r.job_id "
                     "WHERE r.at_ms >= ? AND r.at_ms < ? ORDER BY r.id LIMIT 100000", [a, b])
    headers = [t(f"web.fig.rec.{f}") for f in domain_export.FIELDS]
    out = []
    for r in found:
        rec = domain_export.record(config, r)
        rec["reasons"] = ";".join(tag_text(config, c) if c in RESERVED_TAGS else c for c in rec["reasons"])
        rec["text"] = "***" if rec["text"] else ""
        out.append([rec[f] for f in domain_export.FIELDS])
    return t("web.fig.table.ratings"), headers, out


def _html_table(headers: list[str], data: list[list[Any]], tid: str) -> str:
    if not data:
        return f'<p class="hint">{esc(t("web.fig.empty"))}</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="{"num" if isinstance(v, (int, float)) else ""}">{esc(v)}</td>'
                                    for v in r) + "</tr>" for r in data)
    return f'<div class="scroll"><table id="{tid}"><tr>{head}</tr>{body}</table></div>'


def _exports(p: Period, name: str) -> str:
    return (f'<p class="hint">{esc(t("web.fig.export"))}：'
            f'<a href="/figures/export.csv?{esc(p.query(table=name))}">CSV</a> · '
            f'<a href="/figures/export.xlsx?{esc(p.query(table=name))}">XLSX</a></p>')


def _trend(site: Site, p: Period) -> str:
    data = figures.report(site.backend.reader(), site.config, p.start, p.end, "day")
    if not data:
        return f'<p class="hint">{esc(t("web.fig.empty"))}</p>'
    top = max(r["finished"] for r in data) or 1
    lines = []
    for r in data:
        w = int(200 * r["finished"] / top)
        bw = int(200 * r["bad"] / top)
        gap = 6 if w and bw else 0          # SVG geometry, not style attributes (CSP: layout)
        lines.append(f'<div class="bar-row"><span class="day">{esc(r["key"])}</span>'
                     f'<svg width="{w + gap + bw}" height="12" aria-hidden="true">'
                     f'<rect width="{w}" height="12" rx="2" fill="#165dff"></rect>'
                     f'<rect x="{w + gap}" width="{bw}" height="12" rx="2" fill="#f53f3f"></rect></svg>'
                     f'<span>{r["finished"]} · {esc(t("web.fig.col.good_rate"))} {esc(pct(r["good_rate"]))}</span></div>')
    legend = (f'<p class="hint"><span class="badge b-blue">{esc(t("web.fig.col.finished"))}</span> '
              f'<span class="badge b-red">{esc(t("web.fig.col.bad"))}</span></p>')
    return legend + "".join(lines)


def _heatmap(site: Site, p: Period) -> str:
    h = figures.heatmap(site.backend.reader(), p.start, p.end)
    if not h["hours"]:
        return f'<p class="hint">{esc(t("web.fig.empty"))}</p>'
    top = max(max(r) for r in h["finished"]) or 1
    head = "<th></th>" + "".join(f"<th>{hr:02d}</th>" for hr in h["hours"])
    body = ""
    for wd, counts in enumerate(h["finished"]):
        cells = "".join(f'<td class="heat-{round(10 * c / top)}">{c or ""}</td>' for c in counts)
        body += f"<tr><th>{esc(t('web.fig.weekday', d=WEEKDAYS[wd]))}</th>{cells}</tr>"
    return f'<div class="scroll"><table class="heat" id="heatmap"><tr>{head}</tr>{body}</table></div>'


def _flags(site: Site, p: Period) -> str:
    """The period's flagged ratings: a count against all, 好评率 with and without them, the list."""
    db = site.backend.reader()
    a, b = figures._ms_range(site.config, p.start, p.end)
    n = rating_flags.period_counts(db, a, b)
    summary = t("web.fig.flags.summary", rated=n["rated"], flagged=n["flagged"], good=pct(n["good_rate"]),
                good_unflagged=pct(n["good_rate_unflagged"]))
    rule = t("web.fig.flags.rule", jobs=rating_flags.PATTERN_MIN_JOBS, windows=rating_flags.PATTERN_MIN_WINDOWS,
             many=rating_flags.PATTERN_MANY_JOBS)
    found = rating_flags.flagged_between(db, a, b)
    if not found:
        table_html = f'<p class="hint">{esc(t("web.fig.flags.none"))}</p>'
    else:
        cols = ("time", "window", "staff", "level", "round", "job_no", "reason", "source", "case")
        head = "".join(f"<th>{esc(t('web.fig.flags.col.' + c))}</th>" for c in cols)
        trs = []
        for r in found:
            reasons = "；".join(t(f"web.flag.{x}") for x in (r["reasons"] or "").split(",") if x in rating_flags.REASONS)
            source = " ".join(x for x in (
                t("web.fig.flags.device", h=r["rater_hash"][:8]) if r["rater_hash"] else "",
                t("web.fig.flags.address", h=r["address_hash"][:8])) if x)
            case = f'<a href="/cases/{r["case_id"]}">#{r["case_id"]}</a>' if r["case_id"] else "—"
            trs.append(f'<tr data-rating="{r["rating_id"]}"><td>{esc(site.local_text(r["at_ms"]))}</td>'
                       f'<td>{esc(_name(site, "window", r["window"]))}</td><td>{esc(_name(site, "staff", r["staff_no"]))}</td>'
                       f'<td>{esc(r["level"])} {esc(t("level." + str(r["level"])))}</td><td>{esc(r["round"])}</td>'
                       f'<td>{esc(r["job_no"] or "")}</td>'
                       f'<td>{esc(reasons)}（{esc(t("web.fig.flags.pattern", jobs=r["jobs"], windows=r["windows"]))}）</td>'
                       f'<td>{esc(source)}</td><td>{case}</td></tr>')
        table_html = f'<div class="scroll"><table id="t-flags"><tr>{head}</tr>{"".join(trs)}</table></div>'
    return (f'<div class="card" id="flags"><h2>{esc(t("web.fig.flags.title"))}</h2><p id="flag-summary">{esc(summary)}</p>'
            f'<p class="hint">{esc(rule)}</p>{table_html}</div>')


def routes(site: Site) -> list[Route]:
    def bad_period() -> Response:
        return message(t("web.fig.bad_period"), t("web.fig.bad_period_text"), status=400, hall_name=site.hall_name,
                       kind="error")

    @guard(site)
    async def figures_page(request: Request, s: Session) -> Response:
        try:
            p = Period(site, request)
        except BadRequest:
            return bad_period()
        form = (f'<form class="card period" method="get" action="/figures">'
                f'<label>{esc(t("web.fig.start"))}<input type="date" name="start" value="{esc(p.start)}"></label>'
                f'<label>{esc(t("web.fig.end"))}<input type="date" name="end" value="{esc(p.end)}"></label>'
                f'<label>{esc(t("web.fig.month"))}<input type="month" name="month" value="{esc(p.month)}"></label>'
                f'<button class="primary" type="submit">{esc(t("web.fig.show"))}</button></form>')
        parts = [form,
                 f'<div class="card"><h2>{esc(t("web.fig.trend"))}</h2>{_trend(site, p)}{_exports(p, "daily")}</div>',
                 f'<div class="card"><h2>{esc(t("web.fig.heatmap"))}</h2>{_heatmap(site, p)}{_exports(p, "hour")}</div>']
        for name in ("window", "staff", "assessment_windows", "assessment_staff"):
            title, headers, data = table(site, name, p)
            parts.append(f'<div class="card"><h2>{esc(title)}</h2>{_html_table(headers, data, "t-" + name)}'
                         f'{_exports(p, name)}</div>')
        parts.append(f'<div class="card"><h2>{esc(t("web.fig.table.ratings"))}</h2>{_exports(p, "ratings")}</div>')
        if site.config is not None:
            parts.append(_flags(site, p))
        return page(t("web.nav.figures"), "".join(parts), header=manager_header(s.user, s.csrf, "figures", site.hall_name))

    @guard(site)
    async def export(request: Request, s: Session) -> Response:
        fmt, name = request.path_params["fmt"], request.query_params.get("table", "")
        if fmt not in ("csv", "xlsx") or name not in TABLES:
            return message(t("web.fig.bad_export"), t("web.fig.bad_export_text"), status=404,
                           hall_name=site.hall_name, kind="error")
        try:
            p = Period(site, request)
        except BadRequest:
            return bad_period()
        title, headers, data = table(site, name, p)
        stem = f"{name}-{p.month if name.startswith('assessment') else p.start + '_' + p.end}"
        fname = f"{title}.{fmt}"
        disposition = f"attachment; filename=\"{stem}.{fmt}\"; filename*=UTF-8''{quote(fname)}"
        if fmt == "csv":
            return Response(to_csv(headers, data), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})
        return Response(to_xlsx(title, headers, data),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})

    return [
        Route("/figures", figures_page, methods=["GET"]),
        Route("/figures/export.{fmt:str}", export, methods=["GET"]),
    ]
