"""The proof map: every numbered statement of the book as a node of a dependency graph.

One source of truth: the metadata lives in the statement's own directive, as three options that
this extension adds to sphinx-proof's directives::

    ```{prf:lemma} A corner leader absorbs the box (Lemma 4.2)
    :label: lem-corner
    :provenance: reconstructed
    :check: exact
    :uses: lem-corner-general
    ```

* ``provenance``: where the statement comes from (``paper``, ``reconstructed``, ``third-party``, ``ours``);
* ``check``: how the book checks it (``exact``, ``certified``, ``float``, ``none``);
* ``uses``: labels of the statements its proof uses (comma separated, may be empty or absent);
* ``number``: the paper's number of the statement (``4.1``), only where the paper numbers it.

One numbering: sphinx-proof's own counters are switched off (every ``prf`` directive is built as
if it had ``:nonumber:``), so a box reads "Lemma 4.1 (Two extreme tokens)" where the paper has the
number and "Lemma (General exact version)" where the statement is ours. An implicit
``{prf:ref}`` reads "Lemma 4.1", or the kind and name "Lemma (General exact version)".

Every lemma, proposition, theorem and corollary must carry ``provenance`` and ``check`` (a missing
or unknown value is a build warning, fatal in the strict build; ``tests/test_proofmap.py`` checks
the sources too). Each statement shows its metadata in a line under its text, and the directive
``{proofmap}`` draws the graph as an inline SVG (no external asset), each node linking to its
statement, followed by a table of all statements.
"""

from __future__ import annotations

import html
import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

#: sphinx-proof kinds that are statements (drawn in the map and required to carry metadata).
STATEMENT_KINDS = ("lemma", "proposition", "theorem", "corollary")
PROVENANCE = {
    "paper": "the paper (its abstract or figures)",
    "reconstructed": "reconstructed (strongly constrained by the figures and code; wording ours)",
    "third-party": "a third-party summary of the paper",
    "ours": "ours (not claimed to be in the paper)",
}
CHECKS = {
    "exact": "checked exactly, in rational arithmetic",
    "certified": "certified by rigorous ball arithmetic",
    "float": "checked numerically (floating point or mpmath), not rigorously",
    "none": "not checked by the book (proof only)",
}
#: Fill and stroke colours of the provenance classes (Paul Tol's bright palette, lightened fills).
COLOURS = {
    "paper": ("#cfe0f3", "#2b5b94"),
    "reconstructed": ("#d5efd9", "#2e7d4f"),
    "third-party": ("#fbe3c6", "#b8631a"),
    "ours": ("#eadcf2", "#7b3f98"),
    None: ("#eeeeee", "#777777"),
}


#: The form of a paper number given with ``:number:`` (the paper numbers its statements "4.1").
PAPER_NUMBER = re.compile(r"[1-9][0-9]*\.[1-9][0-9]*")


def parse_uses(value: str | None) -> list[str]:
    """The labels of a ``:uses:`` option (comma or space separated)."""
    return [u for u in re.split(r"[\s,]+", value or "") if u]


def metadata_problems(kind: str, options: dict[str, Any]) -> list[str]:
    """What is wrong with a statement's metadata (empty if nothing): shared by the build and the tests."""
    if kind not in STATEMENT_KINDS:
        return []
    label = options.get("label") or "(unlabelled)"
    problems = []
    if not options.get("label"):
        problems.append(f"a {kind} has no :label:")
    prov, check = options.get("provenance"), options.get("check")
    if not prov:
        problems.append(f"{label}: no :provenance: (one of {', '.join(PROVENANCE)})")
    elif prov not in PROVENANCE:
        problems.append(f"{label}: unknown provenance {prov!r} (one of {', '.join(PROVENANCE)})")
    if not check:
        problems.append(f"{label}: no :check: (one of {', '.join(CHECKS)})")
    elif check not in CHECKS:
        problems.append(f"{label}: unknown check {check!r} (one of {', '.join(CHECKS)})")
    if label in parse_uses(options.get("uses")):
        problems.append(f"{label}: uses itself")
    number = options.get("number")
    if number is not None and not PAPER_NUMBER.fullmatch(number):
        problems.append(f"{label}: :number: {number!r} is not a paper number such as 4.1")
    if number and prov not in ("paper", "reconstructed"):
        problems.append(f"{label}: :number: is the paper's number; a statement of provenance {prov!r} has none")
    return problems


_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{prf:(?P<kind>[a-z]+)\}[ \t]*(?P<title>.*)$")
_OPTION = re.compile(r"^:(?P<key>[a-z-]+):[ \t]*(?P<value>.*)$")


def source_statements(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(kind, title, options) of every sphinx-proof directive in MyST source text (fenced form)."""
    found = []
    lines = text.splitlines()
    for k, line in enumerate(lines):
        m = _FENCE.match(line.strip())
        if not m:
            continue
        opts: dict[str, str] = {}
        for nxt in lines[k + 1 :]:
            o = _OPTION.match(nxt.strip())
            if not o:
                break
            opts[o["key"]] = o["value"].strip()
        found.append((m["kind"], m["title"].strip(), opts))
    return found


def cycle(uses: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle among the statements, if there is one (a proof may not use itself)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for u in uses.get(v, []):
            if state.get(u) == 1:
                return stack[stack.index(u) :] + [u]
            if u in uses and not state.get(u):
                found = visit(u)
                if found:
                    return found
        stack.pop()
        state[v] = 2
        return None

    for v in uses:
        if not state.get(v):
            found = visit(v)
            if found:
                return found
    return None


# ----------------------------------------------------------------------------- the statements


def _patch_sphinx_proof(app) -> None:
    """Add the options to sphinx-proof's directives, switch its numbering off, record statements."""
    from sphinx_proof.directive import ElementDirective
    from sphinx_proof.domain import ProofDomain

    if getattr(ElementDirective, "_proofmap_patched", False):
        return
    ElementDirective.option_spec = {
        **ElementDirective.option_spec,
        "provenance": directives.unchanged,
        "check": directives.unchanged,
        "uses": directives.unchanged,
        "number": directives.unchanged,
    }
    original_run = ElementDirective.run

    def run(self):
        self.options["nonumber"] = None  # one numbering: the paper's (``:number:``) or a name
        result = original_run(self)
        kind = self.name.split(":")[1]
        if result:
            _name(self, kind, result[0])
        if kind in STATEMENT_KINDS and result:
            _record(self, kind, result[0])
        return result

    ElementDirective.run = run
    ElementDirective._proofmap_patched = True
    original_resolve = ProofDomain.resolve_xref

    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        ref = original_resolve(self, env, fromdocname, builder, typ, target, node, contnode)
        names = getattr(env, "proofmap_names", {})
        if ref is not None and target in names and not node.get("refexplicit"):
            ref.children = [c.deepcopy() for c in names[target]["ref"]]
        return ref

    ProofDomain.resolve_xref = resolve_xref


def _name(directive: SphinxDirective, kind: str, node: nodes.Element) -> None:
    """Put the paper's number into the title, and remember how an implicit reference reads."""
    title = node.children[0]
    number = directive.options.get("number")
    if number:
        title.insert(0, nodes.Text(number))
        ref = [nodes.Text(f"{kind.title()} {number}")]
    else:
        ref = [nodes.Text(kind.title() + " "), *(c.deepcopy() for c in title.children)]
    env = directive.env
    if not hasattr(env, "proofmap_names"):
        env.proofmap_names = {}
    env.proofmap_names[node["label"]] = {"docname": env.docname, "ref": ref}


def _record(directive: SphinxDirective, kind: str, node: nodes.Element) -> None:
    env, opts = directive.env, directive.options
    for problem in metadata_problems(kind, opts):
        if opts.get("label") in env.config.proofmap_pending:
            logger.info(f"proof map: {problem} (listed in proofmap_pending)")
        else:
            logger.warning(f"proof map: {problem}", location=(env.docname, directive.lineno))
    label = node["label"]
    prov, check = opts.get("provenance"), opts.get("check")
    uses = parse_uses(opts.get("uses"))
    if not hasattr(env, "proofmap_statements"):
        env.proofmap_statements = {}
    env.proofmap_statements[label] = {
        "docname": env.docname,
        "kind": kind,
        "title": directive.arguments[0] if directive.arguments else "",
        "provenance": prov if prov in PROVENANCE else None,
        "check": check if check in CHECKS else None,
        "uses": uses,
        "number": opts.get("number") or "",
        "order": (env.docname, directive.lineno),
    }
    node["classes"].extend(c for c in (f"prov-{prov}", f"check-{check}") if c)
    if prov in PROVENANCE and check in CHECKS:
        node.children[-1] += _metadata_line(env.docname, prov, check, uses, env.config.proofmap_page)


def _metadata_line(docname: str, prov: str, check: str, uses: list[str], page: str) -> nodes.paragraph:
    """'Provenance: ours · Checked: exactly · Uses: Lemma 3, Lemma 4 · proof map' under a statement."""
    para = nodes.paragraph(classes=["proofmap-meta"])
    para += nodes.strong(text="Provenance: ")
    para += nodes.Text(PROVENANCE[prov].split(" (")[0] + ". ")
    para += nodes.strong(text="Check: ")
    para += nodes.Text(CHECKS[check] + ". ")
    if uses:
        para += nodes.strong(text="Uses: ")
        for k, u in enumerate(uses):
            if k:
                para += nodes.Text(", ")
            para += addnodes.pending_xref(
                "", nodes.inline("", u), refdomain="prf", reftype="ref", reftarget=u, refdoc=docname, refexplicit=False
            )
        para += nodes.Text(". ")
    para += addnodes.pending_xref(
        "",
        nodes.inline(text="proof map"),
        refdomain="std",
        reftype="doc",
        reftarget="/" + page,
        refdoc=docname,
        refexplicit=True,
    )
    return para


def _purge(app, env, docname) -> None:
    stmts = getattr(env, "proofmap_statements", {})
    for label in [k for k, v in stmts.items() if v["docname"] == docname]:
        del stmts[label]
    names = getattr(env, "proofmap_names", {})
    for label in [k for k, v in names.items() if v["docname"] == docname]:
        del names[label]


def _merge(app, env, docnames, other) -> None:
    if not hasattr(env, "proofmap_statements"):
        env.proofmap_statements = {}
    if not hasattr(env, "proofmap_names"):
        env.proofmap_names = {}
    mine = {k: v for k, v in getattr(other, "proofmap_statements", {}).items() if v["docname"] in docnames}
    env.proofmap_statements.update(mine)
    names = getattr(other, "proofmap_names", {})
    env.proofmap_names.update({k: v for k, v in names.items() if v["docname"] in docnames})
    if getattr(other, "proofmap_docname", None) in docnames:
        env.proofmap_docname = other.proofmap_docname


def _no_figure_numbers(app, env) -> list[str]:
    """One numbering for figures too: no "Fig. N" counter; a caption names the paper's figure it
    redraws ("Figure 5") or says what it shows (sphinx-proof forces ``numfig`` on for its own use)."""
    for numbers in env.toc_fignumbers.values():
        numbers.pop("figure", None)
    return []


def figure_name(figure: nodes.Element) -> str:
    """How a reference names a figure: the bold words that open its caption ("Figure 5"), else
    "the figure"."""
    caption = next(iter(figure.findall(nodes.caption)), None)
    first = caption.children[0] if caption is not None and caption.children else None
    if isinstance(first, nodes.strong):
        return first.astext().rstrip(".,:")
    return "the figure"


def _patch_numref() -> None:
    """``{numref}`` of a figure still works without figure numbers: it links with the figure's name
    (or with the text given in the reference)."""
    from sphinx.domains.std import StandardDomain

    if getattr(StandardDomain, "_proofmap_patched", False):
        return
    original = StandardDomain._resolve_numref_xref

    def resolve(self, env, fromdocname, builder, typ, target, node, contnode):
        docname, labelid = self.labels.get(target, ("", "", ""))[:2] or ("", "")
        figure = env.get_doctree(docname).ids.get(labelid) if docname else None
        if figure is None or self.get_enumerable_node_type(figure) != "figure":
            return original(self, env, fromdocname, builder, typ, target, node, contnode)
        title = contnode.astext() if node.get("refexplicit") else figure_name(figure)
        return self.build_reference_node(fromdocname, builder, docname, labelid, title, "ref")

    StandardDomain._resolve_numref_xref = resolve
    StandardDomain._proofmap_patched = True


def _consistency(app, env) -> None:
    """Every ``uses`` names a statement, and the uses form no cycle."""
    stmts = getattr(env, "proofmap_statements", {})
    for label, s in stmts.items():
        for u in s["uses"]:
            if u not in stmts:
                msg = f"proof map: {label} uses {u!r}, which is not a numbered statement"
                logger.warning(msg, location=s["docname"])
    loop = cycle({k: v["uses"] for k, v in stmts.items()})
    if loop:
        logger.warning(f"proof map: dependency cycle {' -> '.join(loop)}")


# ----------------------------------------------------------------------------- the map


class proofmap_node(nodes.General, nodes.Element):
    """Placeholder replaced by the graph and the table once every document has been read."""


class ProofMapDirective(SphinxDirective):
    has_content = False

    def run(self):
        self.env.proofmap_docname = self.env.docname
        return [proofmap_node()]


def _outdated(app, env, added, changed, removed) -> list[str]:
    doc = getattr(env, "proofmap_docname", None)
    return [doc] if doc and (added or changed or removed) else []


def _number(s: dict) -> str:
    """'Lemma 4.1' for a statement with the paper's number, else the kind alone ('Lemma')."""
    return f"{s['kind'].title()} {s.get('number', '')}".strip()


def _resolve(app, doctree, fromdocname) -> None:
    env = app.builder.env
    stmts = getattr(env, "proofmap_statements", {})
    for node in list(doctree.findall(proofmap_node)):
        if not stmts:
            node.replace_self(nodes.paragraph(text="(no statements)"))
            continue
        items = _items(app, env, stmts, fromdocname)
        svg = render_svg(items)
        node.replace_self([nodes.raw("", svg, format="html"), _table(items)])


def _items(app, env, stmts: dict, fromdocname: str) -> list[dict]:
    chapters = env.found_docs
    order = {d: k for k, d in enumerate(_toc_order(env))}
    out = []

    def key(kv):
        return order.get(kv[1]["docname"], len(chapters)), kv[1]["order"][1]

    for label, s in sorted(stmts.items(), key=key):
        uri = app.builder.get_relative_uri(fromdocname, s["docname"]) + "#" + label
        out.append(
            {
                "label": label,
                "number": _number(s),
                "name": _number(s) if s.get("number") else f"{_number(s)} ({_short_title(s['title'])})",
                "title": s["title"],
                "chapter": env.titles[s["docname"]].astext() if s["docname"] in env.titles else s["docname"],
                "provenance": s["provenance"],
                "check": s["check"],
                "uses": [u for u in s["uses"] if u in stmts],
                "uri": uri,
            }
        )
    return out


def _toc_order(env) -> list[str]:
    """Documents in reading order (root first, then the toctree)."""
    seen: list[str] = []

    def walk(doc: str) -> None:
        if doc in seen:
            return
        seen.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(env.config.root_doc)
    return seen


def _table(items: list[dict]) -> nodes.table:
    table = nodes.table(classes=["proofmap-table"])
    group = nodes.tgroup(cols=5)
    table += group
    for w in (22, 26, 14, 12, 26):
        group += nodes.colspec(colwidth=w)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in ("statement", "chapter", "provenance", "check", "uses"):
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    body = nodes.tbody()
    group += body
    by_label = {it["label"]: it for it in items}
    for it in items:
        row = nodes.row()
        ref = nodes.reference("", "", internal=True, refuri=it["uri"])
        ref += nodes.Text(it["number"] + (f" ({it['title']})" if it["title"] else ""))
        row += nodes.entry("", nodes.paragraph("", "", ref))
        row += nodes.entry("", nodes.paragraph(text=it["chapter"]))
        row += nodes.entry("", nodes.paragraph(text=it["provenance"] or "missing"))
        row += nodes.entry("", nodes.paragraph(text=it["check"] or "missing"))
        para = nodes.paragraph()
        for k, u in enumerate(it["uses"]):
            if k:
                para += nodes.Text(", ")
            uref = nodes.reference("", "", internal=True, refuri=by_label[u]["uri"])
            uref += nodes.Text(by_label[u].get("name", by_label[u]["number"]))
            para += uref
        row += nodes.entry("", para)
        body += row
    return table


# ----------------------------------------------------------------------------- layout and SVG

BOX_W, BOX_H, COL_GAP, ROW_GAP, MARGIN, LEGEND_H, GRID_LABEL_H = 128, 50, 28, 10, 10, 74, 26


def layout(items: list[dict], sweeps: int = 8) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """(column, row) of every connected statement, and the list of isolated ones (no uses, unused).

    Column of a statement = 1 + the largest column among the statements it uses (0 if none), so
    every edge points to the right. Rows start in reading order and are then reordered by the
    barycentre of each statement's neighbours in the adjacent column, sweeping left and right.
    Isolated statements are drawn apart, in a grid under the graph.
    """
    uses = {it["label"]: it["uses"] for it in items}
    users: dict[str, list[str]] = {v: [] for v in uses}
    for v, us in uses.items():
        for u in us:
            users[u].append(v)
    isolated = [it["label"] for it in items if not uses[it["label"]] and not users[it["label"]]]
    col: dict[str, int] = {}

    def depth(v: str) -> int:
        if v not in col:
            col[v] = 1 + max((depth(u) for u in uses[v]), default=-1)
        return col[v]

    connected = [it["label"] for it in items if it["label"] not in isolated]
    for v in connected:
        depth(v)
    ncols = max(col.values(), default=-1) + 1
    columns = [[v for v in connected if col[v] == c] for c in range(ncols)]
    for k in range(sweeps):
        rng = range(1, ncols) if k % 2 == 0 else range(ncols - 2, -1, -1)
        for c in rng:
            nbr = columns[c - 1] if k % 2 == 0 else columns[c + 1]
            pos = {v: i for i, v in enumerate(nbr)}
            keyed = []
            for i, v in enumerate(columns[c]):
                links = [pos[u] for u in (uses[v] if k % 2 == 0 else users[v]) if u in pos]
                keyed.append((sum(links) / len(links) if links else i, i, v))
            columns[c] = [v for _, _, v in sorted(keyed)]
    return {v: (c, r) for c, vs in enumerate(columns) for r, v in enumerate(vs)}, isolated


def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    if cur:
        lines.append(cur)
    return lines


def _short_title(title: str) -> str:
    """The title without MathJax: '$...$' pieces are dropped (SVG text cannot typeset them)."""
    return re.sub(r"\s+", " ", re.sub(r"\$[^$]*\$", "…", title)).strip()


def render_svg(items: list[dict]) -> str:
    """The map as one inline SVG: legend, one linked box per statement, one arrow per use, isolated ones apart."""
    pos, isolated = layout(items)
    ncols = max([c for c, _ in pos.values()] + [0]) + 1
    nrows = max([r for _, r in pos.values()] + [-1]) + 1
    per_row = max(ncols, 1)
    grid_rows = -(-len(isolated) // per_row)
    width = 2 * MARGIN + ncols * BOX_W + (ncols - 1) * COL_GAP
    graph_h = nrows * (BOX_H + ROW_GAP)
    grid_top = MARGIN + LEGEND_H + graph_h + (GRID_LABEL_H if isolated else 0)
    height = grid_top + grid_rows * (BOX_H + ROW_GAP) + MARGIN

    def xy(label: str) -> tuple[float, float]:
        if label in pos:
            c, r = pos[label]
            return MARGIN + c * (BOX_W + COL_GAP), MARGIN + LEGEND_H + r * (BOX_H + ROW_GAP)
        k = isolated.index(label)
        return MARGIN + (k % per_row) * (BOX_W + COL_GAP), grid_top + (k // per_row) * (BOX_H + ROW_GAP)

    out = [
        f'<div class="proofmap-figure full-width"><svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="proof map" '
        f'font-family="sans-serif" font-size="9.5">',
        '<defs><marker id="pm-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#666"/></marker></defs>',
    ]
    out += _legend()
    if isolated:
        y = grid_top - 9
        note = "statements that use no other and that no other uses:"
        out.append(f'<text x="{MARGIN}" y="{y}" fill="#555">{note}</text>')
    by_label = {it["label"]: it for it in items}
    for it in items:
        x1, y1 = xy(it["label"])
        for u in it["uses"]:
            x0, y0 = xy(u)
            sx, sy, ex, ey = x0 + BOX_W, y0 + BOX_H / 2, x1, y1 + BOX_H / 2
            mid = (sx + ex) / 2
            out.append(
                f'<path d="M {sx:.1f} {sy:.1f} C {mid:.1f} {sy:.1f}, {mid:.1f} {ey:.1f}, {ex - 1:.1f} {ey:.1f}" '
                f'fill="none" stroke="#999" stroke-width="1" marker-end="url(#pm-arrow)">'
                f"<title>{html.escape(_name_of(it))} uses {html.escape(_name_of(by_label[u]))}</title></path>"
            )
    for it in items:
        out += _box(it, *xy(it["label"]))
    out.append("</svg></div>")
    return "\n".join(out)


def _name_of(it: dict) -> str:
    return it.get("name", it["number"])


def _frame(x: float, y: float, w: float, h: float, check: str | None, fill: str, stroke: str) -> list[str]:
    """The box; its border tells how the statement is checked."""
    base = f'x="{x:.1f}" y="{y:.1f}" width="{w}" height="{h}" rx="5" fill="{fill}" stroke="{stroke}"'
    if check == "exact":
        return [f'<rect {base} stroke-width="2.6"/>']
    if check == "certified":
        inner = f'x="{x + 3:.1f}" y="{y + 3:.1f}" width="{w - 6}" height="{h - 6}" rx="3" fill="none" stroke="{stroke}"'
        return [f'<rect {base} stroke-width="1.4"/>', f'<rect {inner} stroke-width="1.2"/>']
    if check == "float":
        return [f'<rect {base} stroke-width="1.8" stroke-dasharray="6 3"/>']
    return [f'<rect {base} stroke-width="1.2" stroke-dasharray="1.5 3"/>']


CHECK_TAG = {"exact": "exact", "certified": "certified", "float": "float", "none": "not checked", None: "missing"}


def _box(it: dict, x: float, y: float) -> list[str]:
    fill, stroke = COLOURS[it["provenance"]]
    tip = f"{_name_of(it)}: {it['title']} ({it['provenance'] or 'no provenance'}; {CHECK_TAG[it['check']]})"
    out = [f'<a href="{html.escape(it["uri"])}" xlink:href="{html.escape(it["uri"])}" class="proofmap-node">']
    out.append(f"<title>{html.escape(tip)}</title>")
    out += _frame(x, y, BOX_W, BOX_H, it["check"], fill, stroke)
    out.append(
        f'<text x="{x + 6:.1f}" y="{y + 13:.1f}" font-weight="bold" fill="#222">{html.escape(it["number"])}</text>'
    )
    out.append(
        f'<text x="{x + BOX_W - 6:.1f}" y="{y + 13:.1f}" text-anchor="end" font-size="8.5" fill="{stroke}">'
        f"{CHECK_TAG[it['check']]}</text>"
    )
    wrapped = _wrap(_short_title(it["title"]), 24)
    lines = wrapped[:2]
    if len(wrapped) > 2:
        lines[1] = lines[1][:22] + "…"
    for k, line in enumerate(lines):
        out.append(f'<text x="{x + 6:.1f}" y="{y + 27 + 11.5 * k:.1f}" fill="#333">{html.escape(line)}</text>')
    out.append("</a>")
    return out


def _legend() -> list[str]:
    out = []
    x, y = MARGIN, MARGIN
    out.append(f'<text x="{x}" y="{y + 10}" font-weight="bold">colour: provenance</text>')
    for k, (prov, _) in enumerate(PROVENANCE.items()):
        fill, stroke = COLOURS[prov]
        bx = x + k * 110
        out.append(f'<rect x="{bx}" y="{y + 18}" width="22" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>')
        out.append(f'<text x="{bx + 28}" y="{y + 29}">{prov}</text>')
    y2 = y + 52
    out.append(f'<text x="{x}" y="{y2 - 4}" font-weight="bold">border: how it is checked</text>')
    for k, check in enumerate(CHECKS):
        bx = x + k * 110
        out += _frame(bx, y2 + 2, 22, 14, check, "#ffffff", "#444")
        out.append(f'<text x="{bx + 28}" y="{y2 + 13}">{CHECK_TAG[check]}</text>')
    out.append(f'<text x="{x + 4 * 110 + 20}" y="{y2 + 13}" fill="#555">arrow A → B: the proof of B uses A</text>')
    return out


def setup(app) -> dict[str, Any]:
    app.setup_extension("sphinx_proof")
    app.add_config_value("proofmap_pending", [], "env")
    app.add_config_value("proofmap_page", "book/proof_map", "env")
    _patch_sphinx_proof(app)
    _patch_numref()
    app.add_node(proofmap_node)
    app.add_directive("proofmap", ProofMapDirective)
    app.add_css_file("proofmap.css")
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _consistency)
    app.connect("env-get-updated", _no_figure_numbers, priority=900)
    app.connect("env-get-outdated", _outdated)
    app.connect("doctree-resolved", _resolve)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
