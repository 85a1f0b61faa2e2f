"""What the 管理 pages share: the shell's context, sending a change through the one writer, the
store's items as the forms edit them, and field checks with Chinese messages.

A page never writes the configuration itself: it builds the item's whole TOML table and sends
`admin.change` (`hall_server.domain.admin`), which the writer validates with the folder loader,
audits and applies; the hub then swaps its configuration and every node gets the deltas.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from config.i18n import t
from hall_server.core.writer import Applied
from hall_server.domain.hall_config_store import LISTS, store_docs
from hall_server.web.pages.auth import Session
from hall_server.web.pages.site import Site
from hallnet.vocabulary import Msg, NodeKind, node_id

TABS = (("staff", "/admin/staff"), ("windows", "/admin/windows"), ("services", "/admin/services"),
        ("tags", "/admin/tags"), ("hall", "/admin/hall"), ("audit", "/admin/audit"))

Errors = dict[str, str]          # field name → the message shown next to it


def shell(site: Site, s: Session, tab: str) -> dict[str, Any]:
    tabs = TABS + ((("accounts", "/admin/accounts"),) if s.user.role == "admin" else ())
    return {"hall_name": site.hall_name, "user": s.user, "csrf": s.csrf, "active": "admin", "tab": tab,
            "tabs": tabs}


def node_of(s: Session) -> str:
    return node_id(NodeKind.MANAGER, s.user.name)


async def send_change(site: Site, s: Session, what: str, subject: str,
                      items: list[tuple[str, str, dict[str, Any]]]) -> Applied:
    body = {"who": s.user.name, "what": what, "subject": subject,
            "items": [{"kind": kind, "key": key, "doc": doc} for kind, key, doc in items]}
    return await site.backend.command(Msg.ADMIN_CHANGE, body, node_of(s))


def refused_text(a: Applied) -> str:
    """A refused change, in Chinese: the loader's problems are listed as they are (file: key: message)."""
    if a.error == "config_refused":
        problems = a.details.get("problems") or []
        listed = "；".join(f"{p.get('file')} {p.get('key')}：{p.get('message')}" for p in problems[:5])
        return t("admin.refused_config", problems=listed)
    return t("admin.refused", code=a.error or "?")


def items(site: Site, file: str, array: str) -> list[dict[str, Any]]:
    return list(store_docs(site.backend.reader()).get(file, {}).get(array, []))


def file_doc(site: Site, file: str) -> dict[str, Any]:
    """The file's own keys (its lists of items are items of their own)."""
    doc = dict(store_docs(site.backend.reader()).get(file, {}))
    for array, _kind, _field in LISTS[file]:
        doc.pop(array, None)
    return doc


def find(rows: list[dict[str, Any]], field: str, value: Any) -> dict[str, Any] | None:
    return next((r for r in rows if str(r.get(field)) == str(value)), None)


def clean_text(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0].strip() if values else ""


def check_line(errors: Errors, name: str, value: str, max_len: int, required: bool = True) -> str:
    """One line of plain text: required (unless not), at most `max_len` characters, no control or
    bidi characters."""
    if not value:
        if required:
            errors[name] = t("admin.err.required")
        return value
    if len(value) > max_len:
        errors[name] = t("admin.err.too_long", n=max_len)
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        errors[name] = t("admin.err.control")
    return value


def check_int(errors: Errors, name: str, value: str, low: int, high: int) -> int:
    if not re.fullmatch(r"-?[0-9]{1,9}", value or ""):
        errors[name] = t("admin.err.integer", low=low, high=high)
        return low
    n = int(value)
    if not low <= n <= high:
        errors[name] = t("admin.err.integer", low=low, high=high)
    return n
