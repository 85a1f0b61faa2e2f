"""The printer simulator's ESC/POS decoder: back to lines and QR payloads, never crashing."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printer.blocks import Align, Feed, Line, Qr
from devices.printer.decoder import EscPosDecoder
from devices.printer.escpos import EscPos, render
from devices.printer.receipts import Slip, Ticket, slip_blocks, ticket_blocks

H = bytes.fromhex
SLIP = Slip("王𬀩镇政务服务中心", "12号窗口", "不动产登记", "ZJ2025-0001", datetime(2025, 3, 1, 14, 0),
            "https://hall.example.gov.cn/r/9")
TICKET = Ticket("政务服务中心", "B105", "不动产", 12, datetime(2025, 3, 1, 8, 59))


def decode_all(data: bytes, step: int | None = None):
    decoder = EscPosDecoder()
    step = step or len(data) or 1
    docs = []
    for i in range(0, len(data), step):
        docs += decoder.feed(data[i : i + step])
    return docs, decoder


def test_slip_and_ticket_round_trip_whole_and_byte_by_byte() -> None:
    for blocks in (slip_blocks(SLIP), ticket_blocks(TICKET)):
        data = render(blocks)
        for step in (None, 1, 5):
            [doc], _ = decode_all(data, step)
            assert doc.items == blocks and doc.cut == "partial" and doc.unknown == [] and doc.warnings == []


def test_slip_split_at_every_byte() -> None:
    data = render(slip_blocks(SLIP))
    for cut in range(len(data) + 1):
        decoder = EscPosDecoder()
        docs = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        assert len(docs) == 1 and docs[0].qr_payloads() == [SLIP.rating_url]


def test_document_json() -> None:
    [doc], _ = decode_all(render(slip_blocks(SLIP)))
    js = doc.to_json()
    assert js["qr"] == [SLIP.rating_url] and js["lines"][0] == SLIP.hall_name and js["cut"] == "partial"
    assert js["items"][0] == {"type": "line", "text": SLIP.hall_name, "align": "center", "bold": True,
                              "width": 2, "height": 2}
    assert "𬀩" in doc.to_json_line()


def test_unknown_commands_are_reported_and_decoding_goes_on() -> None:
    data = (
        H("1B 40 1C 26") + H("1B 78") + "甲".encode("gb18030") + b"\n"     # ESC x: unknown
        + H("1D 7A") + H("1C 79") + b"\x07"                              # GS z, FS y, BEL
        + H("1D 28 4C 02 00 30 45")                                      # GS ( L: other function
        + H("1D 76 30 00 01 00 02 00 FF FF")                              # raster image 1x2
        + H("1D 6B 04") + b"123\x00" + H("1D 6B 49 03") + b"abc"           # barcodes
        + H("1B 21 38") + b"big\n" + H("1B 69")                             # ESC ! bold 2x2, ESC i cut
    )
    [doc], _ = decode_all(data)
    assert doc.items == [Line("甲"), Line("big", Align.LEFT, True, 2, 2)] and doc.cut == "full"
    assert doc.unknown[:4] == ["1b 78", "1d 7a", "1c 79", "07"]
    assert any(u.startswith("raster image") for u in doc.unknown)
    assert sum(u.startswith("barcode") for u in doc.unknown) == 2


def test_status_request_is_answered() -> None:
    decoder = EscPosDecoder()
    decoder.feed(H("10 04 01 10 04 04"))
    assert decoder.take_responses() == b"\x12\x12" and decoder.take_responses() == b""


def test_bad_gb18030_gives_a_warning_not_a_crash() -> None:
    [doc], _ = decode_all(H("1C 26 81 0A 1D 56 00"))
    assert doc.items == [Line("\ufffd")] and doc.warnings and doc.cut == "full"


def test_outside_chinese_mode_text_is_code_page_437() -> None:
    [doc], _ = decode_all(H("1C 26 1C 2E 82 0A 1D 56 01"))
    assert doc.lines() == ["é"]


def test_flush_ends_a_document_without_cut() -> None:
    decoder = EscPosDecoder()
    assert decoder.feed(EscPos().init().line("一").qr("q").text("二").to_bytes()) == []
    assert decoder.busy
    doc = decoder.flush()
    assert doc is not None and doc.items == [Line("一"), Qr("q"), Line("二")] and doc.cut is None
    assert decoder.flush() is None and not decoder.busy


def test_flush_reports_an_incomplete_command() -> None:
    decoder = EscPosDecoder()
    decoder.feed(H("1C 26") + "字".encode("gb18030") + H("1D 28 6B 10"))
    doc = decoder.flush()
    assert doc is not None and doc.lines() == ["字"] and "incomplete" in doc.warnings[0]


def test_feed_and_empty_cut() -> None:
    [first, second], _ = decode_all(H("1B 64 03 1D 56 42 00 1D 56 30"))
    assert first.items == [Feed(3)] and second.items == [] and second.cut == "full"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([0x1B, 0x1D, 0x1C, 0x10, 0x0A, 0x28, 0x6B, 0x56, 0x81]),
                          st.integers(0, 255)), max_size=300).map(bytes), st.integers(1, 40))
def test_decoder_never_raises(data: bytes, step: int) -> None:
    docs, decoder = decode_all(data, step)
    decoder.flush()
    decoder.take_responses()
    for doc in docs:
        doc.to_json_line()
