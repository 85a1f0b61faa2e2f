"""What every body type shares: the `Body` base (only the fields it names), the common field
types and limits, the bodies that only name a window, and `BadBody`, the named refusal of a body
that does not fit its type (with the field it names)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Id = Annotated[int, msgspec.Meta(ge=1, le=2**62)]
Level = Annotated[int, msgspec.Meta(ge=1, le=5)]
Ms = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Window = int                       # a window number; which ones exist is the hall's (UnknownWindow)
Hex = Annotated[str, msgspec.Meta(max_length=64)]
Phone = Annotated[str, msgspec.Meta(max_length=20, pattern=r"^$|^\+?[0-9][0-9 -]{4,19}$")]


def _s(n: int) -> Any:
    return Annotated[str, msgspec.Meta(max_length=n)]


def _t(n: int) -> Any:
    """Free text: at most n characters, no NUL."""
    return Annotated[str, msgspec.Meta(max_length=n, pattern=r"^[^\x00]*$")]


class Body(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A message body: only the fields named here."""


class Empty(Body, kw_only=True):
    """No fields (the sender's window is its node id)."""


class AtWindow(Body, kw_only=True):
    """Only the window, which a terminal or kiosk may name (its own) and other nodes must name."""

    window: Window | None = None


class DoneAt(AtWindow, kw_only=True):
    """An action a window terminal may take while the hall server is unreachable: `done_ms` is when
    the clerk did it (epoch ms), sent from its outbox later; the server bounds it to the time the
    terminal was offline (`hall_server.domain.offline`)."""

    done_ms: Annotated[int, msgspec.Meta(ge=0)] | None = None


class BadBody(ValueError):
    """A body that does not fit its type; `field` names the offending field ('' for the body)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def field_of(message: str) -> str:
    """The top-level field a msgspec message names (`... - at `$.level`` / `Object missing required
    field `job``, `Object contains unknown field `x``)."""
    if "at `$." in message:
        return message.split("at `$.", 1)[1].split("`", 1)[0].split(".", 1)[0].split("[", 1)[0]
    if "field `" in message:
        return message.split("field `", 1)[1].split("`", 1)[0]
    return ""
