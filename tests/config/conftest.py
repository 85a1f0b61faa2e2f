"""Fixtures for the config tests: the demo hall, and private copies of it to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "config" / "examples" / "demo-hall"


@pytest.fixture
def demo_dir() -> Path:
    return DEMO


@pytest.fixture
def hall_copy(tmp_path: Path) -> Path:
    """A copy of the demo hall that a test may edit."""
    target = tmp_path / "hall"
    shutil.copytree(DEMO, target)
    return target
