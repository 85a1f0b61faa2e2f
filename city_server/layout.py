"""The city pages' rendering (the hall's model, hall_server/web/pages/layout.py, written again:
city_server may not import hall_server): one Jinja2 environment with autoescaping over
`city_server/templates/`, Chinese first through config.i18n, the one stylesheet inlined and allowed
by its hash in the Content-Security-Policy, no scripts, no inline styles or handlers."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup
from starlette.responses import HTMLResponse

from config.i18n import t

HERE = Path(__file__).resolve().parent
CSS = (HERE / "static" / "city.css").read_text(encoding="utf-8")
_LINE_BREAK = re.compile(r"\n[ \t]*")


class Compact(Extension):
    """Templates are read as one line: every newline and the indentation after it is dropped."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _LINE_BREAK.sub("", source)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                  finalize=lambda v: "" if v is None else v, extensions=[Compact], auto_reload=False)
ENV.globals.update(t=t, pct=pct, css=Markup(CSS))


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def security_headers() -> dict[str, str]:
    return {"Content-Security-Policy": (f"default-src 'none'; script-src 'none'; style-src {_sha256(CSS)}; "
                                        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                        "base-uri 'none'; object-src 'none'"),
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store"}


def render(template: str, **context: Any) -> str:
    return ENV.get_template(template).render(**context)


def page(template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page extending base.html (context: `title`, and for signed-in pages `user`, `csrf`, `active`)."""
    context.setdefault("user", None)
    context.setdefault("active", "")
    return HTMLResponse(render(template, **context), status_code=status, headers=security_headers())


def message(title: str, text: str, *, status: int = 200, user: Any = None, csrf: str = "") -> HTMLResponse:
    return page("message.html", status=status, title=title, text=text, user=user, csrf=csrf)
