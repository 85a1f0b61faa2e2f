"""Where the hall server's bus listens: a command endpoint (ROUTER) and a state endpoint (PUB).

`HOST:PORT` means tcp on PORT and PORT+1; `ipc:///path` means /path and /path.pub.
"""

from __future__ import annotations

from dataclasses import dataclass


class BadAddress(ValueError):
    pass


@dataclass(frozen=True)
class BusAddress:
    commands: str
    states: str

    @classmethod
    def parse(cls, text: str) -> "BusAddress":
        if text.startswith("ipc://"):
            if len(text) <= len("ipc://"):
                raise BadAddress(f"{text!r}: ipc address needs a path")
            return cls(text, text + ".pub")
        host, sep, port_s = text.rpartition(":")
        if not sep or not host or not port_s.isdigit() or not (1 <= int(port_s) <= 65534):
            raise BadAddress(f"{text!r}: expected HOST:PORT (port 1–65534; states use PORT+1) or ipc:///path")
        host = host.strip("[]")
        port = int(port_s)
        fmt = "tcp://[{}]:{}" if ":" in host else "tcp://{}:{}"
        return cls(fmt.format(host, port), fmt.format(host, port + 1))
