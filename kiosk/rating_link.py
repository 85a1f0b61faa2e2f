"""The QR code on the evaluator: the 办件's signed rating link, asked from the hall server.

Public state (`rating/<n>`) carries no rating token: every node reads it, staff terminals too.
When a rating opens, the evaluator sends `rating.link {job}` (only a kiosk node of that window
gets an answer) and shows the QR code when the reply `{job, qr_path, qr_url}` comes; the rating
buttons never wait for it. The link is `qr_url` when the hall has a `public_url`, else the
kiosk's `--qr-base` + `qr_path`.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol
from hallnet.vocabulary import Msg

LINK_TYPE = Msg.RATING_LINK


class Sent(Protocol):
    id: str                         # the message id the server's reply refers to


Send = Callable[[str, dict[str, Any]], Sent]


def link_of(result: dict[str, Any], qr_base: str) -> str | None:
    """The link to show from a `rating.link` result; None without a signed link."""
    if isinstance(result.get("qr_url"), str) and result["qr_url"]:
        return str(result["qr_url"])
    if isinstance(result.get("qr_path"), str) and result["qr_path"].startswith("/"):
        return qr_base + result["qr_path"]
    return None


class LinkRequests:
    """The links asked for and not answered yet, by message id."""

    def __init__(self, qr_base: str) -> None:
        self.qr_base = qr_base.rstrip("/")
        self._asked: dict[str, str] = {}      # message id → 办件 public id

    def ask(self, send: Send, job: str) -> None:
        env = send(LINK_TYPE, {"job": job})
        self._asked[env.id] = job

    def answer(self, ref: str, body: dict[str, Any]) -> tuple[str, str | None] | None:
        """The reply to one of our requests: (job, link or None when refused); None if not ours."""
        job = self._asked.pop(ref, None)
        if job is None:
            return None
        result = body.get("result")
        if not body.get("ok") or not isinstance(result, dict) or result.get("job") != job:
            return job, None
        return job, link_of(result, self.qr_base)

    def asked(self) -> dict[str, str]:
        """Message id → 办件 of the requests not answered yet."""
        return dict(self._asked)

    @property
    def waiting(self) -> int:
        """Requests still in the outbox or on their way (the banner counts only ratings)."""
        return len(self._asked)
