"""Control lines for the keypad simulator (stdin, `--control` socket, or tests).

    press 3 4        a citizen presses key 4 (满意) on keypad 3
    reboot 3         keypad 3 loses power and comes back
    silent 3 on|off  keypad 3 stops / starts hearing and answering
    slow 3 200       keypad 3 answers 200 ms later than usual (0 to undo)
    noise 0.01       corrupt 1 % of the bytes on the line, both ways
    status [3]       one JSON line: every keypad's state (or keypad 3's)
    help             this list
    quit             stop the simulator
"""

from __future__ import annotations

import json

from devices.keypad.sim_bus import UnknownDevice
from devices.keypad.sim_device import KeypadView
from devices.keypad.simulator import KeypadSimulator

HELP = "commands: press ADDR LEVEL | reboot ADDR | silent ADDR on|off | slow ADDR MS | noise RATE | status [ADDR] | help | quit"


class BadCommand(ValueError):
    """A control line that cannot be understood."""


def execute(sim: KeypadSimulator, line: str) -> str:
    """Run one control line against `sim`; the reply line."""
    words = line.split()
    try:
        return _run(sim, words[0].lower() if words else "", words[1:])
    except (BadCommand, UnknownDevice, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        return f"error: {message}"


def _run(sim: KeypadSimulator, command: str, args: list[str]) -> str:
    if command == "press":
        addr, level = _ints(args, 2, "press ADDR LEVEL")
        pressed = sim.press(addr, level)
        return "ok pressed" if pressed else "ok ignored (no open rating or no such key)"
    if command == "reboot":
        (addr,) = _ints(args, 1, "reboot ADDR")
        sim.reboot(addr)
        return f"ok boot_id {sim.view(addr).boot_id:04X}"
    if command == "silent":
        if len(args) != 2 or args[1] not in ("on", "off"):
            raise BadCommand("usage: silent ADDR on|off")
        (addr,) = _ints(args[:1], 1, "silent ADDR on|off")
        sim.set_silent(addr, args[1] == "on")
        return "ok"
    if command == "slow":
        addr, extra_ms = _ints(args, 2, "slow ADDR MS")
        sim.set_slow(addr, extra_ms)
        return "ok"
    if command == "noise":
        if len(args) != 1:
            raise BadCommand("usage: noise RATE  (0–1, e.g. 0.01)")
        try:
            rate = float(args[0])
        except ValueError:
            raise BadCommand(f"not a number: {args[0]}") from None
        sim.set_noise(rate)
        return "ok"
    if command == "status":
        if args:
            (addr,) = _ints(args, 1, "status [ADDR]")
            views = {addr: sim.view(addr)}
        else:
            views = sim.views()
        return "ok " + json.dumps({str(a): _view_json(v) for a, v in views.items()}, ensure_ascii=False)
    if command == "help":
        return "ok " + HELP
    raise BadCommand(f"unknown command {command!r}; {HELP}")


def _ints(args: list[str], count: int, usage: str) -> list[int]:
    if len(args) != count:
        raise BadCommand(f"usage: {usage}")
    try:
        return [int(a) for a in args]
    except ValueError:
        raise BadCommand(f"usage: {usage}") from None


def _view_json(view: KeypadView) -> dict[str, object]:
    return {
        "keys": view.keys,
        "boot_id": f"{view.boot_id:04X}",
        "mode": int(view.mode),
        "open_handle": None if view.open_handle is None else f"{view.open_handle:08X}",
        "pending": view.pending,
        "staff": None if view.staff is None else {
            "staff_no": view.staff.staff_no, "stars": view.staff.stars,
            "name": view.staff.name, "dept": view.staff.dept,
        },
    }
