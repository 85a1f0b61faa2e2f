"""The queue, the window and its staff, the 办件: the bodies a dispenser, terminal or kiosk sends,
the `queue.take` result as the dispenser reads it (`QueueTaken`) and the staff card a window
publishes (`StaffCard`, `window/<n>.staff`), as the evaluator reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from hallnet.bodies.base import AtWindow, BadBody, Body, DoneAt, Id, Window, _s, _t, field_of


class QueueTake(Body, kw_only=True):
    category: _s(8)
    priority: str | None = None


class QueueTaken(msgspec.Struct, frozen=True, kw_only=True):
    """The result of `queue.take` (the server's reply), as the dispenser reads it: not a request
    body (not in BODIES), so unknown fields are ignored (a newer server may add some). `ahead` is
    the people called before it, as its status page says (`waiting_before` is the older count, read
    when a server sends no `ahead`); the wait is a range in whole minutes,
    both None when no window serving the category is open; `status_path` is the ticket's status
    page ("/t/<public_id>"), `status_url` the same with the hall's `public_url` (None without one)."""

    ticket: str
    public_id: str = ""
    category: str = ""
    priority: str | None = None
    taken_ms: int | None = None
    waiting_before: int = 0
    ahead: int | None = None
    wait_min_minutes: int | None = None
    wait_max_minutes: int | None = None
    status_path: str | None = None
    status_url: str | None = None

    @property
    def people_ahead(self) -> int:
        return self.ahead if self.ahead is not None else self.waiting_before


def queue_taken(result: dict[str, Any]) -> QueueTaken:
    """A `queue.take` result as its type; raises BadBody naming the field that does not fit."""
    try:
        return msgspec.convert(result, QueueTaken, strict=True)
    except msgspec.ValidationError as exc:
        raise BadBody(str(exc)[:300], field_of(str(exc))) from None


class QueueCallBack(AtWindow, kw_only=True):
    ticket_id: Id


class QueueTransfer(AtWindow, kw_only=True):
    to_window: Window | None = None
    to_category: _t(8) | None = None


class WindowSignIn(AtWindow, kw_only=True):
    staff_no: _s(8)
    pin: _s(32)
    new_pin: _s(32) = ""          # the clerk's own PIN, after a manager reset theirs (pin_change_required)


class WindowPause(DoneAt, kw_only=True):
    reason: _s(32)


class JobFinish(DoneAt, kw_only=True):
    service_code: _s(64)
    job_no: _t(64) | None = None


@dataclass(frozen=True)
class StaffCard:
    """`window/<n>`'s `staff`: who is signed in at the window, as the hall server publishes it
    (`hall_server.domain.floor`) and the evaluator shows it (`kiosk.evaluator_view`, which keeps
    its local copy of the photo beside it). A dataclass, not a Struct: the server publishes it with
    the floor's other typed values (`dataclasses.asdict`); msgspec decodes it all the same. Not a
    request body (not in BODIES): unknown fields are ignored (a newer server may add some)."""

    staff_no: str
    name: str = ""
    department: str = ""
    stars: int = 0
    promise: str = ""
    photo: str = ""          # `/staff-photos/<file>` on the hall server's HTTP side, "" without one


def staff_card_of(value: Any) -> StaffCard | None:
    """A published `window/<n>.staff` (a map) as its type; None for no card (None, no `staff_no`)
    or one that does not fit (a field of the wrong type). Fields sent as None count as not sent;
    numbers sent as text are read as numbers."""
    if not isinstance(value, dict) or not value.get("staff_no"):
        return None
    try:
        return msgspec.convert({k: v for k, v in value.items() if v is not None}, StaffCard, strict=False)
    except msgspec.ValidationError:
        return None
