"""Figures of the robustness chapter, in the style of :mod:`plotting`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .plotting import COLORS, PAGE_WIDTH, arrow_between, as_float, draw_sequences, draw_targets, panel, panels, style

__all__ = ["draw_outputs", "draw_sweeps", "draw_traces"]

FLOOR = 1e-17  # deviations of exactly zero are drawn at this floor on the log axes


def draw_outputs(outputs: Sequence[Sequence[Any]], targets: Sequence[Any], titles: Sequence[str], clip: float = 4.3):
    """One panel per arithmetic (exact, float64, float32) with the outputs on their target diamonds."""
    fig, axes = panels(len(outputs), gap=0.45)
    fig.subplots_adjust(top=0.88)
    for ax, outs, title in zip(axes, outputs, titles, strict=True):
        panel(ax, (-4.5, 4.5, -4.5, 4.5))
        draw_targets(ax, targets)
        draw_sequences(ax, [np.clip(as_float(Y), -clip, clip) for Y in outs])
        ax.set_title(title)
    for a, b in zip(axes[:-1], axes[1:], strict=True):
        arrow_between(fig, a, b)
    return fig


def draw_sweeps(scales: Sequence[int], sweep_scale: dict, depths: Sequence[int], sweep_depth: dict):
    """Left: relative deviation against the data scale 10^k. Right: against sum m, narrow and wide."""
    style()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 4.6))
    fig.subplots_adjust(left=0.11, right=0.98, top=0.97, bottom=0.42, wspace=0.3)
    d64 = [max(v[0], FLOOR) for v in sweep_scale.values()]
    d32 = [max(v[1], FLOOR) for v in sweep_scale.values()]
    a1.semilogy(scales, d64, "o-", color=COLORS[0], mec="black", label="float64")
    a1.semilogy(scales, d32, "^-", color=COLORS[1], mec="black", label="float32")
    a1.axhline(1e-2, color="0.5", ls=":", lw=1)
    a1.set_xlabel(r"data scale $10^k$: $k$")
    a1.set_ylabel("relative deviation")
    v = np.array([sweep_depth[s] for s in depths], dtype=float)
    a2.loglog(depths, np.maximum(v[:, 2], FLOOR), "o-", color=COLORS[0], mec="black", label="float64, width 4")
    a2.loglog(depths, np.maximum(v[:, 3], FLOOR), "^-", color=COLORS[1], mec="black", label="float32, width 4")
    a2.loglog(depths, np.maximum(v[:, 4], FLOOR), "o--", color=COLORS[0], mfc="white", label="float64, wide")
    a2.loglog(depths, np.maximum(v[:, 5], FLOOR), "^--", color=COLORS[1], mfc="white", label="float32, wide")
    a2.axhline(1e-2, color="0.5", ls=":", lw=1)
    a2.set_xlabel(r"$\Sigma_j m^j$")
    fig.legend(*a2.get_legend_handles_labels(), loc="lower center", ncol=2, bbox_to_anchor=(0.5, 0.0))
    return fig


def draw_traces(traces: dict, keys: Sequence[str], titles: Sequence[str]):
    """Drift after each block, float64 and float32, for each dataset key; crosses mark the score
    error at a hardmax layer, dotted lines half its exact margin."""
    style()
    fig, axes = plt.subplots(1, len(keys), figsize=(PAGE_WIDTH, 3.9))
    fig.subplots_adjust(left=0.13, right=0.98, top=0.92, bottom=0.3, wspace=0.1)
    axes[1].sharey(axes[0])
    axes[1].tick_params(labelleft=False)
    for ax, key, title in zip(axes, keys, titles, strict=True):
        for dt, col, mk in (("float64", COLORS[0], "o"), ("float32", COLORS[1], "^")):
            tr = traces[key, dt]
            dev = np.maximum([t.deviation for t in tr], FLOOR)
            ax.semilogy(range(len(tr)), dev, mk + "-", color=col, mec="black", ms=5, label=dt)
            for t in tr:
                if t.margin is not None:
                    ax.axvline(t.block, color="0.6", lw=0.8, ls="--")
                    ax.semilogy([t.block], [max(t.score_error, FLOOR)], "x", color=col, ms=9)
                    ax.axhline(float(t.margin) / 2, color="0.6", lw=0.8, ls=":")
        ax.set_title(title)
        ax.set_xlabel("block")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[0].set_ylabel("drift after the block")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], ls="", marker="x", color="0.3", ms=9))
    labels.append("score error at a hardmax layer")
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0), columnspacing=1.0)
    return fig
