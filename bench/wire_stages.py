"""The wire's stage breakdown: where one event's time goes, from the HALLNET_TRACE dumps of every
process of a `bench/wire.py --stages` run (the stages are named in hallnet/trace.py)."""

from __future__ import annotations

from pathlib import Path

from bench.measure import percentile
from hallnet import trace

STAGES = ["put", "stored", "woke", "sent", "polled", "taken", "applying", "applied", "replied", "answered",
          "deleted"]


def stage_report(folder: Path) -> list[str]:
    """Lines: per stage, the median and p99 of the time from the previous stage (ms), over every
    event that passed them all."""
    rows = [s for s in trace.load(folder).values() if all(k in s for k in STAGES)]
    lines = [f"{len(rows)} events traced: ms from the previous stage   p50     p99"]
    for prev, stage in zip(STAGES, STAGES[1:]):
        gaps = [(s[stage] - s[prev]) / 1e6 for s in rows]
        lines.append(f"  {prev:>8} → {stage:<8}                      {percentile(gaps, 50):7.2f} {percentile(gaps, 99):7.2f}")
    whole = [(s["answered"] - s["put"]) / 1e6 for s in rows]
    lines.append(f"  {'put':>8} → answered (send→ack)            {percentile(whole, 50):7.2f} {percentile(whole, 99):7.2f}")
    return lines
