"""hall.toml [hours]: the hall's sessions per weekday where they differ from [[hall.sessions]].

    [hours]
    friday = ["09:00-12:00", "13:30-17:00"]     # Friday afternoon closes earlier
    saturday = ["09:00-12:00"]                  # 周六上午 延时服务 (an open day unless a public holiday)
    sunday = []                                 # closed (the default for weekends anyway)

Each key is a weekday in English, its value an array of at most two "HH:MM-HH:MM" sessions in
order (上午 then 下午; the gap between them is the lunch break), or [] for a weekday the hall is
closed. A weekday not listed keeps [[hall.sessions]].
"""

from __future__ import annotations

import re
from datetime import time

from config.reader import Table, quote, show
from config.schema import WEEKDAYS, HallHours, Session

MAX_SESSIONS = 2                      # 上午 and 下午
_SPAN = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])")


def read_hours(table: Table) -> HallHours:
    days: list[tuple[Session, ...] | None] = []
    for name in WEEKDAYS:
        items = table.value(name, list, None)
        days.append(None if items is None else _sessions(table, name, items))
    return HallHours(weekdays=tuple(days))


def _sessions(table: Table, name: str, items: list[object]) -> tuple[Session, ...]:
    if len(items) > MAX_SESSIONS:
        table.bad(name, f"at most {MAX_SESSIONS} sessions a day (上午 and 下午), got {len(items)}")
        return ()
    out: list[Session] = []
    for i, item in enumerate(items):
        key = f"{name}[{i}]"
        match = _SPAN.fullmatch(item.strip()) if isinstance(item, str) else None
        if match is None:
            table.bad(key, f'must be a session "HH:MM-HH:MM" such as "09:00-12:00", got {show(item)}')
            continue
        start, end = time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
        if not start < end:
            table.bad(key, f"the end must be after the start, got {quote(item)}")  # type: ignore[arg-type]
        elif out and start < out[-1].end:
            table.bad(key, f"must not start before the previous session's end {out[-1].end:%H:%M}, "
                           f"got {quote(item)}")  # type: ignore[arg-type]
        else:
            out.append(Session(start, end))
    return tuple(out)
