"""The domain's message types as one table: each module's own `Handlers`, merged."""

from __future__ import annotations

from hall_server.domain import admin, commands, leave, links, rating_flags, roster, screen, slips, supervision
from hall_server.domain.context import Handlers


def domain_handlers() -> Handlers:
    """The node commands, the kiosk's QR link, the slips' print jobs, the sourced QR ratings, the
    roster and leave, the hall screen's notice line, supervision (ledger, patrols, notifications)
    and administration (the hall's configuration in the store)."""
    return Handlers.merged(commands.COMMANDS, links.HANDLERS, slips.HANDLERS, rating_flags.HANDLERS,
                           roster.HANDLERS, leave.HANDLERS, screen.HANDLERS, supervision.HANDLERS, admin.HANDLERS)
