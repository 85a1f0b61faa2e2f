"""What the terminal keeps on its own disk so that a restart (or a power cut) loses nothing:
who is signed in, the case being typed (事项, 办件编号), parked tickets, commands still waiting for
the server's answer, and today's own figures.

One small JSON file, replaced atomically (write, fsync, rename) on every change.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 1


class LocalStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.data: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": VERSION}
        except (OSError, ValueError) as exc:
            # unreadable: keep it aside for a person to look at, and start clean
            aside = self.path.with_suffix(self.path.suffix + ".bad")
            log.error("%s is unreadable (%s); moved to %s", self.path, exc, aside)
            try:
                os.replace(self.path, aside)
            except OSError:
                pass
            return {"version": VERSION}
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            log.warning("%s has an unknown layout; starting clean", self.path)
            return {"version": VERSION}
        return raw

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value
        self.save()

    def update(self, **values: Any) -> None:
        for key, value in values.items():
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value
        self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f, ensure_ascii=False, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
