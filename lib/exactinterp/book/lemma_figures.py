"""Figures of the model and lemma chapters (paper's Figures 2, 3, 4), in the style of :mod:`plotting`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .plotting import LEADER, LIGHT, arrow_between, as_float, draw_points, panel, panels, style

__all__ = ["architecture_diagram", "projection_figure", "before_after", "draw_direction", "draw_box"]

ORANGE_FILL = "#F6B26B"
BLUE_FILL = "#9FC5E8"


def _box(ax, x: float, y: float, w: float, h: float, fc: str, text: str = "", fs: float = 9, **kw) -> None:
    ax.add_patch(
        FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=fc, ec="0.25", lw=1, **kw)
    )
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fs)


def _arrow(ax, p: tuple, q: tuple) -> None:
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=10, lw=1, color="0.2"))


def architecture_diagram(labels: Sequence[str] = ("1", "2", "L")):
    """Figure 3: blocks TB^l, each a feed-forward layer FF^l followed by a self-attention layer SA^l."""
    style()
    fig, ax = plt.subplots(figsize=(9, 2.6))
    ax.set_xlim(0, 10.6)
    ax.set_ylim(-0.9, 2.3)
    ax.axis("off")
    xs = [0.2, 3.4, 7.6]
    for k, (x0, lab) in enumerate(zip(xs, labels, strict=True)):
        _box(ax, x0, 0, 2.8, 2.1, "#EEF2F7")
        ax.text(x0 + 1.4, 1.9, rf"Transformer Block $\mathbb{{TB}}^{{{lab}}}$", ha="center", va="center", fontsize=9)
        _box(ax, x0 + 0.15, 0.15, 1.15, 1.5, ORANGE_FILL, f"Feed-\nForward\nLayer\n$\\mathbb{{FF}}^{{{lab}}}$", 8)
        _box(ax, x0 + 1.5, 0.15, 1.15, 1.5, BLUE_FILL, f"Self-\nAttention\nLayer\n$\\mathbb{{SA}}^{{{lab}}}$", 8)
        _arrow(ax, (x0 + 1.32, 0.9), (x0 + 1.48, 0.9))
        if k == 0:
            _arrow(ax, (x0 + 2.85, 1.0), (xs[1] - 0.05, 1.0))
        if k == 1:
            _arrow(ax, (x0 + 2.85, 1.0), (x0 + 3.3, 1.0))
            ax.text(x0 + 3.55, 1.0, r"$\cdots$", ha="center", va="center", fontsize=12)
            _arrow(ax, (x0 + 3.8, 1.0), (xs[2] - 0.05, 1.0))
    _arrow(ax, (xs[0] + 0.72, -0.45), (xs[0] + 0.72, 0.12))
    ax.text(xs[0] + 0.72, -0.65, r"$X=\{x_1,\ldots,x_n\}$", ha="center", va="center", fontsize=10)
    _arrow(ax, (xs[2] + 2.07, 0.12), (xs[2] + 2.07, -0.45))
    ax.text(xs[2] + 1.6, -0.65, r"$\mathrm{T}(X)=\{\mathrm{T}_1(X),\ldots,\mathrm{T}_n(X)\}$", ha="center", fontsize=10)
    return fig


def projection_figure(X: Any, query: int, maximisers: Sequence[int], labels: bool = True):
    """Figure 2: a query x_q, the line R x_q, every token's projection foot; maximisers red."""
    style()
    P = as_float(X)
    q = P[query] / np.linalg.norm(P[query])
    fig, ax = plt.subplots(figsize=(3.6, 3.6))
    lim = 1.25 * np.abs(P).max()
    panel(ax, lim)
    ax.plot([-lim * q[0], lim * q[0]], [-lim * q[1], lim * q[1]], ls="--", color="0.45", lw=1, zorder=1)
    proj = P @ q
    for i, x in enumerate(P):
        if i == query:
            continue
        foot = proj[i] * q
        col = "#CC3311" if i in maximisers else LEADER
        ax.plot([x[0], foot[0]], [x[1], foot[1]], color=col, lw=1, zorder=2)
        draw_points(ax, x[None, :], color=col)
    draw_points(ax, P[query][None, :], color=LIGHT)
    if labels:
        for i, x in enumerate(P):
            ax.annotate(f"$x_{{{i + 1}}}$", x, xytext=(6, 4), textcoords="offset points", fontsize=10)
    return fig, ax


def draw_direction(ax, v: Sequence[Any], lim: float, label: str = "v", scale: float = 0.35) -> None:
    """Dotted line R v through the origin and an arrow v (as in Figure 4(a))."""
    vf = as_float(np.array([list(v)], dtype=object))[0]
    u = vf / np.linalg.norm(vf)
    ax.plot([-2 * lim * u[0], 2 * lim * u[0]], [-2 * lim * u[1], 2 * lim * u[1]], ls=":", color="0.5", lw=1, zorder=1)
    tip = scale * lim * u
    ax.annotate("", tip, (0, 0), arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2}, zorder=4)
    ax.annotate(f"${label}$", tip, xytext=(-12, 4), textcoords="offset points", fontsize=11)


def before_after(
    X: Any, Y: Any, leaders: Sequence[int], lim: float | tuple, label: str | None = None, size: float = 2.6
):
    """Figure 4 style: tokens before (leaders green) and after one layer (blue), a grey triangle between."""
    fig, (a0, a1) = panels(2, size=size)
    fig.subplots_adjust(wspace=0.35)
    for ax in (a0, a1):
        panel(ax, lim)
    X, Y = as_float(X), as_float(Y)
    others = [i for i in range(len(X)) if i not in set(leaders)]
    draw_points(a0, X[others], color=LIGHT)
    draw_points(a0, X[list(leaders)], color=LEADER)
    draw_points(a1, Y, color=LIGHT)
    a0.set_title("before")
    a1.set_title("after one layer")
    arrow_between(fig, a0, a1)
    if label:
        fig.text(0.5, 0.0, label, ha="center", va="bottom", fontsize=10)
    return fig, (a0, a1)


def draw_box(ax, R: Any, label: str = "R") -> None:
    """Dotted upper edges of the box [0, R]^2 and the tick labels R (as in Figure 4(b))."""
    r = float(R)
    ax.plot([0, r, r], [r, r, 0], ls=":", color="0.5", lw=1, zorder=1)
    ax.plot([r, r], [-0.04 * r, 0.04 * r], color="0.3", lw=0.8)
    ax.plot([-0.04 * r, 0.04 * r], [r, r], color="0.3", lw=0.8)
    ax.annotate(f"${label}$", (r, 0), xytext=(0, -13), textcoords="offset points", ha="center", fontsize=10)
    ax.annotate(f"${label}$", (0, r), xytext=(-12, 0), textcoords="offset points", va="center", fontsize=10)
