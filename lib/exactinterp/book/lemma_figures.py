"""Figures of the model and lemma chapters (paper's Figures 2, 3, 4), in the style of :mod:`plotting`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .plotting import COLORS, LEADER, LIGHT, PAGE_WIDTH, arrow_between, as_float, draw_points, panel, panels, style

__all__ = ["architecture_diagram", "projection_figure", "weights_figure", "before_after", "draw_direction", "draw_box"]

ORANGE_FILL = "#F6B26B"
BLUE_FILL = "#9FC5E8"


def _box(ax, x: float, y: float, w: float, h: float, fc: str, text: str = "", **kw) -> None:
    ax.add_patch(
        FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=fc, ec="0.25", lw=1, **kw)
    )
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", linespacing=1.15)


def _arrow(ax, p: tuple, q: tuple) -> None:
    ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=12, lw=1, color="0.2"))


def architecture_diagram(labels: Sequence[str] = ("1", "L")):
    """Figure 3: blocks TB^l, each a feed-forward layer FF^l followed by a self-attention layer SA^l.

    Drawn in inches on the page width: the first and the last block, with dots between them.
    """
    style()
    W, H = PAGE_WIDTH, 2.3
    fig = plt.figure(figsize=(W, H))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, W)
    ax.set_ylim(0, H)
    ax.axis("off")
    dots = 0.9  # room for the arrow, the dots and the arrow between the blocks
    bw = (W - 0.04 - dots) / 2  # block width
    w, pad, y0, h = (bw - 0.4) / 2, 0.1, 0.6, 1.25
    for k, lab in enumerate(labels):
        x0 = 0.02 + k * (bw + dots)
        _box(ax, x0, y0 - 0.1, bw, h + 0.48, "#EEF2F7")
        ax.text(x0 + bw / 2, y0 + h + 0.19, rf"Transformer Block $\mathbb{{TB}}^{{{lab}}}$", ha="center", va="center")
        _box(ax, x0 + pad, y0, w, h, ORANGE_FILL, f"Feed-\nForward\nLayer\n$\\mathbb{{FF}}^{{{lab}}}$")
        _box(ax, x0 + bw - pad - w, y0, w, h, BLUE_FILL, f"Self-\nAttention\nLayer\n$\\mathbb{{SA}}^{{{lab}}}$")
        _arrow(ax, (x0 + pad + w + 0.01, y0 + h / 2), (x0 + bw - pad - w - 0.01, y0 + h / 2))
        if k == 0:
            ym = y0 + h / 2
            _arrow(ax, (x0 + bw + 0.02, ym), (x0 + bw + 0.28, ym))
            ax.text(x0 + bw + dots / 2, ym, r"$\cdots$", ha="center", va="center")
            _arrow(ax, (x0 + bw + dots - 0.28, ym), (x0 + bw + dots - 0.02, ym))
    xin = 0.02 + pad + w / 2
    _arrow(ax, (xin, 0.3), (xin, y0 - 0.02))
    ax.text(0.04, 0.14, r"$X=\{x_1,\ldots,x_n\}$", ha="left", va="center")
    xout = 0.02 + bw + dots + bw - pad - w / 2
    _arrow(ax, (xout, y0 - 0.02), (xout, 0.3))
    ax.text(W - 0.04, 0.14, r"$\mathrm{T}(X)=\{\mathrm{T}_1(X),\ldots,\mathrm{T}_n(X)\}$", ha="right", va="center")
    return fig


def projection_figure(X: Any, query: int, maximisers: Sequence[int], labels: bool = True):
    """Figure 2: a query x_q, the line R x_q, every token's projection foot; maximisers red."""
    style()
    P = as_float(X)
    q = P[query] / np.linalg.norm(P[query])
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
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
            ax.annotate(f"$x_{{{i + 1}}}$", x, xytext=(7, 5), textcoords="offset points")
    return fig, ax


def weights_figure(taus: np.ndarray, W: np.ndarray, tied: Sequence[int]):
    """Softmax weights of one query against the temperature (log axis); the tied maximisers red.

    ``W[k, j]`` is the weight of token j at temperature ``taus[k]``; the legend sits right of the axes.
    """
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.3))
    others = iter([COLORS[0], COLORS[2], COLORS[2], "0.35", COLORS[4], COLORS[5]])
    dashes = iter(["-", "--", ":", "-.", "-", "--"])
    for j in range(W.shape[1]):
        tie = j in tied
        col = "#CC3311" if tie else next(others)
        ls = ("-" if j == tied[0] else "--") if tie else next(dashes)
        ax.plot(taus, W[:, j], color=col, ls=ls, lw=1.8, label=f"$x_{{{j + 1}}}$" + (" (tie)" if tie else ""))
    ax.axhline(0.5, color="0.6", lw=0.7, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(r"temperature $\tau$")
    ax.set_ylabel(r"weight $a_{1j}(\tau)$")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.subplots_adjust(left=0.13, right=0.77, bottom=0.17, top=0.97)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def draw_direction(ax, v: Sequence[Any], lim: float, label: str = "v", scale: float = 0.35) -> None:
    """Dotted line R v through the origin and an arrow v (as in Figure 4(a))."""
    vf = as_float(np.array([list(v)], dtype=object))[0]
    u = vf / np.linalg.norm(vf)
    ax.plot([-2 * lim * u[0], 2 * lim * u[0]], [-2 * lim * u[1], 2 * lim * u[1]], ls=":", color="0.5", lw=1, zorder=1)
    tip = scale * lim * u
    ax.annotate("", tip, (0, 0), arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2}, zorder=4)
    ax.annotate(f"${label}$", tip, xytext=(-14, 4), textcoords="offset points")


def before_after(
    X: Any, Y: Any, leaders: Sequence[int], lim: float | tuple, label: str | None = None, size: float | None = None
):
    """Figure 4 style: tokens before (leaders green) and after one layer (blue), a grey triangle between."""
    fig, (a0, a1) = panels(2, size=size, gap=0.3)
    fig.subplots_adjust(top=0.93)
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
        fig.text(0.5, 0.0, label, ha="center", va="top")
    return fig, (a0, a1)


def draw_box(ax, R: Any, label: str = "R") -> None:
    """Dotted upper edges of the box [0, R]^2 and the tick labels R (as in Figure 4(b))."""
    r = float(R)
    ax.plot([0, r, r], [r, r, 0], ls=":", color="0.5", lw=1, zorder=1)
    ax.plot([r, r], [-0.04 * r, 0.04 * r], color="0.3", lw=0.8)
    ax.plot([-0.04 * r, 0.04 * r], [r, r], color="0.3", lw=0.8)
    ax.annotate(f"${label}$", (r, 0), xytext=(0, -15), textcoords="offset points", ha="center")
    ax.annotate(f"${label}$", (0, r), xytext=(-14, 0), textcoords="offset points", va="center")
