"""What the demo prints for the person who started it: the first screen (what to open, the logins,
once) and a status line every few seconds in hall time (the demo's clock), in Chinese first.

All words come from the translation table (`config.i18n`, keys `demo.*`); only addresses, names
and numbers are filled in.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from config.i18n import t
from hallnet.clock import Clock
from hallnet.vocabulary import Key

ACCOUNT_LINE = re.compile(r"^(?:web login )?(?P<name>\S+) \((?P<role>\w+)\) password: (?P<password>\S+)$")
WINDOW_STATES = ("serving", "calling", "idle", "paused", "closed")


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - cols)


def banner(*, hall_name: str, url: str, accounts: Sequence[str], clock_start: str, speed: float, data: Path,
           running: Sequence[str], account_note: Path) -> str:
    """The first screen: what to open in a browser, the logins, and what runs."""
    start = clock_start[11:16] if len(clock_start) >= 16 else clock_start
    lines = [t("demo.started", name=hall_name, start=start, speed=f"{speed:g}"),
             t("demo.open"),
             f"    {pad(t('demo.open.floor'), 14)}{url}/floor",
             f"    {pad(t('demo.open.login'), 14)}{url}/login",
             f"    {pad(t('demo.open.screen'), 14)}{url}/screen/hall",
             f"    {pad(t('demo.open.board'), 14)}{url}/public/board",
             f"    {pad(t('demo.open.comments'), 14)}{url}/c",
             t("demo.accounts", path=account_note)]
    for line in accounts:
        m = ACCOUNT_LINE.match(line.strip())
        if m:
            role = t(f"demo.role.{m['role']}") if m["role"] in ("manager", "viewer", "admin") else m["role"]
            lines.append(f"    {pad(role, 8)}{pad(m['name'], 10)}{t('demo.password')} {m['password']}")
        else:
            lines.append(f"    {line}")
    lines += [t("demo.files", data=data, log=data / "demo.log", api=f"{url}/api/state"),
              t("demo.running", names="、".join(f"{name}×{n}" if n > 1 else name
                                                   for name, n in Counter(running).items())),
              t("demo.stop_hint")]
    return "\n".join(lines)


def status_line(url: str, given_log: Path, clock: Clock, tz: ZoneInfo) -> str:
    """`[大厅时间 10:42] 窗口 办理中 5 · 空闲 2 … | 等候 12 人 | 今日已办 84 件 | 已评价 … | 在线设备 18`."""
    hall_time = datetime.fromtimestamp(clock() / 1000, tz).strftime("%H:%M")
    head = t("demo.status.time", time=hall_time)
    try:
        with urllib.request.urlopen(url + "/api/state", timeout=2) as r:
            state = json.load(r)
        with urllib.request.urlopen(url + "/api/nodes", timeout=2) as r:
            alive = json.load(r).get("alive", 0)          # the public summary: {alive, total}
    except (OSError, ValueError):
        return f"{head} {t('demo.status.no_server')}"
    floor = state["state"].get(Key.FLOOR) or {}
    by_state: dict[str, int] = {}
    for k, w in state["state"].items():
        if k.startswith(Key.WINDOW) and isinstance(w, dict):
            by_state[str(w.get("state"))] = by_state.get(str(w.get("state")), 0) + 1
    windows = " · ".join(f"{t(f'demo.state.{s}')} {by_state[s]}" for s in WINDOW_STATES if by_state.get(s))
    return " | ".join([f"{head} {t('demo.status.windows')} {windows or '—'}",
                       t("demo.status.waiting", n=floor.get("waiting", 0)),
                       t("demo.status.served", n=floor.get("served_today", 0)),
                       given_summary(given_log),
                       t("demo.status.devices", n=alive)])


def given_summary(log_path: Path) -> str:
    """What the simulated citizens rated so far, by channel (the traffic's log; the manager's
    figures are private to the floor page)."""
    counts: dict[int, int] = {}
    bad = 0
    try:
        for line in log_path.read_text(encoding="utf-8").splitlines():
            g = json.loads(line)
            if "level" in g:
                code = int(g.get("channel_code") or 0)
                counts[code] = counts.get(code, 0) + 1
                bad += g["level"] <= 2
    except (OSError, ValueError, TypeError):
        pass
    by_channel = " · ".join(f"{t(f'channel.{k}')} {v}" for k, v in sorted(counts.items()) if k)
    return t("demo.status.rated", n=sum(counts.values()), channels=by_channel or "—", bad=bad)
