"""Who did something, in Chinese: the history of a case or a ledger item names people and devices
(管理员 boss, 3号窗口终端, 系统), never raw node ids such as `manager-boss` or `terminal-3`."""

from __future__ import annotations

from config.i18n import t
from config.schema import HallConfig
from hall_server.domain.common import node_window
from hallnet.vocabulary import NodeKind

_DEVICE_KINDS = {NodeKind.TERMINAL: "actor.terminal", NodeKind.KIOSK: "actor.kiosk"}
_PLAIN = {NodeKind.GATEWAY: "actor.gateway", NodeKind.DISPENSER: "actor.dispenser", NodeKind.WEB: "actor.web",
          NodeKind.QR: "actor.qr", NodeKind.BIZSYS: "actor.bizsys", NodeKind.SYSTEM: "actor.system",
          NodeKind.SERVER: "actor.system"}


def actor_name(node: str, config: HallConfig | None = None) -> str:
    """`manager-boss` → 管理员 boss; `terminal-3` → 3号窗口终端; `system-export` → 系统; anything
    unknown → 其他设备 (an id is never shown)."""
    kind, _, rest = node.partition("-")
    if kind == NodeKind.MANAGER:
        return t("actor.manager", name=rest) if rest else t("actor.manager_plain")
    if kind in _DEVICE_KINDS:
        number = node_window(node)
        if number is None:
            return t("actor.other")
        name = f"{number}号窗口"
        if config is not None:
            try:
                name = config.window(number).name
            except KeyError:
                pass
        return t(_DEVICE_KINDS[kind], window=name)
    if kind in _PLAIN:
        return t(_PLAIN[kind])
    return t("actor.other")
