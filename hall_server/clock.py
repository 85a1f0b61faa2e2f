"""The hall server's clock (`--clock-start/--clock-speed/--clock-anchor`): see `hallnet.clock`,
where it lives so that nodes (traffic simulator, keypad gateway) share the same simulated time."""

from hallnet.clock import BadClock, Clock

__all__ = ["BadClock", "Clock"]
