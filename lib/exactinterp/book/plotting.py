"""One place for the paper-like figure style.

Sequences are drawn as blue circles, orange triangles, green stars (then more markers);
targets as diamonds of the matching colour; leaders green in the lemma figures. Panels are
square with thin axes through the origin and no ticks, as in the paper's figures.

Sizes are chosen for the page: a figure is at most :data:`PAGE_WIDTH` inches wide, drawn at
100 pixels per inch and shown at that size in the book's content column (688 px at a 1280 px
window), so 12-point text is 16.7 px, at least the body text's 16 px. Inside a notebook kernel
figures are "retina" PNGs (200 pixels per inch, displayed at half their pixel size).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import matplotlib

if "ipykernel" not in sys.modules:  # inside a notebook kernel keep the inline backend (figures in outputs)
    matplotlib.use("Agg", force=False)
    set_matplotlib_formats = None
else:
    from matplotlib_inline.backend_inline import set_matplotlib_formats
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..core.numbers import to_float_array  # noqa: E402

__all__ = [
    "COLORS",
    "MARKERS",
    "PAGE_WIDTH",
    "FONT_SIZE",
    "LIGHT",
    "LEADER",
    "style",
    "panel",
    "panels",
    "draw_sequences",
    "draw_targets",
    "draw_points",
    "arrow_between",
    "as_float",
]

#: Blue, orange, green as in the paper, then further colours.
COLORS = ["#56B4E9", "#E69F00", "#3BB273", "#CC79A7", "#D55E00", "#0072B2", "#999999", "#F0E442"]
#: Circles, triangles, stars, then further markers.
MARKERS = ["o", "^", "*", "s", "P", "X", "v", "h"]
LIGHT = "#56B4E9"
LEADER = "#3BB273"
_SIZES = {"o": 60, "^": 66, "*": 110, "s": 52, "P": 70, "X": 70, "v": 66, "h": 70}
#: Sequence j is drawn smaller than sequence j - 1, so a token shared by two sequences shows both markers.
_SHRINK = (1.0, 0.55, 0.4, 0.3, 0.25, 0.22, 0.2, 0.18)
#: Widest figure, in inches: with the 0.1 in padding of a tight bounding box it is 670 px wide, inside
#: the content column at a 1280 px window (688 px) at 100 px per inch.
PAGE_WIDTH = 6.5
#: Smallest text in a figure, in points: 12 pt at 100 px per inch is 16.7 px, above the body text's 16 px.
FONT_SIZE = 12


def style() -> None:
    """Matplotlib defaults for every figure of the book (and retina PNGs inside a notebook)."""
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "font.size": FONT_SIZE,
            "font.family": "serif",
            "mathtext.fontset": "cm",
            "axes.titlesize": FONT_SIZE,
            "axes.labelsize": FONT_SIZE,
            "xtick.labelsize": FONT_SIZE,
            "ytick.labelsize": FONT_SIZE,
            "legend.fontsize": FONT_SIZE,
            "legend.handlelength": 1.6,
            "legend.borderaxespad": 0.3,
            "axes.linewidth": 0.8,
            "legend.frameon": False,
        }
    )
    if set_matplotlib_formats is not None:
        set_matplotlib_formats("retina")


def as_float(X: Any) -> np.ndarray:
    """float64 view of a token array (exact rationals converted at this plotting boundary)."""
    arr = np.asarray(X)
    if arr.dtype == object:
        return to_float_array(arr)
    return arr.astype(float)


def panel(ax, lim: float | tuple[float, float, float, float] = 1.0, label: str | None = None) -> None:
    """Square panel with axes through the origin, no ticks, optional '(a)' label bottom-left."""
    if isinstance(lim, (int, float)):
        lim = (-lim, lim, -lim, lim)
    x0, x1, y0, y1 = lim
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.axhline(0, color="0.55", lw=0.6, zorder=0)
    ax.axvline(0, color="0.55", lw=0.6, zorder=0)
    if label:
        ax.text(0.03, 0.04, label, transform=ax.transAxes, va="bottom", ha="left")


def panels(n: int, size: float | None = None, rows: int = 1, gap: float = 0.45):
    """A row (or grid) of square panels filling the page width (``size`` inches each if given).

    ``gap`` is the space between panels as a fraction of a panel (room for the grey arrows).
    """
    style()
    cols = int(np.ceil(n / rows))
    if size is None:
        size = PAGE_WIDTH / (cols + gap * (cols - 1))
    fig, axes = plt.subplots(rows, cols, figsize=(size * (cols + gap * (cols - 1)), size * rows * 1.02))
    fig.subplots_adjust(left=0.0, right=1.0, top=1.0, bottom=0.0, wspace=gap, hspace=0.12)
    axes = np.atleast_1d(axes).ravel()
    for ax in axes[n:]:
        ax.axis("off")
    return fig, axes


def draw_points(ax, X: Any, color: str = LIGHT, marker: str = "o", size: float | None = None, **kw) -> None:
    X = as_float(X)
    if len(X) == 0:
        return
    s = size if size is not None else _SIZES.get(marker, 60)
    kw.setdefault("zorder", 3)
    ax.scatter(X[:, 0], X[:, 1], s=s, c=color, marker=marker, edgecolors="black", linewidths=0.7, **kw)


def draw_sequences(ax, seqs: Sequence[Any], size: float | None = None) -> None:
    """Sequence j in colour j and marker j (blue circles, orange triangles, green stars, ...).

    Later sequences are drawn smaller and on top, so a token shared by several sequences shows
    every marker (a small star inside a triangle inside a circle) instead of hiding the first.
    """
    for j, X in enumerate(seqs):
        mk = MARKERS[j % len(MARKERS)]
        shape = _SIZES.get(mk, 60) / 60  # a star needs more area than a circle to look as large
        s = (size if size is not None else 110) * shape * _SHRINK[min(j, len(_SHRINK) - 1)]
        draw_points(ax, X, COLORS[j % len(COLORS)], mk, size=s, zorder=3 + 0.1 * j)


def draw_targets(ax, targets: Sequence[Any], size: float = 110) -> None:
    """Targets as light diamonds of the sequence's colour."""
    for j, Y in enumerate(targets):
        Y = as_float(Y)
        ax.scatter(
            Y[:, 0], Y[:, 1], s=size, c=COLORS[j % len(COLORS)], marker="D", alpha=0.55, edgecolors="none", zorder=2
        )


def arrow_between(fig, ax_from, ax_to) -> None:
    """The grey triangle the paper puts between consecutive panels."""
    b0, b1 = ax_from.get_position(), ax_to.get_position()
    x = (b0.x1 + b1.x0) / 2
    y = (b0.y0 + b0.y1) / 2
    w = (b1.x0 - b0.x1) * 0.5
    tri = plt.Polygon(
        [[x - w / 2, y - w], [x - w / 2, y + w], [x + w / 2, y]],
        closed=True,
        transform=fig.transFigure,
        color="0.7",
        clip_on=False,
    )
    fig.add_artist(tri)
