"""Ratings whose pattern suggests one device rating many 办件 (issue 11): flagged for managers,
never dropped and never silently counted.

The QR page (`hall_server.web.pages.qr_page`) and the JSON API send a QR rating as `rating.sourced`:
the `rating.submit` / `rating.followup` body plus two keyed hashes (HMAC with the hall secret, so an
address cannot be recovered by hashing all 2^32 of them) of the browser's long-lived rater cookie
and of the client's address. In the same transaction as the rating, this module stores them (`rating_sources`) and flags the new rating (`rating_flags`, append-only) when,
within `PATTERN_PERIOD_MS` before it, the same cookie (`same_rater`) or the same address
(`same_address`) rated at least `PATTERN_MIN_JOBS` different 办件 at `PATTERN_MIN_WINDOWS` or more
different windows — or `PATTERN_MANY_JOBS` different 办件 at any windows (a clerk rating their own
window's kept slips from one phone) — this one included. The first ratings of such a run are not
flagged: they look like any citizen's until the pattern appears (the managers' list shows the
run's hashes, so the earlier ones can be found). The address hash is empty (no address rule)
for addresses in hall.toml `[network] shared_networks` (a guest Wi-Fi's one NAT address).

Counting (the decision, see docs/trust.md): a flagged rating stays in every figure (好评率 included)
— a family rating three 办件 from one phone, or citizens behind one carrier NAT address, are
real ratings that must not be lost — and the figures page says how many of the period's ratings
are flagged, with the 好评率 without them beside it, so nothing is counted silently.

| type | from | body | result |
|---|---|---|---|
| `rating.sourced` | qr | `{kind: submit/followup, rating: <the rating.submit / rating.followup body>, rater_hash ('' or 32 hex), address_hash ('' or 32 hex)}` | the inner result + `{flags: [reason, …]}` |
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from hall_server.domain.common import QR, row, rows
from hall_server.domain.commands import COMMANDS
from hall_server.domain.context import Context, Handlers
from hallnet.bodies import RatingSourced
from hallnet.vocabulary import Msg

PATTERN_MIN_JOBS = 3                   # different 办件 rated from one cookie / one address …
PATTERN_MIN_WINDOWS = 2                # … handled at this many different windows or more …
PATTERN_PERIOD_MS = 24 * 3600 * 1000   # … within a day (sliding, ending at the new rating)
PATTERN_MANY_JOBS = 6                  # … or this many different 办件 at any windows, one included
REASONS = ("same_rater", "same_address")


def _pattern(ctx: Context, column: str, value: str, since_ms: int, until_ms: int) -> tuple[int, int]:
    r = row(ctx, f"SELECT COUNT(DISTINCT job_id) AS jobs, COUNT(DISTINCT window) AS windows FROM rating_sources "
                 f"WHERE {column} = ? AND at_ms > ? AND at_ms <= ?", [value, since_ms, until_ms])
    assert r is not None
    return int(r["jobs"]), int(r["windows"])


INNER = {"submit": Msg.RATING_SUBMIT, "followup": Msg.RATING_FOLLOWUP}


HANDLERS = Handlers()   # this module's message types (collected in hall_server.core.handlers)


@HANDLERS.on(Msg.RATING_SOURCED, kinds={QR})
def rating_sourced(ctx: Context, body: RatingSourced) -> dict[str, Any]:
    """A QR rating together with where it came from, in one transaction: the rating is applied by
    its own handler (`rating.submit` / `rating.followup`, every rule and refusal unchanged), then its
    source is stored and the pattern checked. Result: the inner result plus `flags`."""
    result = COMMANDS.dispatch(ctx, INNER[body.kind], dict(body.rating))
    return {**result, "flags": record_source(ctx, int(result["rating_id"]), body.rater_hash, body.address_hash)}


def record_source(ctx: Context, rating_id: int, rater: str, address: str) -> list[str]:
    """Store where the rating came from; flag it when the pattern says one device rates many 办件.
    Returns the reasons it was flagged for."""
    r = row(ctx, "SELECT id, job_id, window, at_ms FROM ratings WHERE id = ?", [rating_id])
    assert r is not None, "the rating was inserted in this transaction"
    ctx.db.execute("INSERT INTO rating_sources (rating_id, job_id, window, rater_hash, address_hash, at_ms) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [rating_id, r["job_id"], r["window"], rater, address, r["at_ms"]])
    flags = []
    for reason, column, value in (("same_rater", "rater_hash", rater), ("same_address", "address_hash", address)):
        if not value:
            continue
        jobs, windows = _pattern(ctx, column, value, r["at_ms"] - PATTERN_PERIOD_MS, r["at_ms"])
        if (jobs >= PATTERN_MIN_JOBS and windows >= PATTERN_MIN_WINDOWS) or jobs >= PATTERN_MANY_JOBS:
            ctx.db.execute("INSERT INTO rating_flags (rating_id, reason, rater_hash, address_hash, jobs, windows, at_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", [rating_id, reason, rater, address, jobs, windows, ctx.now_ms])
            ctx.audit("rating.flagged", str(rating_id), reason=reason, jobs=jobs, windows=windows)
            flags.append(reason)
    return flags


# --- what the managers' pages read ------------------------------------------------------------

def reasons_by_rating(db: sqlite_utils.Database, rating_ids: list[int]) -> dict[int, list[str]]:
    """The flag reasons of each of these ratings (absent = not flagged)."""
    out: dict[int, list[str]] = {}
    ids = [i for i in rating_ids if i is not None][:1000]
    if not ids:
        return out
    marks = ",".join("?" * len(ids))
    for rid, reason in db.execute(f"SELECT rating_id, reason FROM rating_flags WHERE rating_id IN ({marks}) "
                                  "ORDER BY id", ids).fetchall():
        if reason not in out.setdefault(rid, []):
            out[rid].append(reason)
    return out


def flagged_between(db: sqlite_utils.Database, start_ms: int, end_ms: int, limit: int = 500) -> list[dict[str, Any]]:
    """The flagged ratings given in [start_ms, end_ms), newest first: what the figures page lists."""
    return rows(db, "SELECT r.id AS rating_id, r.at_ms, r.round, r.level, r.window, r.staff_no, j.job_no, "
                    "GROUP_CONCAT(DISTINCT f.reason) AS reasons, MAX(f.jobs) AS jobs, MAX(f.windows) AS windows, "
                    "MIN(f.rater_hash) AS rater_hash, MIN(f.address_hash) AS address_hash, "
                    "(SELECT c.id FROM cases c WHERE c.rating_id = r.id) AS case_id "
                    "FROM rating_flags f JOIN ratings r ON r.id = f.rating_id JOIN jobs j ON j.id = r.job_id "
                    "WHERE r.at_ms >= ? AND r.at_ms < ? GROUP BY r.id ORDER BY r.at_ms DESC, r.id DESC LIMIT ?",
                [start_ms, end_ms, limit])


def period_counts(db: sqlite_utils.Database, start_ms: int, end_ms: int) -> dict[str, Any]:
    """First ratings (评价次数 1, not policy defaults) in the period: all, flagged, and the 好评率
    (levels 3–5) with and without the flagged ones."""
    r = row(db, "SELECT COUNT(*) AS rated, SUM(r.level >= 3) AS good, "
                "SUM(EXISTS (SELECT 1 FROM rating_flags f WHERE f.rating_id = r.id)) AS flagged, "
                "SUM(r.level >= 3 AND EXISTS (SELECT 1 FROM rating_flags f WHERE f.rating_id = r.id)) AS flagged_good "
                "FROM ratings r WHERE r.round = 1 AND r.is_default = 0 AND r.at_ms >= ? AND r.at_ms < ?",
            [start_ms, end_ms])
    assert r is not None
    rated, good = int(r["rated"] or 0), int(r["good"] or 0)
    flagged, flagged_good = int(r["flagged"] or 0), int(r["flagged_good"] or 0)
    unflagged = rated - flagged
    return {"rated": rated, "flagged": flagged,
            "good_rate": good / rated if rated else None,
            "good_rate_unflagged": (good - flagged_good) / unflagged if unflagged else None}
