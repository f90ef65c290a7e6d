"""The package's shape: every internal import at module top (import-linter checks the layers themselves)."""

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "exactinterp"
MODULES = sorted(LIB.rglob("*.py"))


def _internal_imports_in_functions(tree: ast.Module) -> list[int]:
    lines = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                relative = isinstance(node, ast.ImportFrom) and node.level > 0
                named = isinstance(node, ast.ImportFrom) and (node.module or "").startswith("exactinterp")
                named |= isinstance(node, ast.Import) and any(a.name.startswith("exactinterp") for a in node.names)
                if relative or named:
                    lines.append(node.lineno)
    return lines


#: The deferred imports allowed, with their reason: module -> number of them.
DEFERRED = {"cli.py": 1}  # `verify --jax` loads exactinterp.training (JAX: ~2 s) only when asked for


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(LIB)))
def test_no_internal_import_inside_a_function(path):
    found = _internal_imports_in_functions(ast.parse(path.read_text()))
    assert len(found) == DEFERRED.get(str(path.relative_to(LIB)), 0), (path, found)


def test_the_check_can_fail():
    src = "def f():\n    from .core import numbers\n    import exactinterp.cli\n"
    assert _internal_imports_in_functions(ast.parse(src)) == [2, 3]


def test_every_module_has_a_docstring():
    missing = [str(p.relative_to(LIB)) for p in MODULES if ast.get_docstring(ast.parse(p.read_text())) is None]
    assert missing == []
