"""Tiny notebook writer for authors: ``python .ci/nb.py SPEC.py OUT.ipynb``.

SPEC.py defines CELLS, a list of (kind, source[, tags[, metadata]]) with kind "md" or "code".
The result has kernel python3; execute it with ``make execute NB=OUT.ipynb``.
"""

import runpy
import sys

import nbformat

spec = runpy.run_path(sys.argv[1])
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
nb.metadata["language_info"] = {"name": "python"}
for cell in spec["CELLS"]:
    kind, src, *rest = cell
    tags = rest[0] if rest else []
    meta = rest[1] if len(rest) > 1 else {}  # optional extra cell metadata, e.g. {"mystnb": {"figure": {...}}}
    c = nbformat.v4.new_markdown_cell(src.strip("\n")) if kind == "md" else nbformat.v4.new_code_cell(src.strip("\n"))
    if tags:
        c.metadata["tags"] = list(tags)
    c.metadata.update(meta)
    nb.cells.append(c)
nbformat.write(nb, sys.argv[2])
