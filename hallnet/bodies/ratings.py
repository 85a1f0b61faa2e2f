"""Ratings, slips, cases and comments: a rating and its follow-up, the QR link, a sourced web
rating, the slip printer's print jobs, a case's steps (回访, 整改, 办结, 申诉, 裁定, the city's 督办
note) and a citizen's comment."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from hallnet.bodies.base import AtWindow, Body, Id, Level, Phone, _s, _t

Tags = Annotated[list[_s(32)], msgspec.Meta(max_length=8)]


class RatingSubmit(AtWindow, kw_only=True):
    job: _s(64) | None = None
    handle: Annotated[int, msgspec.Meta(ge=1, le=2**32 - 1)] | None = None
    level: Level
    tags: Any = None                 # checked against the hall's tag list (UnknownTag, TagRequired)
    efficiency: Level | None = None
    skill: Level | None = None
    attitude: Level | None = None
    text: _t(500) | None = None
    phone: Phone | None = None
    channel: Any = None              # a node's own channel, or a web channel (ChannelNotAllowed)
    pressed_ms: Any = None           # an evaluator's press time (checked for evaluator channels only)


class RatingFollowup(Body, kw_only=True):
    job: _s(64)
    level: Level
    tags: Any = None
    text: _t(500) | None = None
    channel: Any = None


class RatingLink(Body, kw_only=True):
    job: _s(64)


Hash32 = Annotated[str, msgspec.Meta(pattern=r"^$|^[0-9a-f]{32}$")]   # a keyed hash, or '' when unknown


class RatingSourced(Body, kw_only=True):
    kind: Literal["submit", "followup"]
    rating: dict[str, Any]          # the inner rating.submit / rating.followup body, typed by its own handler
    rater_hash: Hash32 = ""
    address_hash: Hash32 = ""


class SlipFetch(Body, kw_only=True):
    print_id: Id


class SlipResult(Body, kw_only=True):
    print_id: Id
    ok: bool
    error: _t(32) | None = None


class SlipReprint(AtWindow, kw_only=True):
    job: _t(64) | None = None


class CaseStep(Body, kw_only=True):
    case_id: Id
    note: _t(1000) | None = None


class CaseCallback(CaseStep, kw_only=True):
    """回访 with its outcome: reached or not, the citizen's reason in their words, satisfied or not."""

    reached: bool | None = None
    satisfied: bool | None = None
    words: _t(1000) | None = None


class CaseAppeal(AtWindow, kw_only=True):
    case_id: Id
    reason: _s(1000)


class CaseDecide(Body, kw_only=True):
    case_id: Id
    upheld: bool
    note: _t(1000) | None = None


class CommentSubmit(Body, kw_only=True):
    text: _s(1000)
    phone: Phone | None = None


class CaseCityNote(Body, kw_only=True):
    """督办: a city manager's note on one of the hall's cases (the city's note id makes it apply once)."""
    note_id: Id
    case_id: Id
    note: _t(1000)
    pushed_ms: Annotated[int, msgspec.Meta(ge=0, le=2**62)]
