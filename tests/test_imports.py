"""DESIGN.md's import table ("Packages (top level)"), checked on every import of every module.

Each module is parsed with `ast` (nothing is imported): every `import` / `from … import` — at the
top, under `if TYPE_CHECKING:`, or inside a function — must name a package its own package may
import. Product packages and the demo import project packages only at module level: a
function-level import of a project package is how a cycle or a forbidden edge hides, so there is
none (a function may still import the standard library or a third-party module lazily).
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

PROJECT = {"config", "hallnet", "hall_server", "kiosk", "window_terminal", "devices", "city_server",
           "demo", "tests", "bench", "scripts"}
EVERYTHING = PROJECT
# package → the project packages (or sub-packages, dotted) it may import; its own always allowed.
MAY_IMPORT: dict[str, set[str]] = {
    "config": set(),
    "hallnet": {"config"},
    "hall_server": {"config", "hallnet"},
    "kiosk": {"config", "hallnet", "devices.printer"},
    "window_terminal": {"config", "hallnet"},
    "devices": {"config", "hallnet"},
    "city_server": {"config", "hallnet"},
    "demo": EVERYTHING,
    "tests": EVERYTHING,
    "bench": EVERYTHING,
    "scripts": EVERYTHING,
}
STDLIB_ONLY = {"config"}
# Kivy: the two apps, and their own tests (which drive the apps' widgets off-screen).
KIVY_ALLOWED = ("kiosk/", "window_terminal/", "tests/kiosk/", "tests/window_terminal/")
CLIENTS = {"kiosk", "window_terminal", "devices", "hallnet", "config", "city_server"}
# Inside hall_server, the layers below never import the layers above them: the core (hub, writer,
# store, the foundation's handlers) and the domain (the rules) know neither the transport nor the
# web side; the transport (the bus) does not know the web side. What sees every layer is the
# composition root (`hall_server.assembly`: the whole handler table; `hall_server.cli`: the server).
LAYERS_MAY_NOT: dict[str, set[str]] = {
    "hall_server.core": {"hall_server.web"},
    "hall_server.domain": {"hall_server.web", "hall_server.transport"},
    "hall_server.transport": {"hall_server.web"},
}
# Where a function-level import of a project package is forbidden (tests/bench/scripts may: they
# dodge nothing). The justified exceptions, by imported module, with the reason:
NO_LAZY_PROJECT_IMPORTS = PROJECT - {"tests", "bench", "scripts"}
KIVY_AFTER_SETUP = ("Kivy reads its environment and kivy.config at import time: the app module (which "
                    "imports Kivy) is imported only after kivy_setup.prepare() / setup_env() ran, and "
                    "`--help` or a configuration error never starts Kivy")
LAZY_EXCEPTIONS: dict[str, str] = {
    "kiosk.app": KIVY_AFTER_SETUP,
    "window_terminal.app": KIVY_AFTER_SETUP,
}
# Still lazy because of an import cycle that issue #12's explicit registries remove (the "core"
# part: migrations passed to the store as `sqlite_utils.migrations.Migrations` sets). Delete the
# entry when that lands: the test then holds the store to it.
PENDING_CYCLES: dict[tuple[str, str], str] = {}   # (none left: the migrations are passed to the store)


@dataclass(frozen=True)
class Import:
    path: str            # relative to the repository root
    line: int
    module: str          # absolute dotted name
    in_function: bool


DYNAMIC = "<importlib.import_module / __import__>"


def _dynamic_import(func: ast.expr) -> bool:
    """`importlib.import_module(...)`, `import_module(...)` or `__import__(...)`: an import the
    table cannot see, so the product packages have none."""
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, source: str | None = None) -> list[Import]:
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    rel = str(path.relative_to(ROOT))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend(Import(rel, child.lineno, a.name, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                # `from pkg import sub` may name a sub-module: check the most precise name.
                found.extend(Import(rel, child.lineno, f"{module}.{a.name}", in_function)
                             for a in child.names)
            elif isinstance(child, ast.Call) and _dynamic_import(child.func):
                found.append(Import(rel, child.lineno, DYNAMIC, True))
            visit(child, inner)

    visit(tree, False)
    return found


@functools.cache
def _all_imports() -> tuple[Import, ...]:
    return tuple(imp for path in _python_files() for imp in _imports(path))


def _python_files() -> list[Path]:
    files = []
    for top in sorted(PROJECT):
        folder = ROOT / top
        if folder.is_dir():
            files.extend(p for p in sorted(folder.rglob("*.py")) if ".venv" not in p.parts)
    return files


def _allowed(package: str, module: str) -> bool:
    target = module.split(".")[0]
    if target not in PROJECT or target == package:
        return True
    return any(module == a or module.startswith(a + ".") for a in MAY_IMPORT[package])


def _layer_allowed(path: str, module: str) -> bool:
    """Whether the module at `path` (relative, e.g. hall_server/core/hub.py) may import `module`
    under LAYERS_MAY_NOT (TYPE_CHECKING and function-level imports included)."""
    here = path.removesuffix(".py").replace("/", ".")
    for layer, above in LAYERS_MAY_NOT.items():
        if here == layer or here.startswith(layer + "."):
            return not any(module == a or module.startswith(a + ".") for a in above)
    return True


def _excused(imp: Import) -> bool:
    """A justified function-level import (LAZY_EXCEPTIONS, PENDING_CYCLES): `from kiosk import app`
    is seen as `kiosk.app`, `from kiosk.app import X` as `kiosk.app.X`."""
    named = [m for m in LAZY_EXCEPTIONS if imp.module == m or imp.module.startswith(m + ".")]
    pending = [m for (path, m) in PENDING_CYCLES if path == imp.path and imp.module == m]
    return bool(named or pending)


def _violations() -> list[str]:
    out = []
    for imp in _all_imports():
        package = imp.path.split("/")[0]
        top = imp.module.split(".")[0]
        where = f"{imp.path}:{imp.line}: {imp.module}"
        if imp.module == DYNAMIC:
            if package in NO_LAZY_PROJECT_IMPORTS:
                out.append(f"{where}: a dynamic import hides from the import table")
            continue
        if not _allowed(package, imp.module):
            out.append(f"{where}: {package} may not import {top} (DESIGN.md import table)")
        if not _layer_allowed(imp.path, imp.module):
            out.append(f"{where}: a lower layer of hall_server imports one above it (LAYERS_MAY_NOT)")
        if package in STDLIB_ONLY and top not in PROJECT and top not in sys.stdlib_module_names \
                and top != "__future__":
            out.append(f"{where}: {package} imports the standard library only")
        if top == "kivy" and not imp.path.startswith(KIVY_ALLOWED):
            out.append(f"{where}: only kiosk/ and window_terminal/ import Kivy")
        if package in CLIENTS and top == "hall_server":
            out.append(f"{where}: no client package imports hall_server")
        if imp.in_function and package in NO_LAZY_PROJECT_IMPORTS and top in PROJECT \
                and not _excused(imp):
            out.append(f"{where}: a function-level import of a project package (import it at the top)")
    return out


def test_every_import_keeps_the_design_table() -> None:
    violations = _violations()
    assert not violations, "\n".join(violations)


def test_the_checker_sees_what_it_must() -> None:
    """The checker itself: relative imports resolve, function-level imports are seen."""
    source = ("from . import sibling\ndef f():\n    from hall_server.core import hub\n"
              "importlib.import_module('hall_server')\n")
    found = _imports(ROOT / "hallnet" / "probe.py", source)
    assert [(i.module, i.in_function) for i in found] == [
        ("hallnet.sibling", False), ("hall_server.core.hub", True), (DYNAMIC, True)]
    assert not _allowed("hallnet", "hall_server.core.hub")
    assert _allowed("kiosk", "devices.printer.escpos") and not _allowed("kiosk", "devices.gateway")
    assert not _layer_allowed("hall_server/core/handlers.py", "hall_server.web.sessions")
    assert not _layer_allowed("hall_server/domain/floor.py", "hall_server.transport.bus")
    assert _layer_allowed("hall_server/assembly.py", "hall_server.web.sessions")
    assert _layer_allowed("hall_server/web/app.py", "hall_server.core.hub")


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_the_table_names_real_packages(package: str) -> None:
    assert all(a.split(".")[0] in PROJECT for a in MAY_IMPORT[package])


def test_every_exception_is_still_needed() -> None:
    """An exception that excuses nothing any more is deleted, so the list stays true."""
    lazy = [imp for imp in _all_imports() if imp.in_function]
    for module in LAZY_EXCEPTIONS:
        assert any(i.module == module or i.module.startswith(module + ".") for i in lazy), module
    for path, module in PENDING_CYCLES:
        assert any(i.path == path and i.module == module for i in lazy), (path, module)
