"""scripts/relayout.py: the move to issue #12's layout rewrites old module paths, is idempotent, and
nothing in the tree still names an old path (a branch merged later: run the script again)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _relayout() -> ModuleType:
    spec = importlib.util.spec_from_file_location("relayout", ROOT / "scripts" / "relayout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


relayout = _relayout()


@pytest.mark.parametrize(("old", "new"), [
    ("from hall_server.bus import Bus", "from hall_server.transport.bus import Bus"),
    ("    from hall_server import qr_token", "    from hall_server.core import qr_token"),
    ("from hall_server import cli, handlers  # noqa: E402",
     "from hall_server import cli  # noqa: E402\nfrom hall_server.core import handlers"),
    ("from hall_server.clock import Clock", "from hallnet.clock import Clock"),
    ("from hall_server.web.pages.secret import load_secret", "from hall_server.core.secret import load_secret"),
    ('[sys.executable, "-m", "hall_server.traffic", "--config"]', '[sys.executable, "-m", "demo.traffic", "--config"]'),
    ("$(PY) -m hall_server.demo --data $(DEMO_DATA)", "$(PY) -m demo --data $(DEMO_DATA)"),
    ("see `hall_server.bus_sockets` and hall_server/quotas.py",
     "see `hall_server.transport.sockets` and hall_server/transport/quotas.py"),
    ("hall_server/traffic.py", "demo/traffic/simulation.py"),
    ("from hall_server.domain.migrations import x", "from hall_server.domain.migrations import x"),
    ("from hall_server.web.public_state import x", "from hall_server.web.public_state import x"),
])
def test_rewrites_and_is_idempotent(old: str, new: str) -> None:
    assert relayout.rewrite(old) == new
    assert relayout.rewrite(new) == new


def test_no_tracked_file_names_an_old_module() -> None:
    stale = [str(p.relative_to(ROOT)) for p in relayout.tracked_files()
             if relayout.rewrite(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]
    assert not stale, f"run `python scripts/relayout.py`: {stale}"


def test_no_old_file_is_left() -> None:
    assert [old for old in relayout.FILES if (ROOT / old).exists()] == []
