"""One place for the paper-like figure style.

Sequences are drawn as blue circles, orange triangles, green stars (then more markers);
targets as diamonds of the matching colour; leaders green in the lemma figures. Panels are
square with thin axes through the origin and no ticks, as in the paper's figures.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import matplotlib

if "ipykernel" not in sys.modules:  # inside a notebook kernel keep the inline backend (figures in outputs)
    matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..core.numbers import to_float_array  # noqa: E402

__all__ = [
    "COLORS",
    "MARKERS",
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
_SIZES = {"o": 46, "^": 52, "*": 90, "s": 40, "P": 55, "X": 55, "v": 52, "h": 55}


def style() -> None:
    """Matplotlib defaults for every figure of the book."""
    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "font.size": 10,
            "font.family": "serif",
            "mathtext.fontset": "cm",
            "axes.titlesize": 10,
            "axes.linewidth": 0.8,
            "legend.frameon": False,
        }
    )


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
        ax.text(0.03, 0.04, label, transform=ax.transAxes, fontsize=10, va="bottom", ha="left")


def panels(n: int, size: float = 2.3, rows: int = 1):
    """A row (or grid) of square panels."""
    style()
    cols = int(np.ceil(n / rows))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows))
    return fig, np.atleast_1d(axes).ravel()


def draw_points(ax, X: Any, color: str = LIGHT, marker: str = "o", size: float | None = None, **kw) -> None:
    X = as_float(X)
    if len(X) == 0:
        return
    s = size if size is not None else _SIZES.get(marker, 46)
    ax.scatter(X[:, 0], X[:, 1], s=s, c=color, marker=marker, edgecolors="black", linewidths=0.7, zorder=3, **kw)


def draw_sequences(ax, seqs: Sequence[Any], size: float | None = None) -> None:
    """Sequence j in colour j and marker j (blue circles, orange triangles, green stars, ...)."""
    for j, X in enumerate(seqs):
        draw_points(ax, X, COLORS[j % len(COLORS)], MARKERS[j % len(MARKERS)], size=size)


def draw_targets(ax, targets: Sequence[Any], size: float = 70) -> None:
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
