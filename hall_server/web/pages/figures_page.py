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
from config.labels import channel_label
from config.reserved_tags import RESERVED_TAGS
from hall_server.domain import assessment, export as domain_export, figures, rating_flags
from hall_server.domain.common import rows
from hall_server.domain.errors import BadRequest
from hall_server.domain.hours import local
from hall_server.domain.ratings import tag_text
from hall_server.web.pages.auth import Session, guard
from hall_server.web.pages.exports import to_csv, to_xlsx
from hall_server.web.pages.layout import message, page, pct
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
        # the R11 codes stay (the province's), each beside its name; times in hall time, not compact
        rec["reasons"] = ";".join(tag_text(config, c) if c in RESERVED_TAGS else f"{c} {tag_text(config, c)}"
                                  for c in rec["reasons"])
        rec["text"] = "***" if rec["text"] else ""
        rec["channel"] = f"{rec['channel']} {channel_label(rec['channel'])}".strip()
        level = rec["level"]
        rec["level"] = f"{level} {t(f'level.{level}')}"
        rec["rated_at"] = site.local_text(r["at_ms"], "%Y-%m-%d %H:%M:%S")
        rec["accepted_on"] = f"{local(r['started_ms'], config):%Y-%m-%d}"
        rec["is_default"] = t("labels.yes") if rec["is_default"] else t("labels.no")
        out.append([rec[f] for f in domain_export.FIELDS])
    return t("web.fig.table.ratings"), headers, out


def _trend(site: Site, p: Period) -> list[dict[str, Any]]:
    """One bar per day: finished (blue) and 差评 (red), widths in px of at most 200."""
    data = figures.report(site.backend.reader(), site.config, p.start, p.end, "day")
    top = max((r["finished"] for r in data), default=0) or 1
    bars = []
    for r in data:
        w, bw = int(200 * r["finished"] / top), int(200 * r["bad"] / top)
        bars.append({"day": r["key"], "w": w, "bw": bw, "gap": 6 if w and bw else 0, "finished": r["finished"],
                     "good_rate": r["good_rate"]})
    return bars


def _heatmap(site: Site, p: Period) -> dict[str, Any] | None:
    """Hours × weekdays of finished 办件, each cell with its shade 0…10 (classes `heat-N`)."""
    h = figures.heatmap(site.backend.reader(), p.start, p.end)
    if not h["hours"]:
        return None
    top = max(max(r) for r in h["finished"]) or 1
    return {"hours": h["hours"],
            "rows": [(t("web.fig.weekday", d=WEEKDAYS[wd]), [(round(10 * c / top), c) for c in counts])
                     for wd, counts in enumerate(h["finished"])]}


def _flags(site: Site, p: Period) -> dict[str, Any]:
    """The period's flagged ratings: a count against all, 好评率 with and without them, the list."""
    db = site.backend.reader()
    a, b = figures._ms_range(site.config, p.start, p.end)
    n = rating_flags.period_counts(db, a, b)
    summary = t("web.fig.flags.summary", rated=n["rated"], flagged=n["flagged"], good=pct(n["good_rate"]),
                good_unflagged=pct(n["good_rate_unflagged"]))
    rule = t("web.fig.flags.rule", jobs=rating_flags.PATTERN_MIN_JOBS, windows=rating_flags.PATTERN_MIN_WINDOWS,
             many=rating_flags.PATTERN_MANY_JOBS)
    found = []
    for r in rating_flags.flagged_between(db, a, b):
        reasons = "；".join(t(f"web.flag.{x}") for x in (r["reasons"] or "").split(",") if x in rating_flags.REASONS)
        source = " ".join(x for x in (
            t("web.fig.flags.device", h=r["rater_hash"][:8]) if r["rater_hash"] else "",
            t("web.fig.flags.address", h=r["address_hash"][:8])) if x)
        found.append({"rating_id": r["rating_id"], "at": site.local_text(r["at_ms"]),
                      "window": _name(site, "window", r["window"]), "staff": _name(site, "staff", r["staff_no"]),
                      "level": r["level"], "round": r["round"], "job_no": r["job_no"], "reasons": reasons,
                      "pattern": t("web.fig.flags.pattern", jobs=r["jobs"], windows=r["windows"]),
                      "source": source, "case_id": r["case_id"]})
    return {"summary": summary, "rule": rule, "rows": found}


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
        tables = [(name, *table(site, name, p)) for name in ("window", "staff", "assessment_windows", "assessment_staff")]
        return page("figures.html", title=t("web.nav.figures"), hall_name=site.hall_name, user=s.user, csrf=s.csrf,
                    active="figures", p=p, trend=_trend(site, p), heat=_heatmap(site, p), tables=tables,
                    flags=_flags(site, p) if site.config is not None else None)

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
