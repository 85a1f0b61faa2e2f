"""The pages' HTML shell: escaping, one stylesheet, the message page, the managers' menu, and
the Content-Security-Policy every response carries (`hall_server.web.app` adds the headers).

Pages are built from small Python functions (no template engine): every value goes through
`esc`. Chinese first (`lang="zh-CN"`), a CJK font stack that renders rare characters in their
Simplified Chinese forms (R13), readable without JavaScript on a 360 px phone.

CSP (issue 11): nothing inline runs unless its hash is in the policy. The one stylesheet is
inline (no extra request on a citizen's phone) and allowed by its SHA-256; an inline script is
written with `inline_script`, which records its hash. No `style=` attributes and no event-handler
attributes anywhere (the policy forbids them): sizes and colours that depend on data are classes
(`heat-0`…`heat-10`) or SVG geometry attributes.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any

from starlette.responses import HTMLResponse

from config.i18n import t

FONT_STACK = '"Noto Sans CJK SC", "Noto Sans SC", "HanaMinA", "HanaMinB", sans-serif'

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font-family:FONTSTACK;color:#1d2129;background:#f2f4f7;line-height:1.5;font-size:16px}
header.bar{background:#b71c1c;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center}
header.bar h1{font-size:18px;margin:0;font-weight:600}
header.bar nav a,header.bar nav button{color:#fff;margin-right:12px;text-decoration:none;font:inherit;background:none;border:0;cursor:pointer;padding:0}
header.bar nav a.on{text-decoration:underline}
header.bar .who{margin-left:auto;font-size:14px;opacity:.9}
main{max-width:1280px;margin:0 auto;padding:12px}
main.narrow{max-width:520px}
.card{background:#fff;border-radius:8px;padding:14px 16px;margin:0 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card h2{font-size:17px;margin:0 0 10px}
dl.facts{display:grid;grid-template-columns:5em 1fr;gap:4px 8px;margin:0}
dl.facts dt{color:#86909c}
dl.facts dd{margin:0;word-break:break-all}
fieldset{border:0;margin:0 0 12px;padding:0}
legend{font-weight:600;margin-bottom:6px;padding:0}
.levels label{display:flex;align-items:center;gap:10px;padding:10px 12px;border:1px solid #dcdfe6;border-radius:6px;margin:0 0 6px;background:#fff;min-height:44px}
.levels .stars{color:#f5a623;letter-spacing:1px;min-width:5.5em}
.tags label{display:inline-flex;align-items:center;gap:6px;border:1px solid #dcdfe6;border-radius:16px;padding:6px 12px;margin:0 6px 6px 0;min-height:36px}
input[type=radio],input[type=checkbox]{width:20px;height:20px;margin:0}
textarea,input[type=text],input[type=tel],input[type=password],input[type=date],input[type=month],select{width:100%;font:inherit;padding:8px 10px;border:1px solid #c9cdd4;border-radius:6px;background:#fff}
textarea{min-height:90px}
button.primary,a.button{display:inline-block;background:#b71c1c;color:#fff;border:0;border-radius:6px;padding:11px 20px;font:inherit;font-size:17px;cursor:pointer;text-decoration:none;min-height:44px}
button.secondary{background:#fff;color:#b71c1c;border:1px solid #b71c1c;border-radius:6px;padding:7px 14px;font:inherit;cursor:pointer}
.wide{width:100%}
.hint{color:#86909c;font-size:14px}
.error{background:#fdecea;color:#a8071a;border:1px solid #f5c2c0;border-radius:6px;padding:10px 12px;margin:0 0 12px}
.ok{background:#e8f5e9;color:#1b5e20;border:1px solid #b7dfb9;border-radius:6px;padding:10px 12px;margin:0 0 12px}
.msg{text-align:center;padding:28px 16px}
.msg .big{font-size:22px;font-weight:600;margin:8px 0}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border-bottom:1px solid #e5e6eb;padding:6px 8px;text-align:left;white-space:nowrap}
th{background:#f7f8fa;font-weight:600}
td.num,th.num{text-align:right}
.scroll{overflow-x:auto}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:13px;line-height:20px;background:#e5e6eb;color:#1d2129}
.b-red{background:#f53f3f;color:#fff}.b-orange{background:#ff7d00;color:#fff}.b-green{background:#00b42a;color:#fff}
.b-blue{background:#165dff;color:#fff}.b-grey{background:#c9cdd4}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:10px}
.win{background:#fff;border-radius:8px;padding:10px 12px;border-left:6px solid #c9cdd4;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.win.serving{border-color:#00b42a}.win.calling{border-color:#165dff}.win.idle{border-color:#14c9c9}
.win.paused{border-color:#ff7d00}.win.closed{border-color:#c9cdd4;opacity:.85}
.win .head{display:flex;justify-content:space-between;gap:6px;font-weight:600}
.win .line{font-size:14px;color:#4e5969}
.alerts li{margin:0 0 4px}
.bar-row{display:flex;align-items:center;gap:6px;font-size:13px}
.bar-row .b{background:#165dff;height:12px;border-radius:2px}
.bar-row .bb{background:#f53f3f;height:12px;border-radius:2px}
.heat td{text-align:center;min-width:30px}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
form.inline{display:inline}
.live{font-size:13px;opacity:.9}
.msg .icon{font-size:40px}
header.bar .who button.logout{margin-left:8px;padding:2px 10px}
dl.facts.wide{grid-template-columns:7em 1fr}
td.wrap{white-space:normal}
.bar-row .day{width:6.5em}
.bar-row svg{flex:none}
form.period{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
.badge.spaced{margin:0 6px 6px 0}
""".replace("FONTSTACK", FONT_STACK) + "".join(
    f".heat td.heat-{i}{{background:rgba(22,93,255,{0.08 + 0.08 * i:.2f})}}\n" for i in range(11))

HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
_SCRIPT_HASHES: set[str] = set()


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def inline_script(code: str) -> str:
    """A `<script>` element whose exact text the CSP allows (by hash); call at import time."""
    _SCRIPT_HASHES.add(_sha256(code))
    return f"<script>{code}</script>"


def content_security_policy() -> str:
    """The policy of every response: only this origin, the stylesheet and registered scripts by
    hash, images from here, no framing, no plugins, forms post here."""
    scripts = " ".join(["'self'", *sorted(_SCRIPT_HASHES)])
    return (f"default-src 'none'; script-src {scripts}; "
            f"style-src 'self' {_sha256(CSS)}; img-src 'self'; connect-src 'self'; font-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def security_headers() -> dict[str, str]:
    return {"Content-Security-Policy": content_security_policy(), **HEADERS}


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, *, status: int = 200, narrow: bool = False, header: str = "",
         scripts: str = "", headers: dict[str, str] | None = None) -> HTMLResponse:
    doc = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="referrer" content="same-origin"><title>{esc(title)}</title>'
        f'<style>{CSS}</style></head><body>{header}'
        f'<main class="{"narrow" if narrow else ""}">{body}</main>{scripts}</body></html>'
    )
    base = {"Cache-Control": "no-store", **security_headers()}
    return HTMLResponse(doc, status_code=status, headers={**base, **(headers or {})})


def public_header(hall_name: str) -> str:
    return f'<header class="bar"><h1>{esc(hall_name)}</h1></header>'


def message(title: str, text: str, *, status: int = 200, hall_name: str = "", kind: str = "info",
            extra: str = "") -> HTMLResponse:
    """A page that only says something: thanks, 已评价, expired link, forged link, errors."""
    icon = {"info": "ℹ️", "ok": "✅", "error": "⚠️"}.get(kind, "")
    body = (f'<div class="card msg"><div aria-hidden="true" class="icon">{icon}</div>'
            f'<div class="big">{esc(title)}</div><p>{esc(text)}</p>{extra}</div>')
    return page(title, body, status=status, narrow=True, header=public_header(hall_name or t("web.site")))


def manager_header(user: Any, csrf: str, active: str, hall_name: str) -> str:
    items = [("floor", "/floor", t("web.nav.floor")), ("cases", "/cases", t("web.nav.cases")),
             ("figures", "/figures", t("web.nav.figures"))]
    links = "".join(f'<a href="{href}" class="{"on" if key == active else ""}">{esc(label)}</a>'
                    for key, href, label in items)
    role = t(f"web.role.{user.role}")
    return (f'<header class="bar"><h1>{esc(hall_name)}</h1><nav>{links}</nav>'
            f'<span class="who">{esc(user.name)}（{esc(role)}）'
            f'<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{esc(csrf)}">'
            f'<button class="secondary logout">{esc(t("web.logout"))}</button></form>'
            '</span></header>')


def stars(level: int) -> str:
    return "★" * level + "☆" * (5 - level)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
