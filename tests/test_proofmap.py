"""The proof map's metadata: every numbered statement says where it comes from and how it is checked.

The metadata lives in each statement's directive (``:provenance:``, ``:check:``, ``:uses:``) and is
read at build time by :mod:`exactinterp.book.proofmap`; these tests read the same sources, so a
statement that loses its metadata fails here as well as in the strict build.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

from exactinterp.book.proofmap import (
    CHECKS,
    PAPER_NUMBER,
    PROVENANCE,
    STATEMENT_KINDS,
    cycle,
    layout,
    metadata_problems,
    parse_uses,
    render_svg,
    source_statements,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
PENDING = set(yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"].get("proofmap_pending", []))


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def _statements() -> list[tuple[str, str, str, dict]]:
    return [
        (path.name, kind, title, opts)
        for path in SOURCES
        for kind, title, opts in source_statements(_markdown(path))
        if kind in STATEMENT_KINDS
    ]


STATEMENTS = _statements()
LABELS = {opts.get("label") for *_, opts in STATEMENTS}


def test_the_book_has_statements():
    assert len(STATEMENTS) >= 20


@pytest.mark.parametrize("stmt", STATEMENTS, ids=lambda s: s[3].get("label", s[2]))
def test_statement_has_provenance_and_check(stmt):
    name, kind, _, opts = stmt
    if opts.get("label") in PENDING:
        pytest.skip(f"{opts['label']} is listed in proofmap_pending (_config.yml)")
    assert metadata_problems(kind, opts) == [], name


def test_uses_name_statements_and_form_no_cycle():
    uses = {opts["label"]: parse_uses(opts.get("uses")) for *_, opts in STATEMENTS if opts.get("label")}
    unknown = {(k, u) for k, us in uses.items() for u in us if u not in uses}
    assert unknown == set()
    assert cycle(uses) is None


def test_pending_lists_only_statements_that_lack_metadata():
    """The exemption cannot outlive the fix: a pending label must exist and still lack its metadata."""
    by_label = {opts.get("label"): (kind, opts) for _, kind, _, opts in STATEMENTS}
    for label in PENDING:
        assert label in by_label, f"{label} is pending but no statement has this label"
        assert metadata_problems(*by_label[label]), f"{label} has its metadata now: remove it from proofmap_pending"


def test_removing_metadata_is_caught():
    """Delete the provenance, then the check, of every real statement: the checker must object each time."""
    for _, kind, _, opts in STATEMENTS:
        if opts.get("label") in PENDING:
            continue
        for key in ("provenance", "check"):
            broken = {k: v for k, v in opts.items() if k != key}
            assert any(key in p for p in metadata_problems(kind, broken)), (opts["label"], key)
    text = "```{prf:lemma} A\n:label: lem-a\n:provenance: ours\n:check: exact\nBody.\n```\n"
    [(kind, _, opts)] = source_statements(text)
    assert metadata_problems(kind, opts) == []
    [(kind, _, opts)] = source_statements(text.replace(":check: exact\n", ""))
    assert metadata_problems(kind, opts) == ["lem-a: no :check: (one of " + ", ".join(CHECKS) + ")"]
    [(kind, _, opts)] = source_statements(text.replace("ours", "folklore"))
    assert "unknown provenance" in metadata_problems(kind, opts)[0]


def test_a_cycle_is_found():
    assert cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert cycle({"a": ["b"], "b": [], "c": ["a", "b"]}) is None


def _items():
    items = []
    for _, kind, title, opts in STATEMENTS:
        label = opts["label"]
        items.append(
            {
                "label": label,
                "number": f"{kind.title()} {len(items) + 1}",
                "title": title,
                "chapter": "",
                "provenance": opts.get("provenance") if opts.get("provenance") in PROVENANCE else None,
                "check": opts.get("check") if opts.get("check") in CHECKS else None,
                "uses": parse_uses(opts.get("uses")),
                "uri": f"x.html#{label}",
            }
        )
    return items


def test_layout_points_every_edge_to_the_right():
    items = _items()
    pos, isolated = layout(items)
    assert set(pos) | set(isolated) == LABELS and not set(pos) & set(isolated)
    for it in items:
        for u in it["uses"]:
            assert pos[u][0] < pos[it["label"]][0], (u, it["label"])
    assert len(set(pos.values())) == len(pos)  # no two boxes in one place


def test_svg_links_every_statement_and_draws_every_use():
    items = _items()
    svg = render_svg(items)
    for it in items:
        assert f'href="x.html#{it["label"]}"' in svg
    assert svg.count("marker-end=") == sum(len(it["uses"]) for it in items)
    assert not re.search(r"(https?:)?//(?!www\.w3\.org/)", svg)  # no external asset


def test_one_numbering():
    """A statement carries the paper's number (``:number:``) or a name, never both numbers at once:
    no title repeats a paper number ("Two extreme tokens (Lemma 4.1)"), every number has the
    paper's form, and the paper's lemmas that the book states are numbered as in the paper."""
    numbered = {}
    for name, kind, title, opts in STATEMENTS:
        assert not re.search(r"\((Lemma|Theorem|Proposition|Corollary) \d", title), (name, title)
        if "number" in opts:
            assert PAPER_NUMBER.fullmatch(opts["number"]), (name, opts["number"])
            numbered[opts["label"]] = f"{kind.title()} {opts['number']}"
    assert numbered == {
        "lem-two-extremes": "Lemma 4.1",
        "lem-corner": "Lemma 4.2",
        "lem-sphere": "Lemma 4.3",
    }


def test_a_paper_number_needs_a_paper_statement():
    text = "```{prf:lemma} A\n:label: lem-a\n:provenance: ours\n:check: exact\n:number: 4.1\nBody.\n```\n"
    [(kind, _, opts)] = source_statements(text)
    assert any("has none" in p for p in metadata_problems(kind, opts))
    [(kind, _, opts)] = source_statements(text.replace("ours", "reconstructed"))
    assert metadata_problems(kind, opts) == []
    [(kind, _, opts)] = source_statements(text.replace("ours", "paper").replace("4.1", "Lemma 4.1"))
    assert any("not a paper number" in p for p in metadata_problems(kind, opts))
