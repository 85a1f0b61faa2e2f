"""The typed hall configuration: what a hall folder of TOML files means once validated.

A hall folder holds:
  hall.toml      the hall: name, 行政区划 code, hours, thresholds, rating policy, assessment
  windows.toml   the windows: number, name, service categories, keypad, printer
  services.toml  service categories (ticket prefixes) and 事项 (code, name, category, promised time)
  staff.toml     window staff: 工号, name, department, photo, star level, promise, PIN hash
  tags.toml      rating reason tags, versioned, per level

Everything here is plain, frozen data; `config.loader` builds it and reports errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from datetime import date, time
from pathlib import Path

from config.voice_pack import DEFAULT_PACK, DEFAULT_TEMPLATE

IPNetwork = IPv4Network | IPv6Network

HALL_FILES: tuple[str, ...] = ("hall.toml", "windows.toml", "services.toml", "staff.toml", "tags.toml")


@dataclass(frozen=True)
class Session:
    """One opening session of the day, local time (e.g. 09:00–12:00)."""

    start: time
    end: time


WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MORNING, AFTERNOON = 0, 1             # the two halves of a day (上午, 下午): roster, leave and attendance
NOON = time(12, 0)


@dataclass(frozen=True)
class HallHours:
    """hall.toml [hours]: the hall's sessions per weekday (Monday first), where they differ from
    `[[hall.sessions]]`. None: that weekday keeps `hall.sessions`; (): the hall is closed that
    weekday. A weekend day listed here is an open day unless it falls in a public holiday; a makeup
    working day (调休上班) keeps `hall.sessions` whatever its weekday says."""

    weekdays: tuple[tuple[Session, ...] | None, ...] = (None,) * 7

    def for_weekday(self, weekday: int, default: tuple[Session, ...]) -> tuple[Session, ...]:
        sessions = self.weekdays[weekday]
        return default if sessions is None else sessions


def half_of(sessions: tuple[Session, ...], index: int) -> int:
    """Which half of the day (MORNING or AFTERNOON) the `index`-th of a day's sessions is: with two
    sessions the first is 上午 and the second 下午; a lone session is 上午 when it starts before noon."""
    if len(sessions) >= 2:
        return MORNING if index == 0 else AFTERNOON
    return MORNING if sessions[index].start < NOON else AFTERNOON


@dataclass(frozen=True)
class Thresholds:
    wait_alert_min: int = 30          # a ticket waiting longer than this raises an alert / counts as 超时
    pause_limit_min: int = 30         # a pause longer than this is 离岗
    recall_cap: int = 5               # recalls before a ticket becomes a no-show
    default_handle_min: int = 10      # a handling's length for the wait estimate of a category without 事项
    late_grace_min: int = 0           # sign-in later than start + grace is 迟到
    bad_alert_window_min: int = 60    # "X % bad ratings in the last N minutes ..."
    bad_alert_percent: int = 20
    bad_alert_min_count: int = 5


@dataclass(frozen=True)
class RatingPolicy:
    open_s: int = 60                  # how long the evaluator/keypad waits for a rating
    qr_valid_days: int = 7            # how long the QR slip link accepts a rating
    default_rating: bool = False      # system default rating after the QR deadline (flagged, never active)
    default_level: int = 5


@dataclass(frozen=True)
class Assessment:
    base_score: int = 100
    deduct_per_bad: float = 2.0            # per 差评 upheld (not appealed away)
    deduct_per_overdue: float = 5.0        # per overdue 办件
    deduct_half_day_away: float = 3.0      # per half day of 离岗 / 空岗
    deduct_per_late: float = 1.0           # per 迟到 / 早退
    bonus_per_praise: float = 0.5          # per 非常满意 beyond the bonus threshold
    bonus_praise_threshold: int = 50
    top_windows: int = 3                   # how many 优质服务窗口 per month
    top_staff: int = 3                     # how many 优质服务标兵 per month
    bottom: int = 1                        # how many 末位


@dataclass(frozen=True)
class PatrolFinding:
    """A finding category of a patrol (巡查): its code, its name, and the points it deducts from the
    window's and the staff member's monthly 组织考评."""

    code: str
    name: str
    points: float


DEFAULT_PATROL_FINDINGS: tuple[PatrolFinding, ...] = (
    PatrolFinding("away", "离岗", 2.0), PatrolFinding("vacant", "空岗", 3.0), PatrolFinding("phone", "玩手机", 2.0),
    PatrolFinding("dress", "着装不规范", 1.0), PatrolFinding("badge", "未亮明身份", 1.0),
    PatrolFinding("attitude", "态度生硬", 3.0), PatrolFinding("not_once", "未一次性告知", 3.0),
    PatrolFinding("shirk", "推诿扯皮", 5.0), PatrolFinding("chat", "闲聊、吃零食", 1.0),
    PatrolFinding("hygiene", "环境卫生", 1.0),
)


@dataclass(frozen=True)
class PatrolPolicy:
    """hall.toml [patrol]: the finding categories, the deadline of a finding's rectification, photo limits."""

    findings: tuple[PatrolFinding, ...] = DEFAULT_PATROL_FINDINGS
    due_workdays: int = 5
    photo_max_mb: int = 10            # an uploaded photo larger than this is refused
    photo_max_px: int = 1600          # stored photos are resized to fit this (longest side)
    photos_max: int = 6               # photos per patrol


@dataclass(frozen=True)
class NotifyPolicy:
    """hall.toml [notify]: where a new 差评, an item going overdue and a staff lockout are sent.
    Secrets (the 钉钉 signing secret, the SMTP password) may come from environment variables."""

    wecom_webhook: str = ""           # 企业微信 group robot: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…
    dingtalk_webhook: str = ""        # 钉钉 group robot: https://oapi.dingtalk.com/robot/send?access_token=…
    dingtalk_secret: str = ""         # 钉钉 加签 secret (SEC…); "" = unsigned
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_to: tuple[str, ...] = ()
    events: tuple[str, ...] = ("bad_rating", "overdue", "lockout")
    every_s: float = 2.0              # how often the sender looks for due messages
    retry_first_s: float = 5.0        # first retry after a failure; doubles each time …
    retry_max_s: float = 60.0         # … up to this (a channel back up is used again within a minute)
    timeout_s: float = 10.0

    def channels(self) -> tuple[str, ...]:
        """The configured channels: wecom, dingtalk, email."""
        return tuple(name for name, on in (("wecom", self.wecom_webhook), ("dingtalk", self.dingtalk_webhook),
                                           ("email", self.smtp_host and self.smtp_to)) if on)


@dataclass(frozen=True)
class ExportPolicy:
    sink: str = ""                    # R11 upward export: "" off, "folder:PATH" or "http(s)://…"
    every_s: int = 60                 # how often the server pumps undelivered ratings to the sink


@dataclass(frozen=True)
class CityLink:
    """Forwarding to the city tier (issue #16): its address and this hall's code there."""

    url: str = ""                     # "" off, else the city server's http(s):// address
    hall: str = ""                    # the code the city registered this hall under
    every_s: int = 5                  # seconds between deliveries


@dataclass(frozen=True)
class Network:
    """Which addresses the hall's web side treats specially (CIDR blocks, IPv4 or IPv6)."""

    trusted_proxies: tuple[IPNetwork, ...] = ()   # reverse proxies whose X-Forwarded-For is believed
    staff_networks: tuple[IPNetwork, ...] = ()    # the hall's staff-side LANs: no QR rating from there
    shared_networks: tuple[IPNetwork, ...] = ()   # addresses many citizens share (guest Wi-Fi NAT): no same-address flag


@dataclass(frozen=True)
class HallCalendar:
    """The hall's own holidays and makeup working days (调休上班), for years the chinese-calendar
    package lacks; they override the package for every date they name. A year counts as covered
    by the hall when at least one holiday of that year is listed (see `covered_years`)."""

    holidays: tuple[date, ...] = ()   # sorted, no repeats
    workdays: tuple[date, ...] = ()   # sorted, weekends only (a weekday works anyway)

    @property
    def covered_years(self) -> frozenset[int]:
        return frozenset(d.year for d in self.holidays)


@dataclass(frozen=True)
class BusLimits:
    """What one node may put through the hall server's bus (hall.toml [bus]); generous for honest nodes."""

    node_messages_per_s: int = 20         # sustained messages a second per kiosk, terminal, dispenser…
    node_burst: int = 600                 # … and how many it may send at once (an outbox after an outage)
    gateway_messages_per_s: int = 200     # the same for a devices gateway (many keypads and printers)
    gateway_burst: int = 5000
    snapshot_interval_ms: int = 1000      # a node gets a state snapshot at most this often


@dataclass(frozen=True)
class PrintingPolicy:
    """hall.toml [printing]: the windows' slips, printed by the devices gateway."""

    stuck_after_s: int = 60           # a print fetched and not reported this long fails as 打印超时


@dataclass(frozen=True)
class Calling:
    """How calls are announced (hall.toml [calling]); `voice_pack` is absolute, `template_parts`
    is the template split into "{ticket}", "{window}" and the words of the pack's clips."""

    announce_template: str = DEFAULT_TEMPLATE
    announce_repeat: int = 2          # times the announcement is said, after one chime
    voice_pack: Path = DEFAULT_PACK   # the folder of clips; by default the shipped Mandarin pack
    template_parts: tuple[str, ...] = ("请", "{ticket}", "号", "到", "{window}", "号窗口", "办理")


@dataclass(frozen=True)
class ScreenSettings:
    """hall.toml [screen]: the hall screen (综合屏, `/screen/hall`)."""

    notice: str = ""                  # the hall's notice line, one line of plain text ("" = none)


@dataclass(frozen=True)
class Hall:
    name: str
    region_code: str                  # 行政区划代码, 6 digits
    department_code: str              # the hall's organisation code for upward reports
    timezone: str
    sessions: tuple[Session, ...]
    thresholds: Thresholds
    rating: RatingPolicy
    assessment: Assessment
    screen_dpi: int = 160             # the evaluators' screen density, for touch-target sizes
    public_url: str = ""              # the server's address as citizens' phones reach it; "" = relative links
    export: ExportPolicy = field(default_factory=ExportPolicy)
    city: CityLink | None = None
    network: Network = field(default_factory=Network)
    calendar: HallCalendar = field(default_factory=HallCalendar)
    bus: BusLimits = field(default_factory=BusLimits)
    hours: HallHours = field(default_factory=HallHours)
    screen: ScreenSettings = field(default_factory=ScreenSettings)
    patrol: PatrolPolicy = field(default_factory=PatrolPolicy)
    notify: NotifyPolicy = field(default_factory=NotifyPolicy)
    printing: PrintingPolicy = field(default_factory=PrintingPolicy)


@dataclass(frozen=True)
class Keypad:
    port: str                         # a pyserial URL or device path, e.g. /dev/ttyUSB0, loop://
    address: int                      # 1..32 on the EKP-2 bus
    baud: int = 9600


@dataclass(frozen=True)
class Printer:
    port: str
    baud: int = 9600


@dataclass(frozen=True)
class Window:
    number: int
    name: str
    categories: tuple[str, ...]       # codes of Category
    keypad: Keypad | None = None
    printer: Printer | None = None
    kiosk: bool = True                # has a touchscreen evaluator
    open: bool = True                 # false: closed by a manager (nobody signs in, no 空岗 flags)


@dataclass(frozen=True)
class Category:
    code: str                         # ticket prefix letters, e.g. "A"
    name: str                         # e.g. 社保医保


@dataclass(frozen=True)
class Service:
    """One 事项."""

    code: str                         # 事项编码
    name: str
    category: str                     # code of Category
    promised_min: int                 # 承诺时限 for handling at the window, minutes
    department: str = ""


@dataclass(frozen=True)
class Staff:
    staff_no: str                     # 工号, ASCII, at most 8 characters (keypad field)
    name: str
    department: str
    photo: Path | None                # absolute path, resolved against the hall folder
    pin_hash: str                     # see config.pins
    stars: int = 3                    # 星级 0..5 shown on the evaluator
    promise: str = ""                 # 服务承诺
    active: bool = True               # false: disabled by a manager (cannot sign in; records stay)


@dataclass(frozen=True)
class Tag:
    code: str
    text: str
    levels: tuple[int, ...]           # the rating levels this tag may be chosen for
    added_in: int = 1                 # first tag-list version that has it
    removed_in: int | None = None     # first version that no longer has it


@dataclass(frozen=True)
class TagList:
    version: int                      # the current version
    tags: tuple[Tag, ...]

    def for_level(self, level: int, version: int | None = None) -> tuple[Tag, ...]:
        v = self.version if version is None else version
        return tuple(
            t for t in self.tags
            if level in t.levels and t.added_in <= v and (t.removed_in is None or v < t.removed_in)
        )

    def by_code(self) -> dict[str, Tag]:
        return {t.code: t for t in self.tags}


@dataclass(frozen=True)
class HallConfig:
    folder: Path
    hall: Hall
    windows: tuple[Window, ...]
    categories: tuple[Category, ...]
    services: tuple[Service, ...]
    staff: tuple[Staff, ...]
    tags: TagList
    calling: Calling = field(default_factory=Calling)
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def window(self, number: int) -> Window:
        for w in self.windows:
            if w.number == number:
                return w
        raise KeyError(number)

    def staff_member(self, staff_no: str) -> Staff:
        for s in self.staff:
            if s.staff_no == staff_no:
                return s
        raise KeyError(staff_no)

    def service(self, code: str) -> Service:
        for s in self.services:
            if s.code == code:
                return s
        raise KeyError(code)

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(code)
