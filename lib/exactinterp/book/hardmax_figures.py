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
from .plotting import (
    COLORS,
    MARKERS,
    PAGE_WIDTH,
    arrow_between,
    as_float,
    draw_sequences,
    draw_targets,
    panel,
    panels,
    style,
)

__all__ = [
    "draw_figure5",
    "draw_figure6",
    "draw_figure7",
    "draw_figure8_left",
    "draw_figure8_right",
    "draw_counts",
    "sequence_panels",
]

_BLUE = "#1f3fbf"


def _lim(arrays: Sequence[Any], pad: float = 1.15) -> float:
    pts = [as_float(a) for a in arrays if len(a)]
    return pad * max(float(np.abs(p).max()) for p in pts) if pts else 1.0


def _states_of(b: Build) -> list[State]:
    """Initial, separated + boxed, leaders placed, clustered, interpolated (Figure 5 (a)-(e))."""
    first = State.from_sequences(list(b.ds.inputs))
    steps = [b.step(name).state for name in ("box", "leaders", "clustering", "interpolation")]
    return [first, *steps]


def sequence_panels(
    states: Sequence[State],
    targets: Sequence[Any] | None = None,
    lim=None,
    titles: Sequence[str] | None = None,
    rows: int = 1,
):
    """Panels, one per state, filling the page width (``rows`` rows), with grey arrows between
    neighbours in a row and optional target diamonds; titles above the panels or "(a)", "(b)" inside."""
    fig, axes = panels(len(states), rows=rows, gap=0.3 if rows > 1 else 0.45)
    if titles:
        fig.subplots_adjust(top=0.9 if rows == 1 else 0.95, hspace=0.3)
    for k, (ax, st) in enumerate(zip(axes, states, strict=False)):
        seqs = st.sequences()
        lk = lim if lim is not None else _lim(list(seqs) + list(targets or []))
        panel(ax, lk, None if titles else f"({chr(97 + k)})")
        if titles:
            ax.set_title(titles[k])
        if targets is not None:
            draw_targets(ax, targets)
        draw_sequences(ax, seqs)
    cols = len(axes) // rows
    for k in range(len(states) - 1):
        if (k + 1) % cols:
            arrow_between(fig, axes[k], axes[k + 1])
    return fig, axes


def _sequence_legend(ax, n: int) -> None:
    """The empty grid cell explains the markers: one per sequence, and the target diamonds."""
    ax.axis("off")
    for j in range(n):
        ax.scatter([], [], s=80, c=COLORS[j % len(COLORS)], marker=MARKERS[j % len(MARKERS)], edgecolors="black",
                   linewidths=0.7, label=f"sequence {j + 1}")  # fmt: skip
    ax.scatter([], [], s=80, c="0.6", marker="D", alpha=0.55, edgecolors="none", label="targets")
    ax.legend(loc="center", borderaxespad=0, handletextpad=0.4, labelspacing=0.7)


FIGURE5_TITLES = ("(a) input", "(b) in the box", "(c) leaders", "(d) clustered", "(e) interpolated")


def draw_figure5(b: Build):
    """Figure 5: the four steps on a toy dataset, (a) input ... (e) output, as a 2 x 3 grid with target
    diamonds; panel (b) zooms onto the box, the sixth cell explains the markers."""
    states = _states_of(b)
    lim = _lim([st.E for st in states] + list(b.ds.outputs))
    fig, axes = sequence_panels(states, b.ds.outputs, lim=lim, titles=FIGURE5_TITLES, rows=2)
    F = states[1].F  # panel (b) zooms onto the box, where every token now lies
    c, h = (F.min(axis=0) + F.max(axis=0)) / 2, 0.62 * max(float((F.max(axis=0) - F.min(axis=0)).max()), 1e-3)
    axes[1].set_xlim(c[0] - h, c[0] + h)
    axes[1].set_ylim(c[1] - h, c[1] + h)
    axes[1].add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=_BLUE, lw=0.8))
    axes[1].text(0.97, 0.03, r"zoom: $\mathcal{B}$", color=_BLUE, ha="right", transform=axes[1].transAxes)
    _sequence_legend(axes[5], len(b.ds.inputs))
    return fig


def _box_inset(ax, st: State, lim: float) -> None:
    """Magnified view of the tokens inside the box (0, 1)^2, in the upper-left corner of a panel."""
    ins = ax.inset_axes([0.03, 0.52, 0.44, 0.45])
    F = st.F[np.all((st.F > 0) & (st.F < 1), axis=1)]
    lo, hi = (F.min(axis=0), F.max(axis=0)) if len(F) else (np.zeros(2), np.ones(2))
    c, h = (lo + hi) / 2, 0.62 * max(float((hi - lo).max()), 1e-3)
    ins.set_xlim(c[0] - h, c[0] + h)
    ins.set_ylim(c[1] - h - 0.35 * h, c[1] + h)
    ins.set_xticks([])
    ins.set_yticks([])
    ins.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=_BLUE, lw=0.8))
    draw_sequences(ins, st.sequences(), size=60)
    ins.text(0.97, 0.03, r"zoom: $\mathcal{B}$", color=_BLUE, ha="right", transform=ins.transAxes)
    ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, ec=_BLUE, lw=0.6))


def draw_figure6(
    states: Sequence[State],
    slab: tuple | None = None,
    v: Sequence[Any] | None = None,
    pushed: Sequence[Any] | None = None,
):
    """Figure 6: a separation block, (a) input [slab, hyperplane with normal v], (b) after FF, (c) after SA.

    ``slab = (u, z, eps)`` draws the strip |<u, x - z>| <= eps (the bump's support); ``pushed``
    marks the token value z in (a) and its image in (b) with a red arrow.
    """
    fig, axes = sequence_panels(states)
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
        axes[0].text(*(tip + 0.05 * lim), r"$v$")
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
    ax.text(1.08, 1.08, r"$\mathcal{B}$", color=_BLUE, va="bottom")
    ax.text(lim * 0.86, 1.15, r"$\mathcal{P}$", color=_BLUE)
    ax.plot([-lim, lim], [-lim, lim], "k--", lw=0.8, zorder=0)
    ax.annotate("", xy=(-0.32 * lim, -0.32 * lim), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "red"})
    ax.text(-0.3 * lim, -0.2 * lim, r"$w$", color="red")
    th = np.linspace(np.pi, 1.5 * np.pi, 100)
    ax.plot(R * np.cos(th), R * np.sin(th), "k-", lw=1.0, zorder=1)
    ax.text(0.06 * R, -0.97 * R, r"$S_R\cap\mathbb{R}^d_{<0}$")
    ax.text(-0.94 * lim, -0.8 * lim, r"$Q$")


def draw_figure7(b: Build):
    """Figure 7: leader selection; left the boxed tokens and the planned diagonal points x^j, right after the FFs."""
    states = [b.step("box").state, pre_clustering_state(b)]
    R = float(b.info["leaders"]["R"])
    ts = [float(t) for t in b.info["leaders"]["t"]]
    lim = 1.12 * max(R, max(ts) + 0.6)
    fig, axes = panels(2, gap=0.06)
    for ax, st in zip(axes, states, strict=True):
        panel(ax, lim)
        _geometry(ax, lim, R)
        draw_sequences(ax, st.sequences(), size=70)
    for k, t in enumerate(ts):
        axes[0].scatter([t], [t], s=20, c="black", zorder=3)
        axes[0].text(t + 0.2, t - 0.25, f"$x^{k + 1}$", va="top")
    for ax, st in zip(axes, states, strict=True):
        _box_inset(ax, st, lim)
    return fig


def draw_figure8_left(b: Build, delta: float = 0.42, size: float = 4.8):
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
            ax.text(p[0] - delta - 0.1, p[1], rf"$B_\delta(\hat x^{{{j + 1}}}_1)$", ha="right", va="center")
        else:
            foot = np.full(2, p.mean())
            ax.plot([p[0], foot[0]], [p[1], foot[1]], color=col, lw=1.0, zorder=1)
    draw_sequences(ax, seqs, size=80)
    return fig


def _profile(neurons, t: np.ndarray) -> np.ndarray:
    ff = ff_from_neurons(2, neurons)
    X = np.stack([t, np.zeros_like(t)], axis=1)
    return (ff.forward_float(X) - X)[:, 0]


def draw_figure8_right(s: Any, c1: Any, d1: Any, a: Any, omega: Any):
    """Figure 8 (right) read as a snap, and the engine's bump (interpolation chapter), on a 2 x 2 grid.

    (a) the four-ReLU profile psi with breakpoints s - d', s, s + c' and slope -1 in the middle;
    (b) the residual map xi -> xi + psi(xi), flat on [s - d', s]; (c) the engine's trapezoid of
    half-width omega, drawn with the sign of the profile, with the three hats of half-width
    omega / 2 that sum to it (dashed); the fourth cell holds the legend.
    """
    style()
    fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH, 5.4))
    fig.subplots_adjust(left=0.03, right=0.97, top=0.93, bottom=0.08, wspace=0.18, hspace=0.45)
    axes = axes.ravel()
    sf, cf, df, wf = (float(to_q(v)) for v in (s, c1, d1, omega))
    x = np.linspace(sf - 3 * df, sf + 1.4 * cf, 400)
    x2 = np.linspace(sf - 2 * wf, sf + 2 * wf, 401)
    psi = _profile(kink_profile_neurons((1, 0), s, c1, d1, a, d1, (1, 0)), x)
    w, sq = to_q(omega), to_q(s)
    trap = _profile(bump_neurons((1, 0), (sq, 0), w, (-1, 0), plateau=w / 2), x2)
    for k in (-1, 0, 1):
        hat = _profile(bump_neurons((1, 0), (sq + k * w / 2, 0), w / 2, (-1, 0)), x2)
        lab = r"three hats, half-width $\omega/2$" if k == 0 else None
        axes[2].plot(x2, hat, color="0.55", lw=1.0, ls="--", label=lab)
    profile_ticks = [(sf - df, "$s-d'$", "right"), (sf, "$s$", "left"), (sf + cf, "$s+c'$", "center")]
    bump_ticks = [(sf - wf, r"$s-\omega$", "center"), (sf, "$s$", "center"), (sf + wf, r"$s+\omega$", "center")]
    rows = (
        (axes[0], x, psi, profile_ticks, r"(a) Figure 8 (right): $\psi$", "profile"),
        (axes[1], x, x + psi, profile_ticks, r"(b) the snap $\xi+\psi(\xi)$", None),
        (axes[2], x2, trap, bump_ticks, "(c) the engine's bump (ours)", "bump (sum of the hats)"),
    )
    for ax, xx, yy, ticks, title, lab in rows:
        ax.plot(xx, yy, color="#1f3fdf", lw=1.6, label=lab)
        ax.axvline(sf, color="0.55", lw=0.6)
        ax.set_xticks([p for p, _, _ in ticks])
        ax.set_xticklabels([t for _, t, _ in ticks])
        for tick, (_, _, ha) in zip(ax.get_xticklabels(), ticks, strict=True):
            tick.set_horizontalalignment(ha)
        ax.set_yticks([])
        ax.set_title(title)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in (axes[0], axes[2]):
        ax.axhline(0, color="0.55", lw=0.6)
    axes[1].plot(x, x, color="0.45", lw=1.0, ls=":", label="identity (for (b))")
    axes[1].axhline(sf - df, color="0.55", lw=0.6, ls="--")
    handles = [h for ax in axes[:3] for h in ax.get_legend_handles_labels()[0]]
    labels = [lab for ax in axes[:3] for lab in ax.get_legend_handles_labels()[1]]
    axes[3].axis("off")
    axes[3].legend(handles, labels, loc="center", borderaxespad=0)
    return fig


def draw_counts(points: Sequence[tuple], families: Sequence[str]):
    """Theorem chapter: blocks against sum m (with our bound and the third-party count), and the
    nonzero parameters against our parameter bound, one colour per family; legends below the axes.

    ``points`` holds (family, d, N, sum m, blocks, parameters, parameter bound, n max) per dataset.
    """
    style()
    cmap = plt.get_cmap("tab20")  # one colour per family (up to 20)
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 5.6))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.97, bottom=0.47, wspace=0.38)
    for fam, _d, N, sm, L, P, Pb, _nmax in points:
        col = cmap(families.index(fam) % 20)
        axes[0].scatter(sm, L, s=22, color=col, zorder=3)
        axes[0].scatter(sm, 2 * sm + 2 * N + 1, s=40, marker="_", color="0.45", zorder=2)
        axes[1].scatter(Pb, P, s=22, color=col, zorder=3)
    xs = np.array([1, max(p[3] for p in points)])
    axes[0].plot(xs, 2 * xs + 2, "k--", lw=1, label=r"ours: $L\leq 2\Sigma m^j+2$")
    axes[0].scatter([], [], s=40, marker="_", color="0.45", label=r"third-party: $2\Sigma m^j+2N+1$")
    axes[0].set_xlabel(r"$\Sigma_j m^j$")
    axes[0].set_ylabel("blocks $L$")
    mx = max(p[6] for p in points)
    axes[1].plot([0, mx], [0, mx], "k:", lw=1)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("our parameter bound")
    axes[1].set_ylabel("nonzero parameters")
    handles, labels = axes[0].get_legend_handles_labels()
    for k, fam in enumerate(families):
        handles.append(axes[1].scatter([], [], s=22, color=cmap(k % 20)))
        labels.append(fam)
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, 0.0), columnspacing=1.0,
               handletextpad=0.3, borderaxespad=0.2)  # fmt: skip
    return fig
