"""What people read instead of node ids and channel codes: `kiosk-3` → 3号窗口评价器, channel 5 →
评价按键. One place, used by every screen, page and export (the names are in config/i18n.py)."""

from __future__ import annotations

from config.i18n import DEFAULT_LANG, t

_WINDOW_KINDS = {"kiosk": "labels.node.kiosk", "terminal": "labels.node.terminal", "keypad": "labels.node.keypad"}
_PLAIN_KINDS = {"gateway": "labels.node.gateway", "qr": "labels.node.qr_web", "web": "labels.node.web",
                "manager": "labels.node.web", "server": "labels.node.server", "system": "labels.node.system",
                "screen": "labels.node.screen", "bizsys": "labels.node.bizsys"}


def node_label(node: str | None, lang: str = DEFAULT_LANG) -> str:
    """The name of a node as people say it. Window devices carry their window's number; a node of an
    unknown kind reads as "其他设备", never as its id."""
    if not node:
        return ""
    kind, _, rest = str(node).partition("-")
    if kind in _WINDOW_KINDS and rest.isdigit():
        return t(_WINDOW_KINDS[kind], lang, n=int(rest))
    if kind == "dispenser":
        return t("labels.node.dispenser", lang, n=int(rest)) if rest.isdigit() else t("labels.node.dispenser_one", lang)
    if kind == "manager" and rest:
        return t("labels.node.manager", lang, account=rest)
    if kind in _PLAIN_KINDS:
        return t(_PLAIN_KINDS[kind], lang)
    return t("labels.node.other", lang)


def channel_label(channel: int | str | None, lang: str = DEFAULT_LANG) -> str:
    """The name of a rating channel (GB/T 39046 code 1–7); "" when there is none or it is unknown."""
    try:
        code = int(channel)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return t(f"channel.{code}", lang) if 1 <= code <= 7 else ""


def pause_label(reason: str | None, lang: str = DEFAULT_LANG) -> str:
    """A pause reason's name (午休, 临时离开, …); a reason without a name is shown as typed."""
    if not reason:
        return ""
    shown = t(f"pause.{reason}", lang)
    return reason if shown == f"pause.{reason}" else shown
