"""Printed output of the chapters, formatted to fit the book's content column."""

from __future__ import annotations

import textwrap

__all__ = ["COLUMNS", "say"]

#: Characters of code or output that fit the content column at 1280 px (book/_static/reader.css);
#: the chapters' code obeys the same limit (ruff, book/ruff.toml).
COLUMNS = 79


def say(*parts: object, sep: str = "", indent: str = "") -> None:
    """Print a check's summary line, wrapped at word boundaries to fit the column.

    The parts are joined with ``sep`` (so a long f-string can be written in short pieces). The
    first line starts with ``indent``; continuation lines are indented by two spaces, or aligned
    with the text after ``indent`` when one is given.
    """
    text = sep.join(str(p) for p in parts)
    print(
        textwrap.fill(
            text,
            COLUMNS,
            initial_indent=indent,
            subsequent_indent=" " * len(indent) if indent else "  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    )


def html_table(head: list[str], rows: list[list[str]], styled: bool = True) -> str:
    """An HTML table (header row, then one row per list of cell texts), for ``display(HTML(...))``;
    ``styled``: in the book theme's table style (padded cells: for tables of few columns)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for cells in rows)
    cls = ' class="table"' if styled else ""
    return f"<table{cls}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
