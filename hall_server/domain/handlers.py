"""The domain's message types as one table: each module's own `Handlers`, merged."""

from __future__ import annotations

from hall_server.domain import admin, commands, links, rating_flags, slips
from hall_server.domain.context import Handlers


def domain_handlers() -> Handlers:
    """The node commands, the kiosk's QR link, the slips' print jobs and the sourced QR ratings."""
    return Handlers.merged(commands.COMMANDS, links.HANDLERS, slips.HANDLERS, rating_flags.HANDLERS, admin.HANDLERS)
