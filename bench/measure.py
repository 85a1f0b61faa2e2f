"""What the benchmarks share: a free loopback port (or pair: the bus uses PORT and PORT+1) and a
percentile of measured values."""

from __future__ import annotations

import socket


def free_port(pair: bool = False) -> int:
    """A loopback TCP port free now; with `pair`, PORT+1 is free too."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not pair:
            return port
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank on the sorted values); NaN without values."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
