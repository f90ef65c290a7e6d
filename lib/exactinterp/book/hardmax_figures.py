"""Figures 5-8 of the paper redrawn from the exact states of the hardmax construction.

Every function takes exact objects (a :class:`~exactinterp.construct.hardmax.Build`, states,
layer parameters), converts them to float64 only here, at the plotting boundary, and returns a
matplotlib figure in the book's paper-like style (:mod:`exactinterp.plotting`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Rectangle

from ..construct.build import Build
from ..construct.clustering import pre_clustering_state
from ..construct.primitives import bump_neurons, ff_from_neurons, kink_profile_neurons
from ..core.numbers import to_q
from ..core.state import State
from .plotting import COLORS, arrow_between, as_float, draw_sequences, draw_targets, panel, panels, style

__all__ = ["draw_figure5", "draw_figure6", "draw_figure7", "draw_figure8_left", "draw_figure8_right", "sequence_panels"]

_BLUE = "#1f3fbf"


def _lim(arrays: Sequence[Any], pad: float = 1.15) -> float:
    pts = [as_float(a) for a in arrays if len(a)]
    return pad * max(float(np.abs(p).max()) for p in pts) if pts else 1.0


def _states_of(b: Build) -> list[State]:
    """Initial, separated + boxed, leaders placed, clustered, interpolated (Figure 5 (a)-(e))."""
    first = State.from_sequences(list(b.ds.inputs))
    steps = [b.step(name).state for name in ("box", "leaders", "clustering", "interpolation")]
    return [first, *steps]


def sequence_panels(states: Sequence[State], targets: Sequence[Any] | None = None, size: float = 2.6, lim=None):
    """A row of panels, one per state, with grey arrows between them and optional target diamonds."""
    fig, axes = panels(len(states), size=size)
    fig.subplots_adjust(wspace=0.28, left=0.01, right=0.99, top=0.98, bottom=0.02)
    for k, (ax, st) in enumerate(zip(axes, states, strict=True)):
        seqs = st.sequences()
        lk = lim if lim is not None else _lim(list(seqs) + list(targets or []))
        panel(ax, lk, f"({chr(97 + k)})")
        if targets is not None:
            draw_targets(ax, targets)
        draw_sequences(ax, seqs)
    for a0, a1 in zip(axes[:-1], axes[1:], strict=True):
        arrow_between(fig, a0, a1)
    return fig, axes


def draw_figure5(b: Build, size: float = 2.6):
    """Figure 5: the four steps on a toy dataset, (a) input ... (e) output, with target diamonds."""
    states = _states_of(b)
    lim = _lim([st.E for st in states] + list(b.ds.outputs))
    fig, axes = sequence_panels(states, b.ds.outputs, size=size, lim=lim)
    F = states[1].F  # panel (b) zooms onto the box, where every token now lies
    c, h = (F.min(axis=0) + F.max(axis=0)) / 2, 0.62 * max(float((F.max(axis=0) - F.min(axis=0)).max()), 1e-3)
    axes[1].set_xlim(c[0] - h, c[0] + h)
    axes[1].set_ylim(c[1] - h, c[1] + h)
    axes[1].add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=_BLUE, lw=0.8))
    axes[1].text(0.97, 0.04, r"zoom on $\mathcal{B}$", color=_BLUE, fontsize=8, ha="right", transform=axes[1].transAxes)
    return fig


def _box_inset(ax, st: State, lim: float) -> None:
    """Magnified view of the tokens inside the box (0, 1)^2, in the upper-left corner of a panel."""
    ins = ax.inset_axes([0.04, 0.56, 0.4, 0.4])
    F = st.F[np.all((st.F > 0) & (st.F < 1), axis=1)]
    lo, hi = (F.min(axis=0), F.max(axis=0)) if len(F) else (np.zeros(2), np.ones(2))
    c, h = (lo + hi) / 2, 0.62 * max(float((hi - lo).max()), 1e-3)
    ins.set_xlim(c[0] - h, c[0] + h)
    ins.set_ylim(c[1] - h, c[1] + h)
    ins.set_xticks([])
    ins.set_yticks([])
    ins.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=_BLUE, lw=0.8))
    draw_sequences(ins, st.sequences(), size=22)
    ins.text(0.97, 0.03, r"$\mathcal{B}$ (zoom)", color=_BLUE, fontsize=8, ha="right", transform=ins.transAxes)
    ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=_BLUE, lw=0.6))


def draw_figure6(
    states: Sequence[State],
    slab: tuple | None = None,
    v: Sequence[Any] | None = None,
    pushed: Sequence[Any] | None = None,
    size: float = 3.0,
):
    """Figure 6: a separation block, (a) input [slab, hyperplane with normal v], (b) after FF, (c) after SA.

    ``slab = (u, z, eps)`` draws the strip |<u, x - z>| <= eps (the bump's support); ``pushed``
    marks the token value z in (a) and its image in (b) with a red arrow.
    """
    fig, axes = sequence_panels(states, size=size)
    if slab is not None:
        u, z, eps = (as_float(np.array(list(t), dtype=object)) if np.ndim(t) else float(t) for t in slab)
        _strip(axes[0], u, float(u @ z), float(eps))
    if v is not None:
        vf = as_float(np.array(list(v), dtype=object))
        lim = axes[0].get_xlim()[1]
        t = np.array([-2 * lim, 2 * lim])
        ortho = np.array([-vf[1], vf[0]]) / np.linalg.norm(vf)
        axes[0].plot(t * ortho[0], t * ortho[1], "k--", lw=0.9)
        base = -0.55 * lim * ortho
        tip = base + 0.25 * lim * vf / np.linalg.norm(vf)
        axes[0].annotate("", xy=tip, xytext=base, arrowprops={"arrowstyle": "->", "lw": 1.1})
        axes[0].text(*(tip + 0.05 * lim), r"$v$", fontsize=12)
    if pushed is not None:
        for ax, p in zip(axes[:2], pushed, strict=False):
            pf = as_float(np.array(list(p), dtype=object))
            lim = ax.get_xlim()[1]
            sgn = np.where(pf < 0.55 * lim, 1.0, -1.0)
            ax.annotate(
                "",
                xy=pf + 0.04 * lim * sgn,
                xytext=pf + 0.3 * lim * sgn,
                arrowprops={"arrowstyle": "->", "color": "red", "lw": 1.2},
            )
    return fig


def _strip(ax, u: np.ndarray, c: float, eps: float) -> None:
    lim = ax.get_xlim()[1]
    t = np.linspace(-lim, lim, 50)
    if abs(u[1]) > abs(u[0]):
        lo, hi = (c - eps - u[0] * t) / u[1], (c + eps - u[0] * t) / u[1]
        ax.fill_between(t, lo, hi, color="#bfe8c0", ec="#3BB273", lw=0.8, zorder=1)
    else:
        lo, hi = (c - eps - u[1] * t) / u[0], (c + eps - u[1] * t) / u[0]
        ax.fill_betweenx(t, lo, hi, color="#bfe8c0", ec="#3BB273", lw=0.8, zorder=1)


def _geometry(ax, lim: float, R: float) -> None:
    """Box B, region P, diagonal, w, the arc S_R in the negative quadrant and the label Q."""
    ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=_BLUE, lw=0.9))
    ax.plot([1, 1], [1, lim], color=_BLUE, lw=0.9)
    ax.plot([1, lim], [1, 1], color=_BLUE, lw=0.9)
    ax.text(0.08, 0.72, r"$\mathcal{B}$", color=_BLUE, fontsize=10)
    ax.text(lim * 0.88, 1.15, r"$\mathcal{P}$", color=_BLUE, fontsize=11)
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8, zorder=0)
    ax.annotate("", xy=(-0.32 * lim, -0.32 * lim), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "red"})
    ax.text(-0.3 * lim, -0.2 * lim, r"$w$", color="red", fontsize=11)
    th = np.linspace(np.pi, 1.5 * np.pi, 100)
    ax.plot(R * np.cos(th), R * np.sin(th), "k-", lw=1.0, zorder=1)
    ax.text(0.06 * R, -0.97 * R, r"$S_R\cap\mathbb{R}^d_{<0}$", fontsize=9)
    ax.text(-0.94 * lim, -0.94 * lim, r"$Q$", fontsize=10)


def draw_figure7(b: Build, size: float = 3.6):
    """Figure 7: leader selection; left the boxed tokens and the planned diagonal points x^j, right after the FFs."""
    states = [b.step("box").state, pre_clustering_state(b)]
    R = float(b.info["leaders"]["R"])
    ts = [float(t) for t in b.info["leaders"]["t"]]
    lim = 1.12 * max(R, max(ts) + 0.6)
    fig, axes = panels(2, size=size)
    fig.subplots_adjust(wspace=0.08, left=0.01, right=0.99, top=0.98, bottom=0.02)
    for ax, st in zip(axes, states, strict=True):
        panel(ax, lim)
        _geometry(ax, lim, R)
        draw_sequences(ax, st.sequences(), size=34)
    for k, t in enumerate(ts):
        axes[0].scatter([t], [t], s=14, c="black", zorder=3)
        axes[0].text(t + 0.15, t - 0.45, f"$x^{k + 1}$", fontsize=9)
    for ax, st in zip(axes, states, strict=True):
        _box_inset(ax, st, lim)
    return fig


def draw_figure8_left(b: Build, delta: float = 0.42, size: float = 4.2):
    """Figure 8 (left): after clustering; delta-balls around the first leaders, extra leaders on S_R with their feet."""
    st = b.step("clustering").state
    R = float(b.info["leaders"]["R"])
    ts = [float(t) for t in b.info["leaders"]["t"]]
    lim = 1.12 * max(R, max(ts) + 0.6)
    fig, axes = panels(1, size=size)
    ax = axes[0]
    panel(ax, lim)
    _geometry(ax, lim, R)
    seqs = st.sequences()
    classes = b.classes
    for ld in b.leaders:
        j = classes[ld.cls][0]
        p = as_float(np.array([ld.position], dtype=object))[0]
        col = COLORS[j % len(COLORS)]
        if ld.first:
            ax.add_patch(Circle(p, delta, fc=col, alpha=0.45, ec="0.2", lw=0.7, zorder=2))
            ax.text(p[0] - 2.1, p[1] + 0.05, rf"$B_\delta(\hat x^{{{j + 1}}}_1)$", fontsize=8)
        else:
            foot = np.full(2, p.mean())
            ax.plot([p[0], foot[0]], [p[1], foot[1]], color=col, lw=1.0, zorder=1)
    draw_sequences(ax, seqs, size=40)
    return fig


def _profile(neurons, t: np.ndarray) -> np.ndarray:
    ff = ff_from_neurons(2, neurons)
    X = np.stack([t, np.zeros_like(t)], axis=1)
    return (ff.forward_float(X) - X)[:, 0]


def draw_figure8_right(s: Any, c1: Any, d1: Any, a: Any, omega: Any, size: float = 2.6):
    """Figure 8 (right) read as a snap, and the engine's bump (interpolation chapter), three panels.

    (a) the four-ReLU profile psi with breakpoints s - d', s, s + c' and slope -1 in the middle;
    (b) the residual map xi -> xi + psi(xi), flat on [s - d', s]; (c) the engine's trapezoid of
    half-width omega, drawn with the sign of the profile, with the three hats of half-width
    omega / 2 that sum to it (dashed).
    """
    style()
    fig, axes = plt.subplots(1, 3, figsize=(3 * size + 0.6, size * 0.9))
    sf, cf, df, wf = (float(to_q(v)) for v in (s, c1, d1, omega))
    x = np.linspace(sf - 3 * df, sf + 1.4 * cf, 400)
    x2 = np.linspace(sf - 2 * wf, sf + 2 * wf, 401)
    psi = _profile(kink_profile_neurons((1, 0), s, c1, d1, a, d1, (1, 0)), x)
    w, sq = to_q(omega), to_q(s)
    trap = _profile(bump_neurons((1, 0), (sq, 0), w, (-1, 0), plateau=w / 2), x2)
    for k in (-1, 0, 1):
        hat = _profile(bump_neurons((1, 0), (sq + k * w / 2, 0), w / 2, (-1, 0)), x2)
        lab = r"hats, half-width $\omega/2$" if k == 0 else None
        axes[2].plot(x2, hat, color="0.6", lw=0.9, ls="--", label=lab)
    profile_ticks = [(sf - df, "$s-d'$"), (sf, "$s$"), (sf + cf, "$s+c'$")]
    bump_ticks = [(sf - wf, r"$s-\omega$"), (sf, "$s$"), (sf + wf, r"$s+\omega$")]
    panels = (
        (axes[0], x, psi, profile_ticks, r"(a) Figure 8 (right): $\psi$"),
        (axes[1], x, x + psi, profile_ticks, r"(b) the snap $\xi+\psi(\xi)$"),
        (axes[2], x2, trap, bump_ticks, "(c) the engine's bump (ours)"),
    )
    for ax, xx, yy, ticks, title in panels:
        ax.plot(xx, yy, color="#1f3fdf", lw=1.4)
        ax.axvline(sf, color="0.55", lw=0.6)
        ax.set_xticks([p for p, _ in ticks])
        ax.set_xticklabels([lab for _, lab in ticks])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in (axes[0], axes[2]):
        ax.axhline(0, color="0.55", lw=0.6)
    axes[1].plot(x, x, color="0.6", lw=0.8, ls=":", label="identity")
    axes[1].axhline(sf - df, color="0.55", lw=0.6, ls="--")
    axes[1].legend(loc="upper left", fontsize=7, frameon=False)
    axes[2].legend(loc="lower right", fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
