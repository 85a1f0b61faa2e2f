"""Issue #12's new layout, as a reproducible move: `python scripts/relayout.py [--no-move] [FILE ...]`.

1. Moves the loose modules at the top of `hall_server/` into the folders that show the design
   (`git mv`, so history follows), and deletes the leftover shims.
2. Rewrites every mention of a moved module in every tracked `.py`, `.md`, `.sh` and `Makefile`
   and `.toml` (or only in the FILEs given): `import` / `from` lines, `python -m` invocations, dotted names in
   docstrings and docs, and file paths (`hall_server/bus.py`).

Idempotent: a second run moves and changes nothing. Branches written against the old layout are
brought over by running it again after their merge (the moves are then skipped, the rewrites apply
to their new lines).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# old module → new module (the shims map to what they re-exported).
MODULES: dict[str, str] = {
    "hall_server.hub": "hall_server.core.hub",
    "hall_server.writer": "hall_server.core.writer",
    "hall_server.handlers": "hall_server.core.handlers",
    "hall_server.state": "hall_server.core.state",
    "hall_server.store": "hall_server.core.store",
    "hall_server.migrations": "hall_server.core.migrations",
    "hall_server.plain": "hall_server.core.plain",
    "hall_server.domain_handlers": "hall_server.core.domain_handlers",
    "hall_server.export_runner": "hall_server.core.export_runner",
    "hall_server.backend": "hall_server.core.backend",
    "hall_server.secret": "hall_server.core.secret",
    "hall_server.signing": "hall_server.core.signing",
    "hall_server.qr_token": "hall_server.core.qr_token",
    "hall_server.clock": "hallnet.clock",
    "hall_server.bus": "hall_server.transport.bus",
    "hall_server.bus_sockets": "hall_server.transport.sockets",
    "hall_server.quotas": "hall_server.transport.quotas",
    "hall_server.users": "hall_server.web.users",
    "hall_server.sessions": "hall_server.web.sessions",
    "hall_server.demo": "demo",
    "hall_server.traffic": "demo.traffic",
    "hall_server.printed_slips": "demo.printed_slips",
    "hall_server.web.pages.qr_token": "hall_server.core.qr_token",
    "hall_server.web.pages.secret": "hall_server.core.secret",
}

# old file → new file (None: a shim, deleted). Tests follow the package they test.
FILES: dict[str, str | None] = {
    **{f"{old.replace('.', '/')}.py": f"{new.replace('.', '/')}.py" for old, new in MODULES.items()
       if new.startswith("hall_server.")},
    "hall_server/clock.py": None,
    "hall_server/web/pages/qr_token.py": None,
    "hall_server/web/pages/secret.py": None,
    "hall_server/demo.py": "demo/runner.py",
    "hall_server/traffic.py": "demo/traffic/simulation.py",
    "hall_server/printed_slips.py": "demo/printed_slips.py",
    "tests/hall_server/test_demo_run.py": "tests/demo/test_demo_run.py",
    "tests/hall_server/test_printed_slips.py": "tests/demo/test_printed_slips.py",
    "config/examples/make_photos.py": "demo/make_photos.py",      # uses Pillow: config is stdlib only
}
NEW_PACKAGES = ("hall_server/core", "hall_server/transport", "demo", "demo/traffic", "tests/demo")

SUFFIXES = (".py", ".md", ".sh", ".toml")
NAMES = ("Makefile",)


def _dotted(old: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)")


def _path(old: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w/.]){re.escape(old.replace('.', '/'))}\.py\b")


_DOTTED = [(_dotted(old), new) for old, new in sorted(MODULES.items(), key=lambda kv: -len(kv[0]))]
_PATHS = [(re.compile(rf"(?<![\w/.]){re.escape(old)}(?![\w/])"), new)
          for old, new in FILES.items() if new is not None]
_PATHS += [(_path(old), new.replace(".", "/") + ".py")
           for old, new in MODULES.items() if FILES.get(f"{old.replace('.', '/')}.py", "") is None]
_FROM_PARENT = re.compile(r"^(?P<indent>\s*)from (?P<parent>[\w.]+) import (?P<names>[^()#\n]+?)"
                          r"(?P<comment>\s*#.*)?$")


def _split_from(line: str) -> str:
    """`from hall_server import cli, handlers` → one line per new parent package."""
    m = _FROM_PARENT.match(line)
    if not m:
        return line
    parent = m["parent"]
    groups: dict[str, list[str]] = {}
    moved = False
    for item in (n.strip() for n in m["names"].split(",")):
        if not item:
            continue
        name = item.split(" as ")[0].strip()
        new = MODULES.get(f"{parent}.{name}")
        if new is None:
            groups.setdefault(parent, []).append(item)
            continue
        moved = True
        new_parent, _, new_name = new.rpartition(".")
        if new_parent and new_name == name:
            groups.setdefault(new_parent, []).append(item)
        elif new_parent:
            alias = item.split(" as ")[1].strip() if " as " in item else name
            groups.setdefault(new_parent, []).append(f"{new_name} as {alias}")
        else:                                   # a top-level package: `import demo as demo`
            groups.setdefault("", []).append(f"{new} as {item.split(' as ')[-1].strip()}")
    if not moved:
        return line
    out = []
    for i, (pkg, items) in enumerate(groups.items()):
        comment = (m["comment"] or "") if i == 0 else ""
        head = f"import {', '.join(items)}" if not pkg else f"from {pkg} import {', '.join(items)}"
        out.append(f"{m['indent']}{head}{comment}")
    return "\n".join(out)


def rewrite(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = _split_from(line)
        for pattern, new in _DOTTED:
            line = pattern.sub(new, line)
        for pattern, new in _PATHS:
            line = pattern.sub(new, line)
        lines.append(line)
    return "\n".join(lines)


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / f for f in out.splitlines()
            if (f.endswith(SUFFIXES) or Path(f).name in NAMES) and (ROOT / f).is_file()
            and f not in ("scripts/relayout.py", "tests/test_relayout.py")]   # (its test data names old paths)


def move() -> list[str]:
    done = []
    for package in NEW_PACKAGES:
        init = ROOT / package / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text("", encoding="utf-8")
            subprocess.run(["git", "add", str(init)], cwd=ROOT, check=True)
    for old, new in FILES.items():
        if not (ROOT / old).exists():
            continue
        if new is None:
            subprocess.run(["git", "rm", "-q", old], cwd=ROOT, check=True)
        elif not (ROOT / new).exists():
            (ROOT / new).parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "mv", old, new], cwd=ROOT, check=True)
        else:
            print(f"both {old} and {new} exist: merge them by hand", file=sys.stderr)
            continue
        done.append(f"{old} -> {new or '(deleted)'}")
    return done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python scripts/relayout.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-move", action="store_true", help="only rewrite mentions, move no file")
    p.add_argument("files", nargs="*", type=Path, help="rewrite only these files")
    args = p.parse_args(argv)
    for line in ([] if args.no_move else move()):
        print(line)
    for path in [f.resolve() for f in args.files] or tracked_files():
        text = path.read_text(encoding="utf-8")
        new = rewrite(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
