"""The terminal names every slip outcome in Chinese: 打印超时 (the gateway took the slip and never
reported it) and 未确认 (the gateway cannot tell whether the paper came out), said loudly once."""

from __future__ import annotations

from config.i18n import t
from window_terminal.slip_status import line, newly_failed


def win(state: str, error: str | None, print_id: int = 7) -> dict:
    return {"slip": {"print_id": print_id, "state": state, "error": error, "job_no": "SB-1", "reprint": False,
                     "at_ms": 0}}


def test_a_timed_out_print_is_a_failure_with_its_reason() -> None:
    text, kind = line(win("failed", "timeout"), t)
    assert (text, kind) == (t("term.slip.failed", reason="打印超时", job_no="SB-1"), "error")
    assert "打印超时" in text and "SB-1" in text and "timeout" not in text
    assert "打印机脱机" in line(win("failed", "offline"), t)[0]


def test_an_unconfirmed_print_asks_the_clerk_to_look() -> None:
    for error, words in (("no_status", "打印机未回复状态"), ("interrupted", "打印服务中途重启"), ("odd", "打印机未回复状态")):
        text, kind = line(win("unconfirmed", error), t)
        assert kind == "error" and words in text and "未确认" in text and "补打" in text
        assert text == t("slips.unconfirmed", reason=t(f"slips.reason.{'no_status' if error == 'odd' else error}"),
                         job_no="SB-1")
        assert "no_status" not in text and "interrupted" not in text


def test_said_loudly_once_when_it_becomes_unconfirmed_or_failed() -> None:
    assert newly_failed(win("printing", None), win("unconfirmed", "interrupted"))
    assert not newly_failed(win("unconfirmed", "interrupted"), win("unconfirmed", "interrupted"))
    assert newly_failed(win("unconfirmed", "no_status"), win("failed", "timeout"))
    assert newly_failed(win("failed", "timeout"), win("failed", "timeout", print_id=8))
    assert not newly_failed(win("failed", "timeout"), win("printed", None))
