"""`python -m demo.traffic`: simulated people for the demo hall, acting through real nodes."""

from demo.traffic.simulation import Traffic, main, node_ids

__all__ = ["Traffic", "main", "node_ids"]
