"""办件 — called **jobs** here: started when a called ticket is served, finished with its 事项
and 办件编号, overdue against the 事项's 承诺时限 (R9). Finishing opens the rating opportunity
for that window (R2, R4): the evaluator (kiosk, keypad) until `rating_expires_ms`, the QR slip
until `qr_expires_ms`.

`jobs.pub` is the stable public id of a 办件; the QR slip's link carries it signed (`qr_link`).
That link is a credential to rate (DESIGN.md "Rating tokens"): it is in no state key and in no
reply to a staff terminal; the devices gateway gets it to print the slip (`slips`).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.core import qr_token
from hall_server.domain import rollup
from hall_server.domain.common import public_id, row, rows
from hall_server.domain.errors import JobNoTaken, NoCurrentTicket, NotServing, UnknownJob, UnknownService
from hall_server.domain.floor import set_window, window_row
from hall_server.domain.hours import day_of, local
from hall_server.domain.tickets import event
from hall_server.domain.context import Context
from hallnet.vocabulary import Key

SOURCES = ("window", "system", "generated")   # who gave the 办件编号


def start(ctx: Context, window: int, staff_no: str) -> dict[str, Any]:
    w = window_row(ctx, window)
    if w["job_id"] is not None:
        j = row(ctx, "SELECT pub FROM jobs WHERE id = ?", [w["job_id"]])
        return {"job": j["pub"] if j else None, "already": True}
    if w["ticket_id"] is None:
        raise NoCurrentTicket(f"window {window} has no called ticket to serve", window=window)
    t = row(ctx, "SELECT * FROM tickets WHERE id = ?", [w["ticket_id"]])
    assert t is not None
    wait_ms = (t["first_called_ms"] or ctx.now_ms) - t["taken_ms"]
    pub = public_id()
    cur = ctx.db.execute(
        "INSERT INTO jobs (pub, ticket_id, window, staff_no, status, started_ms, wait_ms) "
        "VALUES (?, ?, ?, ?, 'serving', ?, ?)",
        [pub, t["id"], window, staff_no, ctx.now_ms, wait_ms],
    )
    ctx.db.execute("UPDATE tickets SET status = 'serving' WHERE id = ?", [t["id"]])
    event(ctx, t["id"], "serving", window, job=pub)
    set_window(ctx, window, job_id=cur.lastrowid)
    return {"job": pub, "ticket": t["no"], "already": False}


def generated_no(ctx: Context, job_id: int) -> str:
    """A 办件编号 when neither the window nor the business system gave one:
    行政区划 code + local date + 8-digit job id (unique in the hall)."""
    config = ctx.config
    return f"{config.hall.region_code}{local(ctx.now_ms, config):%Y%m%d}{job_id:08d}"


def finish(ctx: Context, window: int, service_code: str, job_no: str | None, source: str) -> dict[str, Any]:
    config = ctx.config
    try:
        service = config.service(service_code)
    except KeyError:
        raise UnknownService(f"no 事项 {service_code!r}", service_code=service_code) from None
    w = window_row(ctx, window)
    if w["job_id"] is None:
        raise NotServing(f"window {window} is not serving a 办件", window=window)
    job = row(ctx, "SELECT * FROM jobs WHERE id = ?", [w["job_id"]])
    assert job is not None
    if job_no:
        other = row(ctx, "SELECT id FROM jobs WHERE job_no = ?", [job_no])
        if other is not None and other["id"] != job["id"]:
            raise JobNoTaken(f"办件编号 {job_no} is already used", job_no=job_no)
    else:
        job_no, source = generated_no(ctx, job["id"]), "generated"
    handle_ms = max(0, ctx.now_ms - job["started_ms"])
    overdue = int(handle_ms > service.promised_min * 60_000)
    policy = config.hall.rating
    expires = ctx.now_ms + policy.open_s * 1000
    qr_expires = ctx.now_ms + policy.qr_valid_days * 86_400_000
    dept = rollup.department(config, service_code, job["staff_no"])
    ctx.db.execute(
        "UPDATE jobs SET status = 'finished', finished_ms = ?, day = ?, service_code = ?, job_no = ?, "
        "job_no_source = ?, promised_min = ?, handle_ms = ?, overdue = ?, department = ?, rating = 'open', "
        "rating_expires_ms = ?, qr_expires_ms = ? WHERE id = ?",
        [ctx.now_ms, day_of(ctx.now_ms, config), service_code, job_no, source, service.promised_min, handle_ms,
         overdue, dept, expires, qr_expires, job["id"]],
    )
    if job["ticket_id"] is not None:
        ctx.db.execute("UPDATE tickets SET status = 'done' WHERE id = ?", [job["ticket_id"]])
        event(ctx, job["ticket_id"], "finished", window, job=job["pub"], service=service_code)
    job = row(ctx, "SELECT * FROM jobs WHERE id = ?", [job["id"]])
    assert job is not None
    wait_over = job["wait_ms"] is not None and job["wait_ms"] > config.hall.thresholds.wait_alert_min * 60_000
    rollup.add_finished(ctx.db, config, job, wait_over)
    # One rating opportunity for this window: a 办件 still open on its evaluator falls back to its QR slip.
    if w["rating_job_id"] is not None and w["rating_job_id"] != job["id"]:
        ctx.db.execute("UPDATE jobs SET rating = 'qr' WHERE id = ? AND rating = 'open'", [w["rating_job_id"]])
    set_window(ctx, window, ticket_id=None, job_id=None, rating_job_id=job["id"], last_job_id=job["id"])
    publish_rating(ctx, window, job)
    return {"job": job["pub"], "job_no": job_no, "job_no_source": source, "handle_ms": handle_ms,
            "overdue": bool(overdue), "rating_expires_ms": expires, "qr_expires_ms": qr_expires}


def qr_link(ctx: Context, job: dict[str, Any]) -> dict[str, str | None]:
    """The slip's QR link of a finished 办件 (a rating credential: only for citizen-side devices and
    the slip printer's gateway): `qr_path` "/r/<signed token>" and, when the hall has `public_url`,
    the full `qr_url` (else None). Both None when the hub has no secret."""
    return link(ctx.secret, ctx.config, job)


def link(secret: bytes, config: HallConfig, job: dict[str, Any]) -> dict[str, str | None]:
    """`qr_link` without a command context (tests and tools holding the hall secret)."""
    if not secret or job["finished_ms"] is None:
        return {"qr_path": None, "qr_url": None}
    path = qr_token.qr_path(secret, job["pub"], job["finished_ms"], config.hall.rating.qr_valid_days)
    return {"qr_path": path, "qr_url": config.hall.public_url + path if config.hall.public_url else None}


def publish_rating(ctx: Context, window: int, job: dict[str, Any] | None) -> None:
    """`rating/<window>`: what the evaluator needs to ask for a rating; None closes it. Never the
    QR link: every node (staff terminals too) may read every state key."""
    if job is None:
        ctx.publish(Key.rating(window), None)
        return
    config = ctx.config
    try:
        s = config.staff_member(job["staff_no"])
        name, dept, stars = s.name, s.department, s.stars
    except KeyError:
        name, dept, stars = "", "", 0
    ctx.publish(Key.rating(window), {
        "window": window, "job": job["pub"], "handle": job["id"], "staff_no": job["staff_no"], "staff_name": name,
        "department": dept, "stars": stars, "service_code": job["service_code"],
        "expires_ms": job["rating_expires_ms"], "tag_version": config.tags.version,
    })


def by_pub(db: sqlite_utils.Database, pub: str) -> dict[str, Any]:
    j = row(db, "SELECT * FROM jobs WHERE pub = ?", [pub])
    if j is None:
        raise UnknownJob("no such 办件")
    return j


def view(j: dict[str, Any]) -> dict[str, Any]:
    """A 办件 as shown outside (API): no internal ids beyond the public one."""
    return {k: j[k] for k in ("pub", "window", "staff_no", "department", "status", "started_ms", "finished_ms",
                              "day", "service_code", "job_no", "job_no_source", "promised_min", "handle_ms",
                              "wait_ms", "rating", "rating_expires_ms", "qr_expires_ms")} | {"overdue": bool(j["overdue"])}


def listing(db: sqlite_utils.Database, *, window: int | None = None, day: str | None = None, status: str | None = None,
            limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    where, params = [], []
    for col, val in (("window", window), ("day", day), ("status", status)):
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val)
    sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ? OFFSET ?"
    return [view(j) for j in rows(db, sql, [*params, limit, offset])]
