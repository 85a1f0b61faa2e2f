"""The slips the demo's printer simulators printed, as a simulated citizen holding one reads them.

`python -m devices simulate printer --out FILE` appends each decoded document to FILE as one JSON
line (`lines`, `qr`, …). The traffic simulator's citizens rate by QR with the link printed on their
own slip — the way a citizen does; no staff-side node ever has it (issue #11).
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path


class SlipReader:
    """The slips the windows' printer simulators decoded (`devices simulate printer --out FILE`: one
    JSON document per line), by the 办件 their QR link names — what a citizen holding one can read."""

    def __init__(self, files: dict[int, Path]) -> None:
        self.files = dict(files)
        self._read_upto: dict[int, int] = {}
        self._links: dict[str, str] = {}

    def has_printer(self, window: int) -> bool:
        return window in self.files

    def link(self, window: int, job: str) -> str | None:
        """The QR link printed on the slip of 办件 `job` at `window`, once it is printed."""
        if job not in self._links and window in self.files:
            self._read(window)
        return self._links.get(job)

    def _read(self, window: int) -> None:
        path = self.files[window]
        try:
            with path.open("rb") as f:
                f.seek(self._read_upto.get(window, 0))
                data = f.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1                     # a line still being written waits
        self._read_upto[window] = self._read_upto.get(window, 0) + end
        for line in data[:end].splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            for url in doc.get("qr") or []:
                job = job_of_link(url)
                if job is not None:
                    self._links[job] = url


def job_of_link(url: str) -> str | None:
    """The 办件 a slip's link "…/r/<payload>.<mac>" names (payload "r1:<job>:<expiry>", unverified)."""
    token = url.rpartition("/r/")[2]
    payload = token.partition(".")[0]
    try:
        kind, job, _ = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("ascii").split(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return job if kind == "r1" else None
