"""The roster (排班) and leave (请销假): managers' pages and a clerk's own request at the terminal."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from hallnet.bodies.base import AtWindow, Body, Id, Window, _t

Day = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
Half = Annotated[int, msgspec.Meta(ge=0, le=1)]         # 0 上午, 1 下午
StaffNo = Annotated[str, msgspec.Meta(max_length=8, pattern=r"^[!-~]*$")]


class RosterCell(Body, kw_only=True):
    """One window open in one half of one day; `staff_no` '' = open, nobody named."""

    day: Day
    half: Half
    window: Window
    staff_no: StaffNo = ""


class RosterSetWeek(Body, kw_only=True):
    """The whole roster of the week starting `monday`: its open days get exactly these cells."""

    monday: Day
    cells: Annotated[list[RosterCell], msgspec.Meta(max_length=7 * 2 * 400)]


class RosterCopyWeek(Body, kw_only=True):
    monday: Day


class LeaveAdd(Body, kw_only=True):
    staff_no: StaffNo
    kind: Literal["leave", "trip"] = "leave"
    start_day: Day
    start_half: Half = 0
    end_day: Day
    end_half: Half = 1
    note: _t(200) = ""


class LeaveCancel(Body, kw_only=True):
    leave_id: Id


class LeaveRequest(AtWindow, kw_only=True):
    """A clerk asks for leave at their terminal (the 工号 is whoever is signed in there)."""

    kind: Literal["leave", "trip"] = "leave"
    start_day: Day
    start_half: Half = 0
    end_day: Day
    end_half: Half = 1
    note: _t(200) = ""


class LeaveDecide(Body, kw_only=True):
    leave_id: Id
    approve: bool
