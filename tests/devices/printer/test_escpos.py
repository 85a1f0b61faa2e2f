"""ESC/POS bytes: the exact commands, GB18030 text, limits, and the receipt layouts."""

from __future__ import annotations

from datetime import datetime

import pytest

from devices.printer.blocks import Align, Feed, Line, Qr
from devices.printer.escpos import BadSetting, EscPos, QrTooLong, render
from devices.printer.receipts import Slip, Ticket, slip_blocks, slip_bytes, text_width, ticket_blocks, wrap

H = bytes.fromhex
SLIP = Slip(
    hall_name="𠇔城区政务服务中心",
    window="3号窗口",
    service="城乡居民基本医疗保险参保登记（含新生儿、大学生及灵活就业人员参保缴费）",
    case_no="BJ20250101000123",
    time=datetime(2025, 1, 2, 9, 30),
    rating_url="https://hall.example.gov.cn/r/3f9a1c",
)


def test_basic_commands() -> None:
    assert EscPos().init().to_bytes() == H("1B 40 1C 26")
    assert EscPos().align(Align.CENTER).to_bytes() == H("1B 61 01")
    assert EscPos().bold(True).bold(False).to_bytes() == H("1B 45 01 1B 45 00")
    assert EscPos().size(2, 3).to_bytes() == H("1D 21 12")
    assert EscPos().feed(4).to_bytes() == H("1B 64 04")
    assert EscPos().cut().to_bytes() == H("1D 56 42 03")
    assert EscPos().cut(partial=False, feed_lines=0).to_bytes() == H("1D 56 41 00")


def test_qr_command_sequence() -> None:
    data = "https://x.cn/r/1"
    n = len(data) + 3
    assert EscPos().qr(data).to_bytes() == (
        H("1D 28 6B 04 00 31 41 32 00")             # model 2
        + H("1D 28 6B 03 00 31 43 06")              # module size 6
        + H("1D 28 6B 03 00 31 45 31")              # error correction M
        + bytes([0x1D, 0x28, 0x6B, n, 0, 0x31, 0x50, 0x30]) + data.encode()   # store
        + H("1D 28 6B 03 00 31 51 30")              # print
    )


def test_qr_length_bytes_beyond_255() -> None:
    out = EscPos().qr("u" * 300, error="L").to_bytes()
    store = out.index(H("31 50 30"))
    assert out[store - 2 : store] == (303).to_bytes(2, "little")


@pytest.mark.parametrize("call", [
    lambda: EscPos().size(0, 1), lambda: EscPos().size(1, 9), lambda: EscPos().qr("x", size=17),
    lambda: EscPos().qr("x", error="X"), lambda: EscPos().qr("x", model=3), lambda: EscPos().feed(256),
])
def test_bad_settings(call) -> None:
    with pytest.raises(BadSetting):
        call()


def test_qr_too_long() -> None:
    EscPos().qr("a" * 2331, error="M")
    with pytest.raises(QrTooLong):
        EscPos().qr("a" * 2332, error="M")
    with pytest.raises(QrTooLong):
        EscPos().qr("")


def test_text_is_gb18030_and_control_characters_cannot_inject_commands() -> None:
    assert EscPos().text("王𬀩").to_bytes() == "王𬀩".encode("gb18030") == H("CD F5 99 31 87 39")
    assert EscPos().line("a\x1b@b\x1dV\x00").to_bytes() == b"a @b V \n"


def test_document_starts_with_init_and_chinese_mode_and_ends_with_a_cut() -> None:
    data = slip_bytes(SLIP)
    assert data.startswith(H("1B 40 1C 26")) and data.endswith(H("1D 56 42 03"))
    assert "𠇔".encode("gb18030") in data


def test_wrap_counts_wide_characters_as_two_columns() -> None:
    assert text_width("A王𬀩") == 5
    assert wrap("王" * 30, 48) == ["王" * 24, "王" * 6]
    assert wrap("ab王", 3) == ["ab", "王"]
    assert wrap("", 48) == [""]


def test_slip_layout() -> None:
    blocks = slip_blocks(SLIP)
    lines = [b.text for b in blocks if isinstance(b, Line)]
    assert blocks[0] == Line("𠇔城区政务服务中心", Align.CENTER, True, 2, 2)
    assert "窗口：3号窗口" in lines and "办件编号：BJ20250101000123" in lines and "时间：2025-01-02 09:30" in lines
    assert not any(SLIP.service in line for line in lines)  # wrapped over two lines...
    assert "事项：" + SLIP.service in "".join(lines)          # ...but all there
    assert all(text_width(b.text) * b.width <= 48 for b in blocks if isinstance(b, Line))
    assert [b for b in blocks if isinstance(b, Qr)] == [Qr(SLIP.rating_url, 6, "M")]
    assert isinstance(blocks[-1], Feed)


def test_slip_in_english() -> None:
    lines = [b.text for b in slip_blocks(SLIP, "en") if isinstance(b, Line)]
    assert "Case No.: BJ20250101000123" in lines and "Scan to rate" in lines


def test_ticket_layout() -> None:
    ticket = Ticket("政务服务中心", "A012", "社保医保", 5, datetime(2025, 1, 2, 9, 5))
    blocks = ticket_blocks(ticket)
    assert Line("A012", Align.CENTER, True, 4, 4) in blocks
    assert Line("社保医保", Align.CENTER, False, 2, 2) in blocks
    assert Line("前面还有5人等候", Align.CENTER) in blocks
    assert Line("取号时间：2025-01-02 09:05", Align.CENTER) in blocks
    assert render(blocks).endswith(H("1D 56 42 03"))
