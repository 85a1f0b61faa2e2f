"""The pages' rendering: one Jinja2 environment (autoescaping on) over `hall_server/web/templates/`,
the page shell (`base.html`: Chinese first, `lang="zh-CN"`, a CJK font stack that renders rare
characters in their Simplified Chinese forms (R13), readable without JavaScript on a 360 px phone),
the message page, and the Content-Security-Policy every response carries (`hall_server.web.app`
adds the headers).

Every user-facing string comes from the translation table: templates call `t(...)`; no HTML is
built in Python. Templates are written one element per line for reading: the `Compact` extension
drops each newline and the indentation after it, so a page is the same bytes as one long line
(no stray spaces between inline elements). Write a needed space inside a line.

CSP (issue 11): nothing inline runs unless its hash is in the policy. The one stylesheet
(`static/hall.css`) is inlined by `base.html` (no extra request on a citizen's phone) and allowed by
the SHA-256 of its text; an inline script is registered with `inline_script`, which records its
hash. No `style=` attributes and no event-handler attributes anywhere (the policy forbids them):
sizes and colours that depend on data are classes (`heat-0`…`heat-10`) or SVG geometry attributes.
"""

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

WEB = Path(__file__).resolve().parent.parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"
CSS = (STATIC / "hall.css").read_text(encoding="utf-8")

HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
_SCRIPT_HASHES: set[str] = set()
_STYLE_HASHES: set[str] = set()      # further inline stylesheets (`inline_style`), e.g. the hall screens'
_LINE_BREAK = re.compile(r"\n[ \t]*")


class Compact(Extension):
    """Templates are read as one line: every newline and the indentation after it is dropped."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _LINE_BREAK.sub("", source)


def _finalize(value: Any) -> Any:
    return "" if value is None else value      # a missing value prints nothing, never "None"


def stars(level: int) -> str:
    return "★" * level + "☆" * (5 - level)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                  finalize=_finalize, extensions=[Compact], auto_reload=False)
ENV.globals.update(t=t, stars=stars, pct=pct, css=Markup(CSS))


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def inline_script(code: str) -> Markup:
    """A `<script>` element (`script.html`) whose exact text the CSP allows (by hash); call at import time."""
    _SCRIPT_HASHES.add(_sha256(code))
    return Markup(ENV.get_template("script.html").render(code=Markup(code)))


def static_script(name: str) -> Markup:
    """The `<script>` element of `static/<name>`, inlined and allowed by its hash."""
    return inline_script((STATIC / name).read_text(encoding="utf-8"))


def inline_style(name: str) -> Markup:
    """The text of `static/<name>` for a page's `{% block style %}` (`<style>…</style>`), allowed by
    its hash; call at import time."""
    text = (STATIC / name).read_text(encoding="utf-8")
    _STYLE_HASHES.add(_sha256(text))
    return Markup(text)


def content_security_policy() -> str:
    """The policy of every response: only this origin, the stylesheet and registered scripts by
    hash, images and sound (the hall screen's announcements) from here, no framing, no plugins,
    forms post here."""
    scripts = " ".join(["'self'", *sorted(_SCRIPT_HASHES)])
    styles = " ".join(["'self'", _sha256(CSS), *sorted(_STYLE_HASHES)])
    return (f"default-src 'none'; script-src {scripts}; "
            f"style-src {styles}; img-src 'self'; media-src 'self'; connect-src 'self'; font-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def security_headers() -> dict[str, str]:
    return {"Content-Security-Policy": content_security_policy(), **HEADERS}


def render(template: str, **context: Any) -> str:
    """The template's text (a fragment or a whole page)."""
    return ENV.get_template(template).render(**context)


def page(template: str, *, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    """A whole page from a template that extends `base.html` (context: `title`, `hall_name`,
    `narrow`, and for the managers' pages `user`, `csrf`, `active`)."""
    context.setdefault("narrow", False)
    base = {"Cache-Control": "no-store", **security_headers()}
    return HTMLResponse(render(template, **context), status_code=status, headers={**base, **(headers or {})})


def message(title: str, text: str, *, status: int = 200, hall_name: str = "", kind: str = "info") -> HTMLResponse:
    """A page that only says something: thanks, 已评价, expired link, forged link, errors."""
    icon = {"info": "ℹ️", "ok": "✅", "error": "⚠️"}.get(kind, "")
    return page("message.html", status=status, title=title, text=text, icon=icon, narrow=True,
                hall_name=hall_name or t("web.site"))
