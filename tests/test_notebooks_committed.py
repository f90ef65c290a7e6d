"""Guard: nbval only compares notebooks committed with outputs and execution counts 1..k."""

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [p for p in sorted((ROOT / "book").rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
#: Characters of printed output that fit the content column at 1280 px (the chapters' code obeys
#: the same limit through ruff, book/ruff.toml; exactinterp.book.text.say wraps summaries to it).
COLUMNS = 79


def _toc_files() -> set[str]:
    toc, found = yaml.safe_load((ROOT / "_toc.yml").read_text()), []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc)
    return {re.sub(r"\.(ipynb|md)$", "", f) for f in [toc["root"], *found]}


def test_there_are_notebooks():
    assert NOTEBOOKS, "no chapter notebooks found under book/"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_toc(nb_path):
    assert nb_path.relative_to(ROOT).with_suffix("").as_posix() in _toc_files()


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_with_fresh_outputs(nb_path):
    nb = json.loads(nb_path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{nb_path.name} has no code cell"
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(counts) + 1)), f"{nb_path.name}: re-run top to bottom ({counts})"
    for c in code:
        tags = c.get("metadata", {}).get("tags", [])
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if c.get("outputs") or "nbval-ignore-output" in tags:
            continue
        assert _silent_by_design(src), (
            f"{nb_path.name}: cell {c['execution_count']} lost its output (or prints nothing)"
        )


def _silent_by_design(src: str) -> bool:
    """A cell may have no output only if it neither prints nor ends in a displayed expression."""
    tree = ast.parse(src)
    if any(isinstance(n, ast.Call) and getattr(n.func, "id", None) in ("print", "say") for n in ast.walk(tree)):
        return False
    last = tree.body[-1] if tree.body else None
    return not (isinstance(last, ast.Expr) and not isinstance(last.value, ast.Call))


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_check_cells_end_in_assert(nb_path):
    """A cell that asserts must print its one summary line (so nbval compares something)."""
    nb = json.loads(nb_path.read_text())
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if re.search(r"^\s*assert\b", src, re.M) and "nbval-ignore-output" not in c.get("metadata", {}).get("tags", []):
            assert any(o.get("name") == "stdout" for o in c.get("outputs", [])), (
                f"{nb_path.name}: a check cell must print one stable summary line"
            )


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_printed_output_fits_the_column(nb_path):
    """No printed line is wider than the content column (the HTML check measures the same in the
    browser; a traceback wraps by the book's style and is not counted)."""
    nb = json.loads(nb_path.read_text())
    for c in nb["cells"]:
        for out in c.get("outputs", []):
            if out.get("output_type") == "stream":
                text = out["text"]
            elif "text/plain" in out.get("data", {}) and not set(out["data"]) - {"text/plain"}:
                text = out["data"]["text/plain"]
            else:
                continue
            text = "".join(text) if isinstance(text, list) else text
            wide = [line for line in text.splitlines() if len(line) > COLUMNS]
            assert not wide, f"{nb_path.name}, cell {c.get('execution_count')}: {wide[0][:100]!r}"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name)
def test_imports_are_folded(nb_path):
    """The cell that opens a chapter with its imports is folded (hide-input): out of the reader's way,
    still executed and checked."""
    nb = json.loads(nb_path.read_text())
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        lines = [line for line in src.splitlines() if line.strip()]
        if lines and sum(line.startswith(("import ", "from ")) for line in lines) >= 3:
            tags = c.get("metadata", {}).get("tags", [])
            assert "hide-input" in tags or "remove-input" in tags, f"{nb_path.name}: unfolded import cell"
