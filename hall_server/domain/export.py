"""R11 upward export: each rating as the provincial record, as JSON lines and CSV, delivered
store-and-forward to a configured sink (a folder or an HTTP endpoint).

The `ratings` table (append-only) is the outbox; `export_cursor` holds, per sink, the last rating
id delivered. `Exporter.pump()` runs outside the writer (it does I/O): it reads undelivered
ratings from a read-only connection, delivers them in batches and, only after the sink accepted a
batch, moves the cursor through the writer (`export.delivered`). When the sink is down nothing
moves and nothing is lost; the next pump retries. A batch may be delivered twice if the process
dies between delivery and cursor commit: the folder sink then rewrites the same file names
(ids in the name), an HTTP receiver deduplicates by `rating_id`.

The record (GB/T 39046 table 9 fields; keys in English):
  rating_id, region_code 行政区划代码, dept_code 部门编码, service_code 事项编码, job_no 办件编号,
  channel 评价渠道 (1–7; 0 = system default), level 评价等级 (1–5), reasons 差评原因代码,
  text 评价内容, rated_at 评价时间 (YYYYMMDDThhmmss, hall local time), round 评价次数 (1 or 2),
  staff_no / staff_name 经办人, promised_min 承诺时限 (minutes), accepted_on 受理日期 (YYYYMMDD),
  is_default 系统默认评价.
The rater's phone never leaves the hall.
"""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from config.schema import HallConfig
from hall_server.domain.common import row, rows
from hall_server.domain.csv_cells import csv_safe
from hall_server.domain.hours import local
from hallnet.vocabulary import Msg

FIELDS = ("rating_id", "region_code", "dept_code", "service_code", "job_no", "channel", "level", "reasons", "text",
          "rated_at", "round", "staff_no", "staff_name", "promised_min", "accepted_on", "is_default")


class SinkError(Exception):
    """The sink did not take the batch (down, full, refused): retry later."""


def record(config: HallConfig, r: dict[str, Any]) -> dict[str, Any]:
    """The provincial record of one rating row joined with its job (see `pending`)."""
    try:
        staff_name = config.staff_member(r["staff_no"]).name
    except KeyError:
        staff_name = ""
    return {
        "rating_id": r["id"], "region_code": config.hall.region_code, "dept_code": config.hall.department_code,
        "service_code": r["service_code"] or "", "job_no": r["job_no"] or "", "channel": r["channel"],
        "level": r["level"], "reasons": json.loads(r["tags"]), "text": r["text"],
        "rated_at": f"{local(r['at_ms'], config):%Y%m%dT%H%M%S}", "round": r["round"], "staff_no": r["staff_no"],
        "staff_name": staff_name, "promised_min": r["promised_min"],
        "accepted_on": f"{local(r['started_ms'], config):%Y%m%d}", "is_default": bool(r["is_default"]),
    }


def pending(db: sqlite_utils.Database, config: HallConfig, after_id: int, limit: int) -> list[dict[str, Any]]:
    found = rows(db, "SELECT r.*, j.job_no, j.promised_min, j.started_ms FROM ratings r JOIN jobs j ON j.id = r.job_id "
                     "WHERE r.id > ? ORDER BY r.id LIMIT ?", [after_id, limit])
    return [record(config, r) for r in found]


def to_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def to_csv(records: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\r\n")
    w.writeheader()
    for r in records:   # a citizen's text (or any cell) that a spreadsheet would run as a formula is neutralised
        flat = {**r, "reasons": ";".join(r["reasons"]), "is_default": int(r["is_default"])}
        w.writerow({k: csv_safe(v) for k, v in flat.items()})
    return buf.getvalue()


class Sink(Protocol):
    name: str

    def deliver(self, records: list[dict[str, Any]]) -> None: ...


class FolderSink:
    """Writes each batch as `ratings-<first id>-<last id>.jsonl` and `.csv` (UTF-8), atomically."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.name = f"folder:{self.folder}"[:200]

    def deliver(self, records: list[dict[str, Any]]) -> None:
        stem = f"ratings-{records[0]['rating_id']:010d}-{records[-1]['rating_id']:010d}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for ext, text in (("csv", to_csv(records)), ("jsonl", to_jsonl(records))):
                tmp = self.folder / f".{stem}.{ext}.tmp"
                with open(tmp, "w", encoding="utf-8", newline="") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.folder / f"{stem}.{ext}")
        except OSError as exc:
            raise SinkError(f"{self.folder}: {exc}") from None


class HttpSink:
    """POSTs each batch as JSON lines (application/x-ndjson); any 2xx is accepted."""

    def __init__(self, url: str, timeout_s: float = 10.0, headers: dict[str, str] | None = None) -> None:
        self.url, self.timeout_s, self.headers = url, timeout_s, dict(headers or {})
        self.name = url[:200]

    def deliver(self, records: list[dict[str, Any]]) -> None:
        req = urllib.request.Request(self.url, data=to_jsonl(records).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/x-ndjson; charset=utf-8", **self.headers})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                if not 200 <= resp.status < 300:
                    raise SinkError(f"{self.url}: HTTP {resp.status}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SinkError(f"{self.url}: {exc}") from None


def make_sink(spec: str, timeout_s: float = 10.0) -> Sink:
    """A sink from its configured form: `http://…` / `https://…`, or `folder:/path` (or a plain path)."""
    if spec.startswith(("http://", "https://")):
        return HttpSink(spec, timeout_s)
    return FolderSink(spec.removeprefix("folder:"))


class Exporter:
    """Store-and-forward to one sink. `commit(sink_name, upto)` moves the cursor through the writer,
    e.g. `lambda s, n: hub.submit(Msg.EXPORT_DELIVERED, {"sink": s, "upto": n}, "system-export")`."""

    def __init__(self, reader: Callable[[], sqlite_utils.Database], config: HallConfig, sink: Sink,
                 commit: Callable[[str, int], Any], batch: int = 500) -> None:
        self.reader, self.config, self.sink, self.commit, self.batch = reader, config, sink, commit, batch

    def cursor(self) -> int:
        r = row(self.reader(), "SELECT last_rating_id FROM export_cursor WHERE sink = ?", [self.sink.name])
        return r["last_rating_id"] if r else 0

    def pump(self) -> int:
        """Deliver everything pending; returns how many records went out. A down sink stops the pump
        (SinkError is raised to the caller after the batches that did go out are committed)."""
        sent, after = 0, self.cursor()
        while True:
            records = pending(self.reader(), self.config, after, self.batch)
            if not records:
                return sent
            self.sink.deliver(records)          # SinkError: the cursor stays, retried next time
            after = records[-1]["rating_id"]
            self.commit(self.sink.name, after)
            sent += len(records)
