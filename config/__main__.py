"""Command line: check a hall folder, or make a PIN hash for staff.toml.

    python -m config check DIR      print a summary and exit 0, or every problem and exit 1
    python -m config hash-pin       read a PIN (prompt, or one line on stdin) and print its hash

Exit status 2 means the command line itself was wrong.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from config.errors import ConfigError
from config.loader import load_hall
from config.pins import hash_pin
from config.schema import WEEKDAYS

MIN_PIN_LENGTH = 4


def check(folder: str) -> int:
    try:
        cfg = load_hall(folder)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} in {folder}", file=sys.stderr)
        return 1
    hall = cfg.hall
    keypads = sum(w.keypad is not None for w in cfg.windows)
    printers = sum(w.printer is not None for w in cfg.windows)
    hours = ", ".join(f"{s.start:%H:%M}-{s.end:%H:%M}" for s in hall.sessions)
    print(f"OK: {hall.name} ({hall.region_code}), open {hours}")
    print(f"  {len(cfg.windows)} windows ({keypads} with keypads, {printers} with printers), "
          f"{len(cfg.categories)} categories, {len(cfg.services)} services, {len(cfg.staff)} staff, "
          f"{len(cfg.tags.tags)} tags (version {cfg.tags.version})")
    for name, sessions in zip(WEEKDAYS, hall.hours.weekdays):
        if sessions is not None:
            spans = ", ".join(f"{s.start:%H:%M}-{s.end:%H:%M}" for s in sessions) or "closed"
            print(f"  {name}: {spans}")
    calendar = hall.calendar
    if calendar.holidays or calendar.workdays:
        years = ", ".join(str(y) for y in sorted(calendar.covered_years)) or "none"
        print(f"  calendar: {len(calendar.holidays)} holidays, {len(calendar.workdays)} makeup working days "
              f"(years covered: {years})")
    return 0


def hash_pin_command() -> int:
    if sys.stdin.isatty():
        pin = getpass.getpass("PIN: ")
        if getpass.getpass("PIN again: ") != pin:
            print("the two PINs differ", file=sys.stderr)
            return 1
    else:
        pin = sys.stdin.readline().rstrip("\r\n")
    if len(pin) < MIN_PIN_LENGTH:
        print(f"a PIN needs at least {MIN_PIN_LENGTH} characters", file=sys.stderr)
        return 1
    print(hash_pin(pin))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config", description="Hall configuration tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check_parser = commands.add_parser("check", help="validate a hall configuration folder",
                                       description="Validate a hall folder; list every problem found.")
    check_parser.add_argument("folder", metavar="DIR", help="the hall configuration folder")
    commands.add_parser("hash-pin", help="hash a staff PIN for staff.toml (pin_hash)",
                        description="Read a PIN (prompted, or one line from stdin) and print its hash.")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.folder)
    return hash_pin_command()


if __name__ == "__main__":
    sys.exit(main())
