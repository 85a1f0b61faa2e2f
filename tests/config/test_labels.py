"""Names instead of node ids, channel codes and pause codes (config/labels.py): one place for every
screen, page and export."""

from __future__ import annotations

import pytest

from config.labels import channel_label, node_label, pause_label


@pytest.mark.parametrize("node, zh, en", [
    ("kiosk-8", "8号窗口评价器", "Window 8 evaluator"),
    ("terminal-1", "1号窗口终端", "Window 1 terminal"),
    ("gateway-1", "设备网关", "Devices gateway"),
    ("gateway", "设备网关", "Devices gateway"),
    ("dispenser-2", "2号取号机", "Ticket dispenser 2"),
    ("dispenser-main", "取号机", "Ticket dispenser"),
    ("qr-web", "扫码评价页面", "QR rating page"),
    ("web", "管理页面", "Manager pages"),
    ("manager-boss", "管理员（boss）", "Manager (boss)"),
    ("system", "系统自动", "The system"),
    ("bizsys-1", "业务系统", "Business system"),
    ("kiosk-x", "其他设备", "Other device"),          # never the raw id
    ("weird-thing-9", "其他设备", "Other device"),
    ("", "", ""),
    (None, "", ""),
])
def test_node_names(node: str | None, zh: str, en: str) -> None:
    assert node_label(node) == zh and node_label(node, "en") == en


def test_channel_names_are_chosen_once() -> None:
    assert [channel_label(c) for c in range(1, 8)] == [
        "电脑端评价", "移动端评价", "扫码评价", "窗口评价器", "评价按键", "电话评价", "短信评价"]
    assert channel_label("4") == "窗口评价器"
    assert channel_label(0) == channel_label(None) == channel_label("x") == channel_label(9) == ""


def test_pause_reasons() -> None:
    assert pause_label("lunch") == "午休" and pause_label("lunch", "en") == "Lunch break"
    assert pause_label("午休") == "午休" and pause_label(None) == pause_label("") == ""
