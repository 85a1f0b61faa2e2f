"""Shared pieces for the kiosk tests: the demo hall, a fake clock, a recording outbox."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config.loader import load_hall

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "examples" / "demo-hall"


@pytest.fixture(scope="session")
def demo():
    return load_hall(DEMO)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = 1_800_000_000_000

    def __call__(self) -> float:
        return self.now

    def wall_ms(self) -> int:
        return self.wall + int((self.now - 1000.0) * 1000)

    def advance(self, s: float) -> None:
        self.now += s


@dataclass
class Env:
    id: str


@dataclass
class Outbox:
    """Records what would go into the durable outbox: `sent` the node's messages, `links` the
    evaluator's `rating.link` requests apart (message id, body)."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, type_: str, body: dict[str, Any]) -> Env:
        env = Env(str(uuid.uuid4()))
        if type_ == "rating.link":
            self.links.append((env.id, body))
        else:
            self.sent.append((type_, body))
        return env


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


def kivy_env(tmp: Path) -> dict[str, str]:
    """Environment for a headless Kivy process (SDL2 offscreen)."""
    env = dict(os.environ)
    env.update(KIVY_WINDOW="sdl2", SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1",
               KIVY_NO_FILELOG="1", KIVY_HOME=str(tmp / "kivy-home"), SDL_AUDIODRIVER="dummy")
    return env
