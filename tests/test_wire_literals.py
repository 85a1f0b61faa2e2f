"""The wire's message type names are written once, in `hallnet.vocabulary.Msg`: nowhere else does
a product package, the demo, a bench or a script spell one as a bare string literal.

An AST walk over every package (nothing is imported). Not counted: docstrings (they document the
wire), the first argument of `t(...)` (a translation key that happens to read like a type) and of
`audit(...)` / `ctx.audit(...)` (an audit action, its own vocabulary; `roster.audit(ctx, what, …)`
takes it second), and the wire's own plain
words (`hb`, `reply`, `error`, …: `WIRE_TYPES`, common words that are dictionary keys everywhere).
Skipped: `hallnet/` (the vocabulary's home), `config/` (it may not import hallnet; its tables are
translation keys) and `tests/` (tests speak the wire as a node does and pin its strings, so a
renamed member cannot silently rename the wire).
"""

from __future__ import annotations

import ast
from pathlib import Path

from hallnet.vocabulary import WIRE_TYPES, Msg
from tests.conftest import ROOT
from tests.test_imports import PROJECT

NAMES = frozenset(m.value for m in Msg if m not in WIRE_TYPES)
SKIPPED = {"hallnet", "config", "tests"}
# calls whose leading arguments are keys of another vocabulary: how many of them
NOT_A_TYPE_NAME = {"t": 1, "audit": 2}
# Files still allowed a literal, with the reason; delete an entry once its file is clean.
ALLOWED: dict[str, str] = {
}


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _other_keys(tree: ast.AST) -> set[int]:
    """The leading arguments of t(...), audit(...), ctx.audit(...)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            for arg in node.args[:NOT_A_TYPE_NAME.get(name, 0)]:
                out.update(id(n) for n in ast.walk(arg) if isinstance(n, ast.Constant))
    return out


def literals(path: Path, source: str | None = None) -> list[str]:
    """`path:line: 'name'` for every message type name written as a literal in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    skip = _docstrings(tree) | _other_keys(tree)
    rel = path.relative_to(ROOT)
    return [f"{rel}:{n.lineno}: {n.value!r}" for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in NAMES and id(n) not in skip]


def _files() -> list[Path]:
    return [p for top in sorted(PROJECT - SKIPPED) if (ROOT / top).is_dir()
            for p in sorted((ROOT / top).rglob("*.py")) if ".venv" not in p.parts]


def test_no_message_type_name_is_a_bare_literal() -> None:
    found = [hit for p in _files() if str(p.relative_to(ROOT)) not in ALLOWED for hit in literals(p)]
    assert not found, "write these as hallnet.vocabulary.Msg members:\n" + "\n".join(found)


def test_the_scanner_sees_what_it_must() -> None:
    source = ('"""Sends queue.take."""\n'
              'def f(ctx):\n    """queue.take"""\n    send("queue.take", {})\n'
              '    t("rating.submit")\n    ctx.audit("leave.add")\n    x = {"error": 1}\n    return f"job.finish"\n')
    hits = literals(ROOT / "demo" / "probe.py", source)
    assert hits == ["demo/probe.py:4: 'queue.take'", "demo/probe.py:8: 'job.finish'"]


def test_every_allowance_is_still_needed() -> None:
    for rel in ALLOWED:
        assert literals(ROOT / rel), f"{rel} is clean: delete its entry"
