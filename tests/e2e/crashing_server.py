"""A test helper process: `python -m hall_server` with one extra message type, `test.kill_bus`, whose
handler raises an exception that no `except Exception` stops, so it ends the bus thread (which is
also the one writer) the way an unforeseen fault would. The server must notice and exit non-zero.

    python tests/e2e/crashing_server.py --config DIR --data DIR --bus HOST:PORT --http HOST:PORT
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hall_server import cli  # noqa: E402
from hall_server.domain.context import Context  # noqa: E402
from hall_server.core.handlers import FOUNDATION  # noqa: E402


class BusKilled(BaseException):
    """Not an Exception: passes every `except Exception` between the handler and the thread's top."""


def kill_bus(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    raise BusKilled("killed on purpose by the test")


if __name__ == "__main__":
    FOUNDATION.add("test.kill_bus", kill_bus)   # this process's hub is given the foundation table with it
    sys.exit(cli.main(sys.argv[1:]))
