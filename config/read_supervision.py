"""hall.toml [patrol] and [notify] (issue 15): the patrols' finding categories and photo limits, and
the notification channels (企业微信 / 钉钉 group robots, e-mail). Every key has a default in
config.schema; a secret may be given as the name of an environment variable (`*_env`), which must
then be set when the configuration is loaded."""

from __future__ import annotations

import os
import re

from config.reader import Table, quote, show
from config.schema import DEFAULT_PATROL_FINDINGS, NotifyPolicy, PatrolFinding, PatrolPolicy

_FINDING_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
NOTIFY_EVENTS = ("bad_rating", "overdue", "lockout")


def read_patrol(table: Table) -> PatrolPolicy:
    raw = table.value("findings", list, None)
    findings: list[PatrolFinding] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw or ()):
        if not isinstance(item, dict):
            table.bad(f"findings[{i}]", f"expected a table such as {{ code = \"away\", name = \"离岗\", points = 2 }}, "
                                        f"got {show(item)}")
            continue
        child = table._child(item, f"findings[{i}]", "findings[]")
        code = child.text("code", pattern=_FINDING_CODE, rule="must be lowercase letters, digits or _ (at most 32)")
        name = child.text("name")
        points = child.number("points", 0, 100)
        if code is not None and code in seen:
            child.bad("code", f"{quote(code)} is also findings[{seen[code]}].code")
            continue
        if code is not None and name is not None and points is not None:
            seen[code] = i
            findings.append(PatrolFinding(code, name.strip(), float(points)))
    if raw is not None and not raw:
        table.bad("findings", "must not be empty (leave the key out for the default list)")
    defaults = PatrolPolicy()
    return PatrolPolicy(
        findings=tuple(findings) if raw else DEFAULT_PATROL_FINDINGS,
        due_workdays=table.integer("due_workdays", 1, 60, default=defaults.due_workdays) or defaults.due_workdays,
        photo_max_mb=table.integer("photo_max_mb", 1, 50, default=defaults.photo_max_mb) or defaults.photo_max_mb,
        photo_max_px=table.integer("photo_max_px", 320, 4096, default=defaults.photo_max_px) or defaults.photo_max_px,
        photos_max=table.integer("photos_max", 1, 10, default=defaults.photos_max) or defaults.photos_max)


def _url(table: Table, name: str) -> str:
    value = table.text(name, "") or ""
    if value and not re.fullmatch(r"https?://[!-~]+", value):
        table.bad(name, f"must be \"\" or an http(s):// address, got {quote(value)}")
        return ""
    return value


def _secret(table: Table, name: str) -> str:
    """`name` itself, or the environment variable `name_env` names (which must then be set)."""
    value = table.text(name, "") or ""
    env = table.text(f"{name}_env", "") or ""
    if env and not _ENV_NAME.fullmatch(env):
        table.bad(f"{name}_env", f"must be an environment variable name, got {quote(env)}")
    elif env:
        if value:
            table.bad(f"{name}_env", f"give {name} or {name}_env, not both")
        elif env not in os.environ:
            table.bad(f"{name}_env", f"environment variable {env} is not set")
        else:
            value = os.environ[env]
    return value


def read_notify(table: Table) -> NotifyPolicy:
    d = NotifyPolicy()
    to = table.value("smtp_to", list, [])
    recipients = []
    for i, item in enumerate(to or ()):
        if not isinstance(item, str) or not _EMAIL.fullmatch(item.strip()):
            table.bad(f"smtp_to[{i}]", f"expected an e-mail address, got {show(item)}")
        else:
            recipients.append(item.strip())
    events = table.value("events", list, list(d.events))
    for i, item in enumerate(events or ()):
        if item not in NOTIFY_EVENTS:
            table.bad(f"events[{i}]", f"must be one of {', '.join(NOTIFY_EVENTS)}, got {show(item)}")
    sender = table.text("smtp_from", "") or ""
    if sender and not _EMAIL.fullmatch(sender):
        table.bad("smtp_from", f"expected an e-mail address, got {quote(sender)}")
    host = table.text("smtp_host", "") or ""
    if host and recipients and not sender:
        table.bad("smtp_from", "required when smtp_host and smtp_to are set")

    def num(name: str, low: float, high: float, default: float) -> float:
        value = table.number(name, low, high, default=default)
        return float(value) if value is not None else default

    return NotifyPolicy(
        wecom_webhook=_url(table, "wecom_webhook"), dingtalk_webhook=_url(table, "dingtalk_webhook"),
        dingtalk_secret=_secret(table, "dingtalk_secret"), smtp_host=host,
        smtp_port=table.integer("smtp_port", 1, 65535, default=d.smtp_port) or d.smtp_port,
        smtp_starttls=bool(table.flag("smtp_starttls", d.smtp_starttls)), smtp_user=table.text("smtp_user", "") or "",
        smtp_password=_secret(table, "smtp_password"), smtp_from=sender, smtp_to=tuple(recipients),
        events=tuple(e for e in (events or ()) if e in NOTIFY_EVENTS),
        every_s=num("every_s", 0.05, 3600, d.every_s), retry_first_s=num("retry_first_s", 0.01, 3600, d.retry_first_s),
        retry_max_s=num("retry_max_s", 0.01, 86400, d.retry_max_s), timeout_s=num("timeout_s", 0.1, 120, d.timeout_s))
