"""The one translation table for every user-facing text of the product.

Chinese ("zh", Simplified) is the product's language; English ("en") is the second one.
Add a key here rather than writing a string in a screen: every key needs both languages, and
both must use the same {placeholders} (a test checks this).

    t("level.5")                      -> "非常满意"
    t("window.number", "en", number=3) -> "Window 3"
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "zh"

TEXTS: dict[str, dict[str, str]] = {
    # Rating levels (GB/T 39734): 5 is best; 1 and 2 are 差评.
    "level.5": {"zh": "非常满意", "en": "Very satisfied"},
    "level.4": {"zh": "满意", "en": "Satisfied"},
    "level.3": {"zh": "基本满意", "en": "Fairly satisfied"},
    "level.2": {"zh": "不满意", "en": "Dissatisfied"},
    "level.1": {"zh": "非常不满意", "en": "Very dissatisfied"},
    # Second-level indicators of an offline rating.
    "indicator.efficiency": {"zh": "服务效率", "en": "Efficiency"},
    "indicator.competence": {"zh": "服务水平", "en": "Competence"},
    "indicator.attitude": {"zh": "服务态度", "en": "Attitude"},
    # Rating channels (GB/T 39046 codes 1-7).
    "channel.1": {"zh": "PC端", "en": "PC"},
    "channel.2": {"zh": "移动端", "en": "Mobile"},
    "channel.3": {"zh": "二维码", "en": "QR code"},
    "channel.4": {"zh": "大厅评价平板", "en": "Hall tablet"},
    "channel.5": {"zh": "窗口评价器", "en": "Window keypad"},
    "channel.6": {"zh": "电话", "en": "Telephone"},
    "channel.7": {"zh": "短信", "en": "SMS"},
    # Window states, as shown on the kiosk, the terminal and the live floor.
    "window.serving": {"zh": "服务中", "en": "Serving"},
    "window.paused": {"zh": "暂停服务", "en": "Service paused"},
    "window.closed": {"zh": "已下班", "en": "Closed"},
    "window.offline": {"zh": "未连接大厅服务器", "en": "Not connected to the hall server"},
    "window.vacant": {"zh": "空岗", "en": "Unstaffed"},
    "window.number": {"zh": "{number}号窗口", "en": "Window {number}"},
    # Pause reasons.
    "pause.lunch": {"zh": "午休", "en": "Lunch break"},
    "pause.away": {"zh": "临时离开", "en": "Briefly away"},
    "pause.consulting": {"zh": "业务咨询", "en": "Business consultation"},
    "pause.training": {"zh": "培训", "en": "Training"},
    "pause.other": {"zh": "其他", "en": "Other"},
    # The rating moment.
    "rating.prompt": {"zh": "请您对本次服务进行评价", "en": "Please rate this service"},
    "rating.thanks": {"zh": "感谢您的评价", "en": "Thank you for your rating"},
    "rating.already": {"zh": "已评价", "en": "Already rated"},
    "rating.unrated": {"zh": "未评价", "en": "Not rated"},
    "rating.expired": {"zh": "评价已过期", "en": "The rating period has ended"},
    "rating.choose_tags": {"zh": "请选择不满意的原因（可多选）", "en": "Please choose the reasons (one or more)"},
    "rating.need_tag": {"zh": "请至少选择一个原因", "en": "Please choose at least one reason"},
    "rating.comment": {"zh": "意见建议（选填）", "en": "Comments (optional)"},
    "rating.phone": {"zh": "联系电话（选填，便于回访）", "en": "Phone number (optional, for a call-back)"},
    "rating.submit": {"zh": "提交评价", "en": "Submit"},
    "rating.scan_qr": {"zh": "扫码评价", "en": "Scan to rate"},
    # Who served: shown with the staff photo (亮身份).
    "staff.no": {"zh": "工号", "en": "Staff No."},
    "staff.name": {"zh": "姓名", "en": "Name"},
    "staff.department": {"zh": "部门", "en": "Department"},
    "staff.stars": {"zh": "星级", "en": "Star level"},
    "staff.promise": {"zh": "服务承诺", "en": "Service promise"},
    # Staff actions and the queue.
    "action.sign_in": {"zh": "签到", "en": "Sign in"},
    "action.sign_out": {"zh": "签退", "en": "Sign out"},
    "action.pause": {"zh": "暂停服务", "en": "Pause"},
    "action.resume": {"zh": "恢复服务", "en": "Resume"},
    "action.call_next": {"zh": "叫号", "en": "Call next"},
    "action.recall": {"zh": "重呼", "en": "Recall"},
    "action.no_show": {"zh": "过号", "en": "No-show"},
    "action.finish": {"zh": "办结", "en": "Finish"},
    "queue.call": {"zh": "请{ticket}号到{window}号窗口办理", "en": "Ticket {ticket}, please go to window {window}"},
    "queue.waiting": {"zh": "等候人数", "en": "Waiting"},
    # Common words.
    "common.ok": {"zh": "确定", "en": "OK"},
    "common.cancel": {"zh": "取消", "en": "Cancel"},
    "common.back": {"zh": "返回", "en": "Back"},
    "common.minutes": {"zh": "{n}分钟", "en": "{n} min"},
}


def t(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The text for `key` in `lang`, falling back to Chinese, then to the key itself.
    Keyword arguments fill the text's {placeholders}."""
    entry = TEXTS.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get(DEFAULT_LANG) or key
    return text.format(**fmt) if fmt else text
