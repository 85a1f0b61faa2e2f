"""The demo hall's 排班: each week, the staffed windows open with their clerk on every open half day
and the windows nobody staffs closed, entered as a manager would (`roster.set_week`), so the
demo's attendance counts 空岗 only where a window was meant to open."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from config.schema import HallConfig
from hall_server.domain.workdays import open_slots
from hallnet.vocabulary import NodeKind, node_id

MANAGER_NODE = node_id(NodeKind.MANAGER, "demo")


def week_roster(config: HallConfig, desks: dict[int, str], day: date) -> dict[str, Any]:
    """The `roster.set_week` body of the week of `day`: window -> clerk for every staffed window."""
    monday = day - timedelta(days=day.weekday())
    cells = []
    for i in range(7):
        d = monday + timedelta(days=i)
        for half in sorted({slot.half for slot in open_slots(d, config)}):
            cells += [{"day": d.isoformat(), "half": half, "window": w, "staff_no": s} for w, s in sorted(desks.items())]
    return {"monday": monday.isoformat(), "cells": cells}
