"""Imports every module that registers message handlers, so the hub knows all types."""

from hall_server.core import handlers  # noqa: F401  (foundation types: audit.note, node.report)
from hall_server.domain import commands  # noqa: F401,E402  (the domain's node commands)
from hall_server.domain import links  # noqa: F401,E402  (rating.link: the evaluator's QR link)
from hall_server.web import sessions  # noqa: F401,E402  (session.end: web logouts that survive a restart)
from hall_server.domain import rating_flags  # noqa: F401,E402  (rating.sourced: QR ratings with their pattern flags)
