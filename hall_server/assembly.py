"""The hall server assembled from its layers: the whole message handler table.

The one module that sees every layer's table: the core's foundation and the domain's
(`hall_server.core.handlers.core_handlers`) and the web side's own (`hall_server.web.sessions`:
`session.end`, a manager's logout). The server (`hall_server.cli`) gives the hub this table; the
layers themselves never import one above them (the core never imports the web side).
"""

from __future__ import annotations

from hall_server.core.handlers import core_handlers
from hall_server.domain.context import Handlers
from hall_server.web import sessions


def hall_handlers() -> Handlers:
    """Every message type the hall server applies: the core's, the domain's, the web side's."""
    return Handlers.merged(core_handlers(), sessions.HANDLERS)
