"""Figures of the scaling chapter, in the style of :mod:`plotting` (legends beside or under the axes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .plotting import COLORS, PAGE_WIDTH, style

__all__ = ["draw_suite_counts", "draw_prior_growth", "draw_depth_width"]


def _clean(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def draw_suite_counts(S: np.ndarray):
    """Left: blocks against sum m, ours and the third-party count, with our bound 2 sum m + 2.
    Right: nonzero parameters against d sum m. Rows of ``S``: (N, sum m, d, blocks, third-party
    blocks, parameters)."""
    style()
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 4.4))
    fig.subplots_adjust(left=0.11, right=0.98, top=0.97, bottom=0.45, wspace=0.42)
    ax = axes[0]
    ax.scatter(S[:, 1], S[:, 3], c=COLORS[0], edgecolors="k", lw=0.5, label="ours (measured)", zorder=3)
    third = "third-party summary:\n" + r"$2\Sigma m+2N+1$"
    ax.scatter(S[:, 1], S[:, 4], c=COLORS[1], marker="^", edgecolors="k", lw=0.5, label=third)
    xs = np.arange(0, S[:, 1].max() + 2)
    ax.plot(xs, 2 * xs + 2, color="0.5", ls="--", lw=1, label=r"our bound $2\Sigma m+2$")
    ax.set_xlabel(r"$\Sigma_j m^j$")
    ax.set_ylabel("blocks")
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=2, bbox_to_anchor=(0.5, 0.0))
    ax = axes[1]
    ax.scatter(S[:, 2] * S[:, 1], S[:, 5], c=COLORS[2], marker="*", s=90, edgecolors="k", lw=0.5)
    ax.set_xlabel(r"$d\Sigma_j m^j$")
    ax.set_ylabel("nonzero parameters")
    for a in axes:
        _clean(a)
    return fig


def draw_prior_growth(ns: Sequence[int], params: dict, prior: Sequence[tuple], N: int, d: int):
    """Parameters of our model against n (log-log), with the orders of growth of prior results.

    ``prior`` holds (label, key, f(n, N, d), note) as in ``experiments.PRIOR_WORK``.
    """
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 4.6))
    fig.subplots_adjust(left=0.12, right=0.97, top=0.97, bottom=0.38)
    ax.loglog(ns, [params[n] for n in ns], "o-", color=COLORS[0], mec="k", label="this book (measured)")
    growth: list[tuple[str, Callable]] = [(label, f) for label, _key, f, _ in prior]
    for (label, f), c in zip(growth, COLORS[1:], strict=False):
        ax.loglog(ns, [f(n, N, d) for n in ns], "--", color=c, label=label + " (order)")
    ax.set_xlabel("input length $n$")
    ax.set_ylabel("parameters")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
    _clean(ax)
    return fig


def draw_depth_width(trade: Sequence[tuple], sum_m: int):
    """Blocks against the widest feed-forward layer (log axis), each point labelled with its
    nonzero parameters. ``trade`` holds (max_width, blocks, width, parameters)."""
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.6))
    fig.subplots_adjust(left=0.1, right=0.9, top=0.86, bottom=0.17)
    ws = [t[2] for t in trade]
    ax.plot(ws, [t[1] for t in trade], "o-", color=COLORS[0], mec="k")
    for _k, L, w, p in trade:
        ax.annotate(f"{p}", (w, L), textcoords="offset points", xytext=(6, 5))
    ax.set_xscale("log")
    ax.set_xlabel("widest feed-forward layer (neurons)")
    ax.set_ylabel("blocks")
    ax.set_title(rf"one dataset, $\Sigma m$ = {sum_m}; labels: nonzero parameters")
    _clean(ax)
    return fig
