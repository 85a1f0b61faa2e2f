"""Decode + validate time per message body: msgspec Structs (hallnet.bodies) against dataclasses
doing the same checks by hand, for a small body (queue.take) and the largest common one
(rating.submit), from msgpack bytes (what the wire carries) and from an already decoded map
(what the writer holds). Figures, not pass/fail:

    PYTHONPATH=. python bench/bodies.py [--n 200000]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import msgpack
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hallnet.bodies import QueueTake, RatingSubmit  # noqa: E402
from hallnet.vocabulary import Msg  # noqa: E402

_PHONE = re.compile(r"^$|^\+?[0-9][0-9 -]{4,19}$")


class Bad(ValueError):
    pass


def _str(body: dict[str, Any], key: str, n: int, required: bool = True) -> str | None:
    if key not in body:
        if required:
            raise Bad(key)
        return None
    v = body[key]
    if v is None and not required:
        return None
    if not isinstance(v, str) or len(v) > n:
        raise Bad(key)
    return v


def _int(body: dict[str, Any], key: str, lo: int, hi: int, required: bool = True) -> int | None:
    if key not in body:
        if required:
            raise Bad(key)
        return None
    v = body[key]
    if v is None and not required:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise Bad(key)
    return v


@dataclass(frozen=True, slots=True)
class TakeDC:
    category: str
    priority: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any]) -> TakeDC:
        if set(body) - {"category", "priority"}:
            raise Bad("unknown")
        p = body.get("priority")
        if p is not None and not isinstance(p, str):
            raise Bad("priority")
        return cls(_str(body, "category", 8) or "", p)


@dataclass(frozen=True, slots=True)
class SubmitDC:
    level: int
    window: int | None = None
    job: str | None = None
    handle: int | None = None
    tags: Any = None
    efficiency: int | None = None
    skill: int | None = None
    attitude: int | None = None
    text: str | None = None
    phone: str | None = None
    channel: Any = None
    pressed_ms: Any = None

    FIELDS = frozenset({"level", "window", "job", "handle", "tags", "efficiency", "skill", "attitude", "text",
                        "phone", "channel", "pressed_ms"})

    @classmethod
    def of(cls, body: dict[str, Any]) -> SubmitDC:
        if set(body) - cls.FIELDS:
            raise Bad("unknown")
        phone = _str(body, "phone", 20, False)
        if phone is not None and not _PHONE.match(phone):
            raise Bad("phone")
        return cls(level=_int(body, "level", 1, 5) or 0, window=_int(body, "window", -2**63, 2**63, False),
                   job=_str(body, "job", 64, False), handle=_int(body, "handle", 1, 2**32 - 1, False),
                   tags=body.get("tags"), efficiency=_int(body, "efficiency", 1, 5, False),
                   skill=_int(body, "skill", 1, 5, False), attitude=_int(body, "attitude", 1, 5, False),
                   text=_str(body, "text", 500, False), phone=phone, channel=body.get("channel"),
                   pressed_ms=body.get("pressed_ms"))


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    for _ in range(min(n, 2000)):
        fn()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    args = ap.parse_args()
    cases = {
        Msg.QUEUE_TAKE: ({"category": "A", "priority": "elderly"}, QueueTake, TakeDC.of),
        Msg.RATING_SUBMIT: ({"job": "8aac6b3797356a1cc4a2", "level": 2, "tags": ["N01", "N02"], "efficiency": 3,
                           "skill": 4, "attitude": 2, "text": "等了很久", "phone": "13812345678",
                           "pressed_ms": 1795395900000}, RatingSubmit, SubmitDC.of),
    }
    print(f"decode + validate, µs per body (mean of {args.n:,}), msgspec {msgspec.__version__}")
    print(f"{'type':<15}{'msgspec map':>13}{'dataclass map':>15}{'msgspec bytes':>15}{'msgpack+dataclass':>19}")
    for name, (body, struct, dc) in cases.items():
        raw = msgpack.packb(body, use_bin_type=True)
        dec = msgspec.msgpack.Decoder(struct)
        ms_map = per_call_us(lambda: msgspec.convert(body, struct, strict=True), args.n)
        dc_map = per_call_us(lambda: dc(body), args.n)
        ms_raw = per_call_us(lambda: dec.decode(raw), args.n)
        dc_raw = per_call_us(lambda: dc(msgpack.unpackb(raw, raw=False)), args.n)
        print(f"{name:<15}{ms_map:>13.2f}{dc_map:>15.2f}{ms_raw:>15.2f}{dc_raw:>19.2f}")


if __name__ == "__main__":
    main()
