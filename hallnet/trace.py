"""Where a message's time goes on the wire: per-message stage timestamps, off unless asked for.

Set HALLNET_TRACE to a folder and every process that sends or applies messages records, for each
message, when it passed each stage (`time.monotonic_ns()`, which is one clock for every process of
the machine), and writes them to `FOLDER/<pid>.tsv` (`stage<TAB>message id<TAB>ns`) at exit or when
`dump()` is called. `bench/wire.py --stages` reads them back. Off (the default), a stage costs one
test of a module constant.

Stages, in the order a message passes them:
  node   put      `send()` called               stored   the outbox's commit returned
         woke     the I/O thread's turn began   sent     handed to the DEALER socket
  server polled   the bus loop's turn began     taken    read and checked, waiting for the batch
         applying the batch's apply began       applied  committed (the hub returned)
         replied  its reply queued on the ROUTER
  node   answered the I/O thread read its reply deleted  its outbox row deleted
"""

from __future__ import annotations

import atexit
import os
import time
from pathlib import Path

FOLDER = os.environ.get("HALLNET_TRACE", "")
ON = bool(FOLDER)

_marks: list[tuple[str, str, int]] = []


def mark(stage: str, msg_id: str, at_ns: int | None = None) -> None:
    """Record that `msg_id` passed `stage` now (or at `at_ns`). Thread-safe (one list append)."""
    _marks.append((stage, msg_id, time.monotonic_ns() if at_ns is None else at_ns))


def dump() -> None:
    """Write (append) what was recorded to FOLDER/<pid>.tsv and forget it."""
    if not ON or not _marks:
        return
    taken = _marks[:]
    del _marks[:len(taken)]
    folder = Path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{os.getpid()}.tsv", "a", encoding="ascii") as f:
        f.writelines(f"{stage}\t{msg_id}\t{ns}\n" for stage, msg_id, ns in taken)


def load(folder: Path | str) -> dict[str, dict[str, int]]:
    """Every traced message's stages from a folder of dumps: {message id: {stage: ns}} (first mark wins)."""
    out: dict[str, dict[str, int]] = {}
    for path in Path(folder).glob("*.tsv"):
        for line in path.read_text(encoding="ascii").splitlines():
            stage, msg_id, ns = line.split("\t")
            out.setdefault(msg_id, {}).setdefault(stage, int(ns))
    return out


if ON:
    atexit.register(dump)
