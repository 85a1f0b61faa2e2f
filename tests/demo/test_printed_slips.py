"""The traffic simulator's citizens read their QR link off the printed slip (the printer simulator's
decoded documents), never from a staff-side reply."""

from __future__ import annotations

import json
from pathlib import Path

from hall_server.core import qr_token
from demo.printed_slips import SlipReader, job_of_link


def test_a_citizen_finds_the_link_printed_on_their_slip(tmp_path: Path) -> None:
    url = "http://hall.test:8080/r/" + qr_token.sign(b"s" * 32, "a1b2c3d4e5f6a7b8c9d0", 1_800_000_000)
    assert job_of_link(url) == "a1b2c3d4e5f6a7b8c9d0"
    assert job_of_link("http://hall.test/r/garbage!") is None and job_of_link("http://x/r/") is None
    out = tmp_path / "printer-1.jsonl"
    reader = SlipReader({1: out})
    assert reader.has_printer(1) and not reader.has_printer(2)
    assert reader.link(1, "a1b2c3d4e5f6a7b8c9d0") is None                  # nothing printed yet
    line = json.dumps({"lines": ["政务服务中心"], "qr": [url]}, ensure_ascii=False)
    out.write_text("{not json}\n" + line[:20], encoding="utf-8")         # a document still being written
    assert reader.link(1, "a1b2c3d4e5f6a7b8c9d0") is None
    out.write_text("{not json}\n" + line + "\n", encoding="utf-8")
    assert reader.link(1, "a1b2c3d4e5f6a7b8c9d0") == url
