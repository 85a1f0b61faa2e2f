"""What a hall forwards to its city (issue #16): the records listed in `city_outbox` (migration
110: triggers list every finished 办件, rating, case change, case event and attendance flag in
the transaction that made it), read in outbox order and shaped for the city's store.

A record is the row's state when it is read (a case changed three times is sent three times, the
city keeps the latest: its writes are upserts). Nothing private leaves the hall: no rater's phone,
no case text (the citizen's words stay with the hall that follows them up); a rating's own text
does, as the provincial record (R11) carries it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.common import row, rows
from hall_server.domain.export import SinkError
from hall_server.domain.hours import local

STREAMS = ("job", "rating", "case", "case_event", "attendance")
_SELECT = {
    "job": "SELECT id, pub, window, staff_no, department, service_code, job_no, day, started_ms, finished_ms, "
           "handle_ms, wait_ms, overdue, promised_min FROM jobs WHERE id IN ({})",
    "rating": "SELECT id, job_id, round, level, channel, tags, text, is_default, at_ms, window, staff_no, "
              "service_code FROM ratings WHERE id IN ({})",
    "case": "SELECT id, kind, rating_id, job_id, window, staff_no, opened_ms, callback_due_ms, rectify_due_ms, "
            "callback_ms, rectified_ms, status, appeal, excluded, callback_overdue, rectify_overdue "
            "FROM cases WHERE id IN ({})",
    "case_event": "SELECT id, case_id, at_ms, kind, note FROM case_events WHERE id IN ({})",
    "attendance": "SELECT id, day, session, kind, window, staff_no, at_ms, minutes FROM attendance WHERE id IN ({})",
}


def pending(db: sqlite_utils.Database, config: HallConfig, after_seq: int, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` outbox entries after `after_seq`, each `{"seq", "stream", "record"}`, in order."""
    listed = rows(db, "SELECT id, stream, ref FROM city_outbox WHERE id > ? ORDER BY id LIMIT ?", [after_seq, limit])
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for stream in STREAMS:
        refs = sorted({e["ref"] for e in listed if e["stream"] == stream})
        for start in range(0, len(refs), 500):
            part = refs[start:start + 500]
            for r in rows(db, _SELECT[stream].format(",".join("?" * len(part))), part):
                found[(stream, r["id"])] = _shape(stream, r, config)
    return [{"seq": e["id"], "stream": e["stream"], "record": found[(e["stream"], e["ref"])]}
            for e in listed if (e["stream"], e["ref"]) in found]


def _shape(stream: str, r: dict[str, Any], config: HallConfig) -> dict[str, Any]:
    out = dict(r)
    if stream == "rating":
        out["tags"] = json.loads(r["tags"])
        out["is_default"] = bool(r["is_default"])
        out["day"] = f"{local(r['at_ms'], config):%Y-%m-%d}"
    elif stream == "job":
        out["overdue"] = bool(r["overdue"])
    elif stream == "case":
        out["excluded"] = bool(r["excluded"])
        out["day"] = f"{local(r['opened_ms'], config):%Y-%m-%d}"
    return out


class CitySink:
    """POSTs a batch to the city's `/ingest` with the hall's key; the city answers with its cursor.
    A refusal (4xx: a wrong key, a bad batch) stops the pump like a network error: nothing moves,
    the hall's managers see it in the log, and the next round retries."""

    def __init__(self, url: str, hall: str, key: str, timeout_s: float = 30.0) -> None:
        self.base = url.rstrip("/")
        self.url, self.hall, self.key, self.timeout_s = self.base + "/ingest", hall, key, timeout_s
        self.name = "city"

    def _call(self, url: str, payload: object | None) -> Any:
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=body, method="GET" if body is None else "POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {self.key}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise SinkError(f"{url}: HTTP {exc.code} {exc.read()[:300].decode('utf-8', 'replace')}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SinkError(f"{url}: {exc}") from None

    def notes(self) -> list[dict[str, Any]]:
        """督办 notes the city holds for this hall and the hall has not confirmed (`GET /api/notes`)."""
        answer = self._call(self.base + "/api/notes", None)
        notes = answer.get("notes") if isinstance(answer, dict) else None
        if not isinstance(notes, list):
            raise SinkError(f"{self.base}/api/notes: no notes in the answer")
        return notes

    def confirm(self, upto: int) -> None:
        self._call(self.base + "/api/notes/ack", {"upto": upto})

    def deliver(self, entries: list[dict[str, Any]]) -> int:
        answer = self._call(self.url, {"hall": self.hall, "entries": entries})
        upto = answer.get("upto") if isinstance(answer, dict) else None
        if not isinstance(upto, int):
            raise SinkError(f"{self.url}: no cursor in the answer")
        return upto


class CityForwarder:
    """The export runner's pump for the city: outbox entries after the cursor (`export_cursor`
    row `city`, whose `last_rating_id` holds the last outbox id the city applied), in batches; the
    cursor moves (through the writer) to what the city says it has applied."""

    def __init__(self, reader: Callable[[], sqlite_utils.Database], config: HallConfig, sink: CitySink,
                 commit: Callable[[str, int], Any], batch: int = 1000,
                 apply_note: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.reader, self.config, self.sink, self.commit, self.batch = reader, config, sink, commit, batch
        self.apply_note = apply_note
        self.notes_applied = 0

    def pull_notes(self) -> int:
        """督办: the city's notes for this hall, each applied through the writer (`case.city_note`,
        once per note id), then confirmed to the city; a note whose confirmation is lost comes
        again and is not recorded twice."""
        if self.apply_note is None:
            return 0
        notes = self.sink.notes()
        for n in notes:
            try:
                body = {"note_id": int(n["id"]), "case_id": int(n["case_id"]), "note": str(n["note"])[:1000],
                        "pushed_ms": int(n["at_ms"])}
            except (KeyError, TypeError, ValueError):
                raise SinkError(f"a 督办 note the hall cannot read: {str(n)[:200]}") from None
            self.apply_note(body)
        if notes:
            self.sink.confirm(max(int(n["id"]) for n in notes))
            self.notes_applied += len(notes)
        return len(notes)

    def cursor(self) -> int:
        r = row(self.reader(), "SELECT last_rating_id FROM export_cursor WHERE sink = ?", [self.sink.name])
        return r["last_rating_id"] if r else 0

    def pump(self) -> int:
        sent, after = 0, self.cursor()
        while True:
            entries = pending(self.reader(), self.config, after, self.batch)
            if not entries:
                self.pull_notes()
                return sent
            upto = self.sink.deliver(entries)
            if upto < entries[-1]["seq"]:
                raise SinkError(f"the city applied up to {upto}, short of {entries[-1]['seq']}")
            after = entries[-1]["seq"]
            self.commit(self.sink.name, after)
            sent += len(entries)
