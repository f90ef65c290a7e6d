"""Figures of the two learning chapters, in the style of :mod:`plotting` (legends beside or under the axes).

* :func:`draw_figure1a`, :func:`draw_figure1b` and :func:`draw_starts`: the learning chapter (the paper's
  Figures 1a and 1b re-run, and the same training from other random starts);
* :func:`draw_reached_losses` and :func:`draw_norms`: the learning_construction chapter (trained points
  against the bound with theta* from the construction; the norms of constructions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .plotting import COLORS, PAGE_WIDTH, style

__all__ = ["draw_figure1a", "draw_figure1b", "draw_starts", "draw_reached_losses", "draw_norms"]

#: Dark blue for loss curves (the paper's "Training Loss"), red for the Tikhonov threshold and bound.
LOSS = "#0072B2"
BOUND = "#D62728"


def _clean(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _epochs(losses: np.ndarray) -> np.ndarray:
    return np.arange(1, len(losses) + 1)


def draw_figure1a(losses: np.ndarray, threshold: float):
    """The paper's Figure 1a: training loss against epochs (log-log) with the Tikhonov threshold."""
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.7))
    fig.subplots_adjust(left=0.13, right=0.97, top=0.86, bottom=0.16)
    ax.loglog(_epochs(losses), losses, color=LOSS, lw=1.2, label="Training Loss")
    ax.hlines(threshold, 1, len(losses), colors=BOUND, linestyles="--", label="Tikhonov threshold")
    ax.set_xlabel("epochs")
    ax.set_ylabel("loss")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    _clean(ax)
    return fig


def draw_figure1b(eps: Sequence[float], warm: np.ndarray, independent: np.ndarray, bound: np.ndarray):
    """The paper's Figure 1b: minimal training loss against eps, warm-started and independent runs,
    with the slope-1 line through the first warm point and the bound eps ||theta*||^2."""
    style()
    e = np.asarray(eps, dtype=float)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 4.4))
    fig.subplots_adjust(left=0.13, right=0.97, top=0.97, bottom=0.36)
    ax.loglog(e, e / e[0] * warm[0], "--", color="0.5", label="Linear Scaling")
    ax.loglog(e, bound, ":", color=BOUND, lw=1.6, label=r"bound $\varepsilon\|\theta^*\|^2$")
    ax.loglog(e, warm, "o-", color=COLORS[0], mec="black", ms=8, label="Minimal Training Loss (warm start)")
    ax.loglog(e, independent, "^-", color=COLORS[1], mec="black", ms=7, label="independent runs")
    ax.set_xlabel(r"$\varepsilon$")
    ax.set_ylabel("minimum loss")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    _clean(ax)
    return fig


def draw_starts(curves: Sequence[tuple[str, np.ndarray]], threshold: float):
    """Training loss against epochs for several random starts (label, losses), with the threshold."""
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.7))
    fig.subplots_adjust(left=0.13, right=0.97, top=0.8, bottom=0.16)
    colors = [LOSS, COLORS[2], COLORS[3], COLORS[1]]
    for (label, L), c in zip(curves, colors, strict=False):
        ax.loglog(_epochs(L), L, color=c, lw=1.2, label=label)
    ax.hlines(threshold, 1, max(len(L) for _, L in curves), colors=BOUND, linestyles="--", label="Tikhonov threshold")
    ax.set_xlabel("epochs")
    ax.set_ylabel("loss")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    _clean(ax)
    return fig


def _points(ax, runs: Sequence[Any], marker: str, **kw) -> None:
    """Reached loss against eps of some trained runs, black-edged markers."""
    ax.loglog([r.eps for r in runs], [r.loss for r in runs], marker, mec="black", ls="", **kw)


def draw_reached_losses(settings: Mapping[str, Any], runs: Mapping[str, Sequence[Any]]):
    """Reached loss against eps for each setting (one panel each): random starts (circles), starts at
    theta* with the trainer's learning rate 1e-3 (stars), the authors' rho = eta = 0 start (square),
    the bound eps ||theta*||^2 (dashed), E(0) and eps_vacuous (dotted).

    ``settings`` maps a name to an :class:`exactinterp.book.learning.Setting`, ``runs`` the same name to its
    :class:`exactinterp.book.learning.Trained` runs."""
    style()
    fig, axes = plt.subplots(1, len(settings), figsize=(PAGE_WIDTH, 4.3), sharey=True)
    fig.subplots_adjust(left=0.14, right=0.98, top=0.93, bottom=0.32, wspace=0.12)
    e = np.logspace(-23, -1, 50)
    for ax, (name, s) in zip(np.atleast_1d(axes), settings.items(), strict=True):
        rs = runs[name]
        rand = [r for r in rs if r.start.startswith("init") and "0," not in r.start]
        star = [r for r in rs if r.start == "theta*" and r.lr == 1e-3]
        zero = [r for r in rs if "rho = eta = 0" in r.start]
        ax.loglog(e, e * float(s.norm_sq), "--", color=BOUND, label=r"bound $\varepsilon\|\theta^*\|^2$")
        ax.axhline(s.loss_zero, color="0.4", ls=":", label=r"$\mathcal{E}(0)$; $\varepsilon_{\rm vac}$")
        ax.axvline(s.eps_vacuous, color="0.4", ls=":", lw=0.8)
        _points(ax, rand, "o", color=COLORS[0], label="random start")
        _points(ax, star, "*", ms=13, color=COLORS[2], label=r"start at $\theta^*$")
        _points(ax, zero, "s", color=COLORS[1], label=r"$\rho=\eta=0$ start")
        ax.set_ylim(1e-12, 1e13)
        ax.set_xticks([1e-22, 1e-17, 1e-12, 1e-7, 1e-2])
        ax.minorticks_off()
        ax.set_xlabel(r"$\varepsilon$")
        ax.set_title(name)
        _clean(ax)
    first = np.atleast_1d(axes)[0]
    first.set_ylabel(r"reached loss $\mathcal{E}(\theta_T)$")
    fig.legend(*first.get_legend_handles_labels(), loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0))
    return fig


#: The four axes of the norm sweep: (key of SweepRow.axis, attribute plotted, label of the x axis, ticks).
SWEEP_AXES = (
    ("N", "N", "$N$", (2, 4, 8, 16)),
    ("m_max", "sum_m", r"$\Sigma_j m^j$", (4, 6, 8, 12)),
    ("d", "d", "$d$", (2, 3, 4, 8)),
    ("scale", "scale", "data scale", (1 / 16, 1, 16)),
)


def _tick_label(t: float) -> str:
    return f"{t:g}" if t >= 1 else f"1/{1 / t:g}"


def draw_norms(sweep: Sequence[Any], settings: Mapping[str, Any], runs: Mapping[str, Sequence[Any]]):
    """Top row: exact ||theta*||^2 of the hardmax (open circles) and softmax (triangles) constructions of the
    sweep against N, sum m, d and the data scale; on the N axis the chapter's datasets (||theta*||^2, black
    diamonds) and their trained points at eps <= 1e-7 (stars). Bottom row: eps_vacuous = E(0) / ||theta*||^2.

    ``sweep`` holds :class:`exactinterp.book.learning.SweepRow`; ``settings`` and ``runs`` as in
    :func:`draw_reached_losses`."""
    style()
    fig, axes = plt.subplots(2, 4, figsize=(PAGE_WIDTH, 5.4), sharey="row")
    fig.subplots_adjust(left=0.15, right=0.99, top=0.98, bottom=0.26, wspace=0.12, hspace=0.45)
    for col, (axis, attr, label, ticks) in enumerate(SWEEP_AXES):
        rows = [r for r in sweep if r.axis == axis]
        x = np.array([float(getattr(r, attr)) for r in rows])
        ax, ax2 = axes[0, col], axes[1, col]
        hard, soft = [float(r.norm_hardmax) for r in rows], [float(r.norm_softmax) for r in rows]
        ax.loglog(x, hard, "o", mfc="none", mec=LOSS, ms=8, label="hardmax construction")
        ax.loglog(x, soft, "^", color=COLORS[1], mec="black", ms=5, label="softmax construction")
        if axis == "N":
            for k, (name, s) in enumerate(settings.items()):
                first = k == 0
                rand = [r for r in runs[name] if r.start in ("init 0", "init 1") and r.eps <= 1e-7]
                star_label = r"$\|\theta^*\|^2$, this chapter" if first else None
                ax.loglog([s.ds.N], [float(s.norm_sq)], "D", color="black", ms=6, label=star_label)
                trained = [r.norm_sq for r in rand]
                trained_label = r"trained $\|\theta_T\|^2$, this chapter" if first else None
                ax.loglog([s.ds.N] * len(rand), trained, "*", ms=11, color=COLORS[2], mec="black", label=trained_label)
        ax2.loglog(x, [r.eps_vacuous for r in rows], "s", color="0.45", mec="black", ms=5)
        ax2.set_xlabel(label)
        for a in (ax, ax2):
            a.set_xticks(ticks, [_tick_label(t) for t in ticks])
            a.minorticks_off()
            a.margins(x=0.15)
            _clean(a)
        ax.set_xlabel(label)
    axes[0, 0].set_ylabel(r"$\|\theta^*\|^2$")
    axes[1, 0].set_ylabel(r"$\varepsilon_{\rm vac}$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, bbox_to_anchor=(0.5, 0.0))
    return fig
