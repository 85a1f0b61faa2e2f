"""The records a hall forwards (hall_server.domain.city_records), checked at the city's edge:
one msgspec type per stream; anything else is refused with the field that was wrong."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Day = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
Id = Annotated[int, msgspec.Meta(ge=1)]


class Job(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    pub: Short
    window: int
    staff_no: Short
    department: Short
    service_code: Short | None
    job_no: Short | None
    day: Day
    started_ms: int
    finished_ms: int | None
    handle_ms: int | None
    wait_ms: int | None
    overdue: bool
    promised_min: int | None


class Rating(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    job_id: Id
    round: Annotated[int, msgspec.Meta(ge=1, le=2)]
    level: Annotated[int, msgspec.Meta(ge=1, le=5)]
    channel: Annotated[int, msgspec.Meta(ge=0, le=9)]
    tags: list[Short]
    text: Text
    is_default: bool
    at_ms: int
    day: Day
    window: int
    staff_no: Short
    service_code: Short | None


class Case(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    kind: Short
    rating_id: int | None
    job_id: int | None
    window: int | None
    staff_no: Short | None
    opened_ms: int
    day: Day
    callback_due_ms: int
    rectify_due_ms: int
    callback_ms: int | None
    rectified_ms: int | None
    status: Short
    appeal: Short
    excluded: bool
    callback_overdue: int
    rectify_overdue: int


class CaseEvent(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    case_id: Id
    at_ms: int
    kind: Short
    note: Text


class Attendance(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    day: Day
    session: int
    kind: Short
    window: int
    staff_no: Short
    at_ms: int
    minutes: int


class JobEntry(msgspec.Struct, forbid_unknown_fields=True, tag_field="stream", tag="job"):
    seq: Id
    record: Job


class RatingEntry(msgspec.Struct, forbid_unknown_fields=True, tag_field="stream", tag="rating"):
    seq: Id
    record: Rating


class CaseEntry(msgspec.Struct, forbid_unknown_fields=True, tag_field="stream", tag="case"):
    seq: Id
    record: Case


class CaseEventEntry(msgspec.Struct, forbid_unknown_fields=True, tag_field="stream", tag="case_event"):
    seq: Id
    record: CaseEvent


class AttendanceEntry(msgspec.Struct, forbid_unknown_fields=True, tag_field="stream", tag="attendance"):
    seq: Id
    record: Attendance


# An entry is `{"seq", "stream", "record"}`; the stream names the record's type (decoded in one pass).
Entry = JobEntry | RatingEntry | CaseEntry | CaseEventEntry | AttendanceEntry


class Batch(msgspec.Struct, forbid_unknown_fields=True):
    hall: Short
    entries: Annotated[list[Entry], msgspec.Meta(max_length=2000)]


TYPES: dict[str, type[msgspec.Struct]] = {"job": Job, "rating": Rating, "case": Case, "case_event": CaseEvent,
                                          "attendance": Attendance}
_DECODER = msgspec.json.Decoder(Batch)


class BadBatch(ValueError):
    """A batch the city refuses as a whole (nothing of it is applied)."""


def decode(body: bytes) -> tuple[Batch, list[tuple[int, str, msgspec.Struct]]]:
    """The batch and its entries as typed records, or BadBatch naming what was wrong (a record
    naming its hall is refused as an unknown field: the key names the hall)."""
    try:
        batch = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise BadBatch(f"batch: {exc}") from None
    except msgspec.DecodeError as exc:
        raise BadBatch(f"not JSON: {exc}") from None
    out: list[tuple[int, str, msgspec.Struct]] = []
    last = 0
    for e in batch.entries:
        if e.seq <= last:
            raise BadBatch(f"entry {e.seq}: out of order")
        last = e.seq
        out.append((e.seq, type(e).__struct_config__.tag, e.record))   # type: ignore[attr-defined]
    return batch, out
