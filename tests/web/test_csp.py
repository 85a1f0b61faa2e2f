"""A strict Content-Security-Policy on every response (issue 11), and pages that need nothing it
forbids: no style or event-handler attributes, inline `<style>`/`<script>` only by hash."""

from __future__ import annotations

import base64
import hashlib
import re

from hall_server.web.pages.layout import content_security_policy
from tests.web.conftest import login

INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)
FORBIDDEN_ATTR = re.compile(r"<[^>]*\s(style|on[a-z]+)\s*=", re.I)


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def check(r, where: str) -> None:
    csp = r.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ") if d}
    assert directives.get("default-src") == ["'none'"], where
    assert directives.get("frame-ancestors") == ["'none'"] and "'unsafe-inline'" not in csp, where
    assert r.headers.get("x-content-type-options") == "nosniff", where
    assert r.headers.get("referrer-policy") == "same-origin", where
    if r.headers.get("content-type", "").startswith("text/html"):
        assert not FORBIDDEN_ATTR.search(r.text), (where, FORBIDDEN_ATTR.search(r.text).group(0))
        for kind, body in INLINE.findall(r.text):
            assert _sha(body) in directives[f"{kind}-src"], (where, kind)


def test_every_response_has_the_csp_and_pages_fit_it(hall_env, client) -> None:
    res = hall_env.finish()
    url = hall_env.link(res["job"])
    public = ["/login", url, url + "/qr.png", url + "/qr.svg", "/c", "/c/qr.svg", "/nowhere", "/r/abc.def",
              "/api/health", "/api/state", "/api/openapi.json", "/api/floor", "/api/nowhere"]
    for path in public:
        check(client.get(path), path)
    check(client.post(url, data={"level": "1", "tags": ["N02"], "text": "慢"}), "POST " + url)
    check(client.post("/login", data={"user": "boss", "password": "wrong-wrong"}), "POST /login")
    csrf = login(client)
    case_id = hall_env.hub.reader().execute("SELECT id FROM cases").fetchone()[0]
    for path in ("/floor", "/floor/data", "/cases", "/cases?show=all", f"/cases/{case_id}", "/figures",
                 "/figures/export.csv?table=window", "/figures/export.xlsx?table=ratings", f"/api/cases/{case_id}",
                 "/ledger?show=all", "/ledger/export.xlsx?show=all", "/patrol", "/patrol?window=1", "/assessment",
                 "/assessment/year"):                                   # issue 15's pages too
        check(client.get(path), path)
    r = client.post(f"/cases/{case_id}/callback", data={"csrf": csrf}, follow_redirects=False)
    check(r, "POST callback")
    check(client.post("/logout", data={"csrf": csrf}, follow_redirects=False), "POST /logout")


def test_the_policy_allows_the_floor_script_by_its_hash() -> None:
    from hall_server.web.pages.floor_page import SCRIPT

    body = INLINE.search(SCRIPT).group(2)
    assert _sha(body) in content_security_policy()
    assert "script-src 'self' 'sha256-" in content_security_policy()
