"""What of the hall's state map a citizen may see (`GET /api/state` without a login).

An allowlist, key by key and field by field: a state key or field added later stays private
until it is listed here. Never a rating (`rating/<n>` carries the slip's signed link), a ticket or
办件 id, a keypad handle, a pause reason or anything under `mgr/`. Managers (a key or a session)
get the whole map.

| key | public fields |
|---|---|
| `floor` | day, windows_open, windows_paused, windows_closed, waiting, waiting_over_limit, served_today |
| `queue/<category>` | category, name, waiting, priority_waiting, oldest_queued_ms, last_called |
| `calls` | recent: [{ticket, window, at_ms, recall}] |
| `window/<n>` | window, name, state, ticket (the number called or served), staff: {staff_no, name, department, stars} (the identity the evaluator shows), pause (only while paused): the pause reason's CATEGORY (lunch / away / consulting / training / other; never the reason's text: a reason typed by hand is "other") |
| `notice` | text (the hall screen's notice line, hall.toml `[screen] notice`) |

The staff member's photo (亮身份) is not in the state: `/screen/window/{n}/photo` serves the photo of
whoever is signed in at window n now, and nothing else (`hall_server.web.pages.screens`).

`GET /api/floor` without a login (`api_floor`) shows the same: its windows keep these fields only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from config.i18n import TEXTS
from hall_server.domain.floor_snapshot import FloorSnapshot

FLOOR_FIELDS = ("day", "windows_open", "windows_paused", "windows_closed", "waiting", "waiting_over_limit",
                "served_today")
QUEUE_FIELDS = ("category", "name", "waiting", "priority_waiting", "oldest_queued_ms", "last_called")
CALL_FIELDS = ("id", "ticket", "window", "at_ms", "kind", "recall")
NOTICE_FIELDS = ("text",)
PAUSE_CATEGORIES = ("lunch", "away", "consulting", "training", "other")   # the terminal's reason buttons


def pause_category(reason: Any) -> str:
    """The category of a pause reason: the terminal sends the category's code; a reason typed
    another way (the demo, an older terminal) counts as its category when it is the category's
    Chinese name, else "other"."""
    if reason in PAUSE_CATEGORIES:
        return str(reason)
    for code in PAUSE_CATEGORIES:
        if reason == TEXTS.get(f"pause.{code}", {}).get("zh"):
            return code
    return "other"
WINDOW_FIELDS = ("window", "name", "state", "ticket")
STAFF_FIELDS = ("staff_no", "name", "department", "stars")


def _pick(value: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {}
    return {k: value[k] for k in fields if k in value}


def _window(value: Any) -> dict[str, Any]:
    out = _pick(value, WINDOW_FIELDS)
    staff = value.get("staff") if isinstance(value, Mapping) else None
    out["staff"] = _pick(staff, STAFF_FIELDS) if isinstance(staff, Mapping) else None
    if isinstance(value, Mapping) and value.get("state") == "paused":
        out["pause"] = pause_category(value.get("pause_reason"))
    return out


def _calls(value: Any) -> dict[str, Any]:
    recent = value.get("recent") if isinstance(value, Mapping) else None
    return {"recent": [_pick(c, CALL_FIELDS) for c in recent if isinstance(c, Mapping)]
            if isinstance(recent, list) else []}


def _segments(key: str) -> tuple[str, str]:
    head, _, rest = key.partition("/")
    return head, rest


def public_value(key: str, value: Any) -> dict[str, Any] | None:
    """The public form of one state key's value, or None when the key is not public."""
    head, rest = _segments(key)
    if key == "floor":
        return _pick(value, FLOOR_FIELDS)
    if key == "calls":
        return _calls(value)
    if key == "notice":
        return _pick(value, NOTICE_FIELDS)
    if head == "queue" and rest and "/" not in rest:
        return _pick(value, QUEUE_FIELDS)
    if head == "window" and rest.isdigit():
        return _window(value)
    return None


def public_state(values: Mapping[str, Any]) -> dict[str, Any]:
    """The allowlisted keys of a state snapshot, each reduced to its public fields."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        shown = public_value(key, value)
        if shown is not None:
            out[key] = shown
    return out


def nodes_summary(presence: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How many nodes are connected and alive: all the public may know of `/api/nodes`."""
    alive = sum(1 for p in presence.values() if p.get("alive"))
    return {"alive": alive, "total": len(presence)}


def api_floor(snap: FloorSnapshot, manager: bool) -> dict[str, Any]:
    """`GET /api/floor` from the floor's one snapshot. Without a login: the public part only, each
    window reduced to the `window/<n>` allowlist above (no 办件 id, pause reason, rating state or
    promise), the `floor` summary; a logged-in caller also gets each window's 办件 public id, pause
    reason and rating state, and today's rating and case counts (`mgr/floor`)."""
    windows: list[dict[str, Any]] = []
    for w in snap.windows:
        staff = asdict(w.staff) if w.staff is not None else None
        if manager:
            windows.append({"window": w.window, "name": w.name, "state": w.state, "staff": staff, "ticket": w.ticket,
                            "job": w.job, "since_ms": w.since_ms, "pause_reason": w.pause_reason,
                            "rating": "open" if w.rating_open else None, "rating_expires_ms": w.rating_expires_ms})
        else:
            windows.append({**_pick(asdict(w), WINDOW_FIELDS), "staff": _pick(staff, STAFF_FIELDS) if staff else None})
    queues = [{"category": q.category, "waiting": q.waiting, "priority_waiting": q.priority_waiting,
               "oldest_wait_ms": snap.at_ms - q.oldest_queued_ms if q.oldest_queued_ms is not None else None}
              for q in snap.queues]
    summary = asdict(snap.summary) | (asdict(snap.manager) if manager else {})
    return {"seq": snap.seq, "at_ms": snap.at_ms, "summary": summary, "windows": windows, "queues": queues}


_FLOOR_JSON: dict[bool, tuple[FloorSnapshot, bytes]] = {}    # per audience: the last snapshot, serialised


def api_floor_json(snap: FloorSnapshot, manager: bool) -> bytes:
    """`api_floor` as JSON bytes (as Starlette writes them), made once per snapshot and audience."""
    last = _FLOOR_JSON.get(manager)
    if last is None or last[0] is not snap:
        body = json.dumps(api_floor(snap, manager), ensure_ascii=False, allow_nan=False, indent=None,
                          separators=(",", ":")).encode("utf-8")
        last = _FLOOR_JSON[manager] = (snap, body)
    return last[1]
