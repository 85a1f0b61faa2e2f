"""The hall screen's notice line: the state key `notice` = `{text}` (public, `hall_server.web.public_state`).

Published when the server starts (`hall_server.cli.run` sends `screen.notice` with hall.toml
`[screen] notice`); a manager's page may send the same message to change it. The text is checked
here, at the edge, as one line of plain text (the pause reason's rule), so no screen can be broken
by it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from hall_server.domain.common import MANAGER, SYSTEM, WEB
from hall_server.domain.context import Context, Handlers
from hall_server.domain.errors import BadRequest
from hall_server.domain.staff import BIDI_CONTROLS
from hallnet.bodies import ScreenNotice
from hallnet.vocabulary import Key, Msg

HANDLERS = Handlers()   # this module's message types (collected in hall_server.core.handlers)


@HANDLERS.on(Msg.SCREEN_NOTICE, kinds={SYSTEM, WEB, MANAGER})
def screen_notice(ctx: Context, body: ScreenNotice) -> dict[str, Any]:
    for ch in body.text:
        if ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            raise BadRequest(f"the notice contains a control character (U+{ord(ch):04X})", field="text")
    text = body.text.strip()
    if ctx.current(Key.NOTICE) != {"text": text}:
        ctx.publish(Key.NOTICE, {"text": text})
    return {"text": text}
