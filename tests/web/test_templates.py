"""Pages on Jinja2 templates: autoescaping, one line per page, no HTML built in Python, the
static stylesheet and floor script allowed by their hashes."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from config.i18n import TEXTS
from hall_server.web.pages import layout
from hall_server.web.pages.layout import ENV, STATIC, TEMPLATES, content_security_policy, message, render

PAGES = Path(layout.__file__).resolve().parent
TAG = re.compile(r"<(div|span|p|a|form|table|tr|td|th|input|label|h1|h2|ul|li|dl|dt|dd|svg|rect|textarea|button|"
                 r"fieldset|legend|header|nav|main|style|script|meta|title|html|body|br)[\s>/]")


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_every_template_compiles() -> None:
    names = sorted(p.name for p in TEMPLATES.glob("*.html"))
    assert {"base.html", "manager.html", "message.html", "login.html", "qr_rate.html", "comment.html",
            "floor.html", "floor_body.html", "cases.html", "case.html", "figures.html"} <= set(names)
    for name in names:
        ENV.get_template(name)


def test_values_are_escaped_and_missing_values_refused() -> None:
    html = render("message.html", title="<b>t</b>", text='"x" & <script>alert(1)</script>', icon="",
                  hall_name="<i>厅</i>", narrow=True)
    assert "<script>alert" not in html and "<b>t</b>" not in html and "<i>厅</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp;" in html and "&lt;i&gt;厅&lt;/i&gt;" in html
    with pytest.raises(UndefinedError):
        render("login.html", title="x", hall_name="h", narrow=True)          # `error` and `next` missing


def test_a_page_is_one_line_with_the_shell_and_chinese_text() -> None:
    r = message("已评价", "谢谢", hall_name="测试大厅", kind="ok")
    text = r.body.decode()
    assert "\n" not in text.split("<style>")[0] and "\n" not in text.split("</style>")[1]
    assert text.startswith('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">')
    assert '<header class="bar"><h1>测试大厅</h1></header><main class="narrow"><div class="card msg">' in text
    assert r.headers["cache-control"] == "no-store" and "content-security-policy" in r.headers


def test_no_html_built_in_python() -> None:
    for path in sorted(PAGES.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "esc(" not in source, path.name
        code = re.sub(r'"""(.*?)"""', "", source, flags=re.S)        # docstrings may name elements
        assert not TAG.search(code), (path.name, TAG.search(code).group(0))


def test_static_stylesheet_and_script_are_allowed_by_hash_only() -> None:
    csp = content_security_policy()
    css = (STATIC / "hall.css").read_text(encoding="utf-8")
    js = (STATIC / "floor.js").read_text(encoding="utf-8")
    assert f"style-src 'self' {_sha(css)}" in csp          # then the screens' own (layout.inline_style)
    assert _sha((STATIC / "screen.css").read_text(encoding="utf-8")) in csp.split("style-src", 1)[1].split(";")[0]
    assert _sha(js) in csp and "'unsafe-inline'" not in csp
    page = message("x", "y").body.decode()
    assert f"<style>{css}</style>" in page


def test_every_text_key_a_template_names_exists() -> None:
    literal = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']\s*[,)]""")
    prefix = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+\.)["']\s*~""")
    for path in sorted(TEMPLATES.glob("*.html")):
        source = path.read_text(encoding="utf-8")
        for key in literal.findall(source):
            assert key in TEXTS, (path.name, key)
        for start in prefix.findall(source):           # t("web.case.do." ~ action): some key has that prefix
            assert any(k.startswith(start) for k in TEXTS), (path.name, start)
