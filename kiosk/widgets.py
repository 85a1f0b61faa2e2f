"""Small Kivy widgets shared by the kiosk screens: the QR code image, tag chips, the hold button."""

from __future__ import annotations

import time
from functools import lru_cache

from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget


@lru_cache(maxsize=8)
def qr_modules(data: str) -> tuple[int, bytes]:
    """The QR code of `data` as (side, one byte per module: 0 black, 255 white), bottom row first
    (Kivy textures start at the bottom), with a quiet zone of 2 modules."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    return len(matrix), b"".join(bytes(0 if dark else 255 for dark in row) for row in reversed(matrix))


class QrImage(Widget):
    """Shows `data` as a QR code, sharp: one texel per module, scaled by a whole number with
    `nearest` filtering, centred on a white square.

    A fresh small texture per code, drawn by this widget's own rectangle: uploading into a texture
    already used made the (software) renderer wait for the previous frame, up to hundreds of ms."""

    data = StringProperty("")

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        with self.canvas:
            self._white = Color(1, 1, 1, 0)
            self._rect = Rectangle(pos=self.pos, size=(0, 0))
        self.bind(pos=self._place, size=self._place)

    def on_data(self, _inst: object, data: str) -> None:
        if not data:
            self._white.a = 0
            return
        side, pixels = qr_modules(data)
        tex = Texture.create(size=(side, side), colorfmt="luminance")
        tex.mag_filter = "nearest"
        tex.min_filter = "nearest"
        tex.blit_buffer(pixels, colorfmt="luminance", bufferfmt="ubyte")
        self._rect.texture = tex
        self._white.a = 1
        self._place()

    def _place(self, *_a: object) -> None:
        tex = self._rect.texture
        side = tex.width if tex is not None else 1
        cell = max(1, int(min(self.width, self.height) / side))
        total = cell * side
        self._rect.pos = (int(self.x + (self.width - total) / 2), int(self.y + (self.height - total) / 2))
        self._rect.size = (total, total)


class HoldButton(Button):
    """A button that tells how long it has been held: `on_release: app.x(self.held_s())`."""

    _down_s = NumericProperty(0.0)

    def on_press(self) -> None:
        self._down_s = time.monotonic()

    def held_s(self) -> float:
        return time.monotonic() - self._down_s if self._down_s else 0.0


class Chip(Button):
    """A tag (or choice) that can be selected; `code` is what the logic is told."""

    selected = BooleanProperty(False)
    code = StringProperty("")
    may_wrap = True          # tag texts come from the hall's configuration: two lines are fine


class Banner(Label):
    """The offline / pending banner above every screen (no height when there is nothing to say)."""


class Filled(Label):
    """A label on a rounded, filled background (`bg`)."""

    bg = ListProperty([0.043, 0.239, 0.569, 1])


class BigButton(Button):
    """The kiosk's button: a rounded, filled block (`bg`), white text."""

    bg = ListProperty([0.043, 0.239, 0.569, 1])


class KeyButton(BigButton):
    key = StringProperty("")


class LevelButton(BigButton):
    level = NumericProperty(5)


class CandidateKey(BigButton):
    index = NumericProperty(0)
