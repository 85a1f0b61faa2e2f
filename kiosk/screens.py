"""The kiosk's Kivy screens: each turns the logic's `View` into the texts its `.kv` file shows.

No decisions here: what to show comes from `evaluator_logic` / `dispenser_logic`; taps go to
the App, which forwards them to the logic.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from config.fonts import kivy_markup
from config.i18n import t
from kiosk import dispenser_logic as dl
from kiosk import evaluator_logic as el
from kiosk import theme
from kiosk.widgets import Chip

KV_DIR = Path(__file__).resolve().parent / "kv"
PHOTO_PLACEHOLDER = Path(__file__).resolve().parent / "assets" / "staff_placeholder.png"   # assets/make_placeholder.py
EVALUATOR_KV = ("common", "identity", "rate", "reasons", "tags", "phone", "text", "thanks")
DISPENSER_KV = ("common", "dispenser_home", "dispenser_priority", "dispenser_wait", "dispenser_ticket")
LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def load_kv(names: tuple[str, ...]) -> None:
    for name in names:
        path = str(KV_DIR / f"{name}.kv")
        Builder.unload_file(path)
        Builder.load_file(path)


def mk(text: str) -> str:
    """Markup for data (names, tags, free text): escaped, rare characters in a face that has them."""
    return kivy_markup(text)


def stars(n: int) -> str:
    n = max(0, min(5, n))
    return "★" * n + "☆" * (5 - n)


def _lang() -> str:
    return getattr(App.get_running_app(), "lang", "zh")


class KioskScreen(Screen):
    countdown = StringProperty("")
    qr_url = StringProperty("")
    scan_text = StringProperty("")

    def show(self, v: el.View) -> None:
        lang = _lang()
        self.countdown = t("kiosk.countdown", lang, n=v.countdown_s) if v.countdown_s is not None else ""
        self.qr_url = v.qr_url or ""
        self.scan_text = t("kiosk.scan_later", lang)


class StaffScreen(KioskScreen):
    photo = StringProperty("")
    staff_no = StringProperty("")
    department = StringProperty("")
    stars = StringProperty("")
    promise = StringProperty("")

    def show(self, v: el.View) -> None:
        super().show(v)
        lang = _lang()
        s = v.staff
        # the clerk's photo (the hall server's once downloaded, else the kiosk's own), or a silhouette
        self.photo = "" if s is None else str(s.photo if s.photo is not None else PHOTO_PLACEHOLDER)
        colon = "：" if lang == "zh" else ": "
        self.staff_no = f"{t('staff.no', lang)}{colon}{s.staff_no}" if s else ""
        self.department = f"{t('staff.department', lang)}{colon}{mk(s.department)}" if s else ""
        self.stars = f"{t('staff.stars', lang)}{colon}{stars(s.stars)}" if s else ""
        self.promise = f"{t('staff.promise', lang)}{colon}{mk(s.promise)}" if s and s.promise else ""


class IdentityScreen(StaffScreen):
    window_title = StringProperty("")
    status_text = StringProperty("")
    status_colour = StringProperty(theme.ACCENT)
    welcome = StringProperty("")
    called_text = StringProperty("")    # a slot beside the welcome line, e.g. the number called (empty: nothing)
    staff_name = StringProperty("")

    def show(self, v: el.View) -> None:
        super().show(v)
        lang = _lang()
        self.window_title = mk(v.window_title)
        called = t("ticket.evaluator.called", lang, ticket=v.called) if v.called else ""
        self.status_text = mk(v.status_text + (("　" if lang == "zh" else "  ") + called if called else ""))
        self.status_colour = {"serving": theme.LEVEL_COLOURS[5], "paused": theme.LEVEL_COLOURS[2],
                              "offline": theme.BANNER}.get(v.status, theme.DISABLED)
        self.welcome = t("kiosk.welcome", lang)
        self.staff_name = mk(v.staff.name) if v.staff else t("kiosk.no_staff", lang)


class RateScreen(StaffScreen):
    title = StringProperty("")
    staff_name = StringProperty("")
    level_texts = ListProperty([""] * 5)

    def show(self, v: el.View) -> None:
        super().show(v)
        lang = _lang()
        self.title = t("rating.prompt", lang)
        self.staff_name = mk(v.staff.name) if v.staff else ""
        self.level_texts = [f"{'★' * level}\n{t(f'level.{level}', lang)}" for level in (5, 4, 3, 2, 1)]


class ChipsMixin:
    def fill_chips(self, tags: tuple[el.TagChoice, ...]) -> None:
        box = self.ids.chips
        if [c.code for c in box.children[::-1]] != [tag.code for tag in tags]:
            box.clear_widgets()
            app = App.get_running_app()
            for tag in tags:
                chip = Chip(code=tag.code, text=mk(tag.text))
                chip.bind(on_release=lambda c: app.toggle_tag(c.code))
                box.add_widget(chip)
        chosen = {tag.code for tag in tags if tag.selected}
        for chip in box.children:
            chip.selected = chip.code in chosen


class ReasonsScreen(ChipsMixin, KioskScreen):
    title = StringProperty("")
    prompt = StringProperty("")
    phone_text = StringProperty("")
    text_text = StringProperty("")
    message = StringProperty("")
    submit_text = StringProperty("")
    can_submit = BooleanProperty(False)

    def show(self, v: el.View) -> None:
        super().show(v)
        lang = _lang()
        self.title = t("kiosk.your_level", lang, level=t(f"level.{v.level}", lang))
        self.prompt = t("rating.choose_tags", lang)
        # R6: the number is private; on this screen (others may look on) only its ends show
        self.phone_text = t("kiosk.phone_given", lang, phone=_hidden(v.phone)) if v.phone else t("kiosk.phone_button", lang)
        comment = v.text if len(v.text) <= 14 else v.text[:14] + "…"
        self.text_text = t("rating.comment", lang) + ("\n" + mk(comment) if v.text else "")
        self.scan_text = t("kiosk.scan_text", lang)
        self.message = mk(v.message)
        self.submit_text = t("rating.submit", lang)
        self.can_submit = v.can_submit
        self.fill_chips(v.tags)


def _masked(phone: str) -> str:
    return phone[:3] + " " + phone[3:7] + " " + phone[7:] if len(phone) == 11 else phone


def _hidden(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


class TagsScreen(ChipsMixin, KioskScreen):
    title = StringProperty("")
    prompt = StringProperty("")
    done_text = StringProperty("")

    def show(self, v: el.View) -> None:
        super().show(v)
        lang = _lang()
        self.title = t("kiosk.your_level", lang, level=t(f"level.{v.level}", lang))
        self.prompt = t("kiosk.tags_optional", lang)
        self.done_text = t("kiosk.done", lang)
        self.fill_chips(v.tags)


class PhoneScreen(KioskScreen):
    title = StringProperty("")
    number = StringProperty("")
    message = StringProperty("")
    clear_text = StringProperty("")
    delete_text = StringProperty("")
    back_text = StringProperty("")
    ok_text = StringProperty("")

    def show(self, v: el.View) -> None:
        super().show(v)
        lang = _lang()
        self.title = t("kiosk.phone_title", lang)
        self.number = _masked(v.phone) or "_" * 11
        self.message = mk(v.message)
        self.clear_text, self.delete_text = t("kiosk.clear", lang), t("kiosk.delete", lang)
        self.back_text, self.ok_text = t("common.back", lang), t("common.ok", lang)


class TextScreen(KioskScreen):
    title = StringProperty("")
    title_by_phone = StringProperty("")
    hint_by_phone = StringProperty("")
    text = StringProperty("")
    pinyin = StringProperty("")
    back_text = StringProperty("")
    done_text = StringProperty("")
    _built = False

    def _build_keys(self) -> None:
        from kivy.factory import Factory

        for row_id, letters in zip(("row1", "row2", "row3"), LETTER_ROWS):
            row = self.ids[row_id]
            for ch in letters:
                row.add_widget(Factory.LetterKey(key=ch))
        for punct in ("，", "。"):
            key = Factory.LetterKey(key=punct)
            self.ids.row3.add_widget(key)
        self.delete_key = Factory.LetterKey(key="del", text=t("kiosk.delete", _lang()))
        self.ids.row3.add_widget(self.delete_key)
        for i in range(8):
            self.ids.candidates.add_widget(Factory.CandidateKey(index=i, text=""))
        self.more_key = Factory.LetterKey(key="more", text=t("kiosk.more", _lang()))
        self.ids.candidates.add_widget(self.more_key)
        self._built = True

    def _place_layout(self) -> None:
        """The keyboard where its 15 mm keys fit, else only the QR code (write on one's phone)."""
        from kivy.core.window import Window

        app = App.get_running_app()
        if not hasattr(self, "_layouts"):
            self._layouts = {name: getattr(self.ids[name], "__self__", self.ids[name]) for name in ("keyboard", "byphone")}
        fits = theme.keyboard_fits(Window.width, Window.height, app.min_button_px, app.scale)
        wanted = self._layouts["keyboard" if fits else "byphone"]
        page = self.ids.page
        if wanted.parent is not page:
            page.clear_widgets()
            page.add_widget(wanted)

    def show(self, v: el.View) -> None:
        super().show(v)
        if not self._built:
            self._build_keys()
        self._place_layout()
        lang = _lang()
        self.title = t("kiosk.text_title", lang)
        self.title_by_phone = t("kiosk.text_by_phone_title", lang)
        self.hint_by_phone = t("kiosk.text_by_phone_hint", lang)
        self.scan_text = t("kiosk.scan_text", lang)
        self.text = mk(v.text) or ""
        self.pinyin = v.pinyin
        keys = [w for w in self.ids.candidates.children[::-1] if w is not self.more_key]
        for i, key in enumerate(keys):
            key.text = mk(v.candidates[i]) if i < len(v.candidates) else ""
            key.disabled = i >= len(v.candidates)
        self.back_text, self.done_text = t("common.back", lang), t("kiosk.done", lang)


class ThanksScreen(KioskScreen):
    title = StringProperty("")
    level_text = StringProperty("")
    detail = StringProperty("")

    def show(self, v: el.View) -> None:
        super().show(v)
        lang = _lang()
        self.title = t("rating.thanks", lang)
        self.level_text = t("kiosk.your_level", lang, level=t(f"level.{v.level}", lang)) if v.level else ""
        self.detail = t("kiosk.thanks_bad", lang) if v.level in (1, 2) else t("kiosk.thanks_detail", lang)


EVALUATOR_SCREENS: dict[el.Screen, type[KioskScreen]] = {
    el.Screen.IDENTITY: IdentityScreen, el.Screen.RATE: RateScreen, el.Screen.REASONS: ReasonsScreen,
    el.Screen.PHONE: PhoneScreen, el.Screen.TEXT: TextScreen, el.Screen.TAGS: TagsScreen,
    el.Screen.THANKS: ThanksScreen,
}


# --- the ticket dispenser -------------------------------------------------------------------------

class HomeScreen(Screen):
    title = StringProperty("")
    hall_name = StringProperty("")
    message = StringProperty("")
    priority_text = StringProperty("")

    def show(self, v: dl.View) -> None:
        from kivy.factory import Factory

        app = App.get_running_app()
        lang = app.lang
        self.title = t("dispenser.title", lang)
        self.hall_name = mk(app.config_hall.hall.name)
        self.message = mk(v.message)
        self.priority_text = t("dispenser.priority", lang)
        box = self.ids.categories
        if len(box.children) != len(v.categories):
            box.clear_widgets()
            for c in v.categories:
                b = Factory.BigButton(bold=False)
                b.code = c.code
                b.may_wrap = True            # a category's name comes from the hall's configuration
                b.bind(on_release=lambda b: app.tap_category(b.code))
                box.add_widget(b)
        small = int(theme.BODY_PX * app.scale)
        for b, c in zip(box.children[::-1], v.categories):
            b.font_size = small
            b.text = f"[b]{c.code} {mk(c.name)}[/b]\n[size={small}]{t('dispenser.waiting', lang, n=c.waiting)}[/size]"
            b.disabled = not v.enabled
            b.bg = theme.rgba(theme.ACCENT if v.enabled else theme.DISABLED)


class PriorityScreen(Screen):
    title = StringProperty("")
    message = StringProperty("")
    cancel_text = StringProperty("")
    confirm_text = StringProperty("")

    def show(self, v: dl.View) -> None:
        app = App.get_running_app()
        lang = app.lang
        self.title = t("dispenser.priority_title", lang)
        self.message = mk(v.message)
        self.cancel_text = t("common.cancel", lang)
        self.confirm_text = t("dispenser.hold_confirm", lang, n=int(app.logic.hold_s))
        kinds = self.ids.kinds
        if not kinds.children:
            for kind in dl.PRIORITY_KINDS:
                chip = Chip(code=kind, text=t(f"dispenser.kind.{kind}", lang))
                chip.bind(on_release=lambda c: app.choose_kind(c.code))
                kinds.add_widget(chip)
            for c in v.categories:
                chip = Chip(code=c.code, text=f"{c.code} {mk(c.name)}")
                chip.bind(on_release=lambda c: app.choose_category(c.code))
                self.ids.categories.add_widget(chip)
        for chip in kinds.children:
            chip.selected = chip.code == v.priority_kind
        for chip in self.ids.categories.children:
            chip.selected = chip.code == v.priority_category


class WaitScreen(Screen):
    title = StringProperty("")
    message = StringProperty("")

    def show(self, v: dl.View) -> None:
        lang = App.get_running_app().lang
        self.title = t("dispenser.taking", lang)
        self.message = mk(v.message)


class TicketScreen(Screen):
    caption = StringProperty("")
    number = StringProperty("")
    category = StringProperty("")
    waiting = StringProperty("")
    estimate = StringProperty("")       # a slot for the estimated wait (no height while empty)
    when = StringProperty("")
    hint = StringProperty("")
    ok_text = StringProperty("")

    def show(self, v: dl.View) -> None:
        lang = App.get_running_app().lang
        tk = v.ticket
        if tk is None:
            return
        self.caption = t("dispenser.your_number", lang)
        self.number = tk.number
        kind = f"（{t(f'dispenser.kind.{tk.priority}', lang)}）" if tk.priority else ""
        self.category = mk(tk.category) + kind
        self.waiting = ("，" if lang == "zh" else "; ").join(
            x for x in (t("dispenser.waiting_ahead", lang, n=tk.waiting_ahead), tk.wait_text) if x)
        self.when = t("dispenser.time", lang, time=tk.time.strftime("%Y-%m-%d %H:%M"))
        self.hint = t("dispenser.take_ticket", lang)
        self.ok_text = t("common.ok", lang)


DISPENSER_SCREENS: dict[dl.Screen, type[Screen]] = {
    dl.Screen.HOME: HomeScreen, dl.Screen.PRIORITY: PriorityScreen, dl.Screen.WAIT: WaitScreen,
    dl.Screen.TICKET: TicketScreen,
}
