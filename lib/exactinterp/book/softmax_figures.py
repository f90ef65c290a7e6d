"""Data and figures of the softmax chapter (Figures 8 and 9 in the paper's style, lemma plots).

Exact objects (datasets, layers) are built here; floats appear only at the plotting boundary
and in the float64 forward of Figure 9, as the chapter says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ..construct.build import Build
from ..construct.primitives import affine_ff, clustering_sa, rank_one_sa
from ..core.numbers import ONE, to_q
from ..core.transformer import Block
from .plotting import COLORS, MARKERS, PAGE_WIDTH, as_float, draw_points, panel, style
from .text import html_table

__all__ = [
    "figure9_data",
    "figure9_blocks",
    "draw_figure9",
    "draw_lemma_check",
    "illustrative_tau",
    "draw_clustering",
    "snap_profiles",
    "draw_snap",
    "draw_blocks",
    "draw_temperature",
    "suite_table",
]


def _q_seq(rows: Sequence[Sequence[str]]) -> np.ndarray:
    return np.array([[to_q(v) for v in r] for r in rows], dtype=object)


def figure9_data() -> list[np.ndarray]:
    """Three sequences as in the paper's Figure 9(a): circles (5), triangles (3), stars (4).

    Three positions hold a circle and a star, one position holds a circle and a triangle.
    """
    A, B, C, D, E = ["0", "6/5"], ["0", "1/5"], ["0", "-3/10"], ["-9/10", "-3/5"], ["1", "-2/5"]
    circles = _q_seq([A, B, C, D, E])
    triangles = _q_seq([["-13/10", "9/10"], ["4/5", "3/5"], B])
    stars = _q_seq([A, D, E, ["7/20", "0"]])
    return [circles, triangles, stars]


def figure9_blocks(tau: Any) -> Block:
    """One block: FF translation by (1, 1) into the positive quadrant, then the rank-one SA
    ``x_i + Σ_j a_ij x_j`` with scores ``<v, x_i><v, x_j>``, v = (1, 3/10), at temperature tau."""
    ff = affine_ff(2, ONE, [to_q(1), to_q(1)])
    return Block(ff, rank_one_sa([to_q(1), to_q("3/10")], lam=ONE, rho=ONE, tau=tau))


def draw_figure9(seqs: Sequence[np.ndarray], hard: Sequence[np.ndarray], soft: Sequence[np.ndarray], tau: Any):
    """Panel (a) on the left, (b) hardmax and (c) softmax on the right, arrows labelled by τ."""
    style()
    fig = plt.figure(figsize=(PAGE_WIDTH, 4.8))
    ax_a = fig.add_axes((0.01, 0.17, 0.43, 0.6))
    ax_b = fig.add_axes((0.6, 0.53, 0.39, 0.4))
    ax_c = fig.add_axes((0.6, 0.02, 0.39, 0.4))

    def draw(ax, S, lim, label):
        panel(ax, lim)
        for j, X in enumerate(S):
            draw_points(ax, X, COLORS[j], MARKERS[j], size=[150, 95, 80][j], zorder=3 + 0.1 * j)
        ax.set_title(label, pad=3)

    draw(ax_a, seqs, (-1.6, 1.6, -1.2, 1.6), "(a) initial configuration")
    pts = np.concatenate([as_float(X) for X in list(hard) + list(soft)])
    x0, y0 = pts.min(axis=0) - 0.35
    x1, y1 = pts.max(axis=0) + 0.35
    lim = (min(x0, -0.2), x1, min(y0, -0.2), y1 + 0.4)
    draw(ax_b, hard, lim, "(b) hardmax block")
    draw(ax_c, soft, lim, "(c) softmax block")
    for _ax, lab, y0, y1 in ((ax_b, r"$\tau=0$", 0.55, 0.72), (ax_c, r"$\tau>0$", 0.45, 0.28)):
        fig.add_artist(
            plt.Annotation(
                "",
                xy=(0.56, y1),
                xytext=(0.46, y0),
                xycoords="figure fraction",
                arrowprops={"arrowstyle": "-|>", "lw": 2.0, "color": "black"},
            )
        )
        fig.text(0.49, (y0 + y1) / 2 + (0.07 if y1 > y0 else -0.07), lab, ha="right", va="center")
    _ = tau
    return fig


def draw_lemma_check(measured: np.ndarray, sharp: np.ndarray, coarse: np.ndarray, at_tau0: np.ndarray):
    """Left: measured deviation against the coarse bound (log-log). Right: measured / bound.
    Legends sit under the axes, off the data."""
    style()
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 4.6))
    fig.subplots_adjust(left=0.11, right=0.98, top=0.97, bottom=0.42, wspace=0.4)
    ax = axes[0]
    pos = measured[measured > 0]
    lo, hi = max(min(pos.min(), coarse.min()) / 10, 1e-70), max(coarse.max(), 1.0) * 10
    ax.loglog([lo, hi], [lo, hi], color="0.5", lw=1, ls="--", label="deviation = bound")
    ax.scatter(coarse, np.maximum(measured, lo), s=16, c=COLORS[0], edgecolors="none", label="one random layer")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("coarse bound")
    ax.set_ylabel("measured deviation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.24))
    ax = axes[1]
    bins = np.linspace(-10, 0.2, 42)
    ax.hist(np.log10(np.maximum(measured / sharp, 1e-10)), bins=bins, color=COLORS[0], alpha=0.8, label="/ sharp bound")
    ax.hist(
        np.log10(np.maximum(measured / coarse, 1e-10)), bins=bins, color=COLORS[1], alpha=0.6, label="/ coarse bound"
    )
    ax.hist(
        np.log10(np.maximum(at_tau0, 1e-10)),
        bins=bins,
        color=COLORS[2],
        alpha=0.6,
        label=r"/ $\delta$ at $\tau_0(\delta)$",
    )
    ax.axvline(0, color="black", lw=1)
    ax.set_xlabel(r"$\log_{10}$(measured / bound)")
    ax.set_ylabel("layers")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.24))
    return fig


def illustrative_tau(pre: np.ndarray, hard: np.ndarray, offsets: np.ndarray, delta: float) -> Any:
    """Largest τ = 2^k (k ≤ 2) whose float64 clustering layer keeps every token within δ/2 of its
    hardmax image (a measured, not a proven, temperature: used only to make Figure 8 visible)."""
    tau = to_q(4)
    while True:
        sa = clustering_sa(pre.shape[1], tau)
        out = np.concatenate([sa.forward_float(pre[offsets[j] : offsets[j + 1]]) for j in range(len(offsets) - 1)])
        if np.max(np.linalg.norm(out - hard, axis=1)) <= delta / 2:
            return tau
        tau = tau / 2


def draw_clustering(b: Build, before: np.ndarray, after: np.ndarray, delta: float):
    """Figure 8 (left): box, region P, first leaders with δ-balls and their satellites, sphere leaders."""
    style()
    fig, ax = plt.subplots(figsize=(5.2, 5.2))
    t_max = max(float(t) for t in b.info["leaders"]["t"])
    R = float(b.info["leaders"]["R"])
    lim = (-R - 0.6, t_max + 1.0, -R - 0.6, t_max + 1.0)
    panel(ax, lim)
    ax.add_patch(plt.Rectangle((0, 0), 1, 1, fill=False, ec="0.5", lw=0.8))
    ax.text(0.05, 1.08, r"$\mathcal{B}$", color="0.4")
    ax.plot([lim[0], lim[1]], [lim[0], lim[1]], color="black", lw=0.8, ls=(0, (4, 3)), zorder=1)
    th = np.linspace(np.pi, 1.5 * np.pi, 100)
    ax.plot(R * np.cos(th), R * np.sin(th), color="black", lw=0.8)
    ax.text(-0.72 * R, -0.6 * R, r"$S_R\cap\mathbb{R}^d_{<0}$")
    owner = []
    for c, group in enumerate(b.classes):
        sl = b.state.seq_slice(group[0])
        owner += [(c, i) for i in range(sl.start, sl.stop)]
    for ld in b.leaders:
        p = as_float(np.array([ld.position], dtype=object))[0]
        col, mk = COLORS[ld.cls % len(COLORS)], MARKERS[ld.cls % len(MARKERS)]
        if ld.first:
            ax.add_patch(plt.Circle(p, delta, color=col, alpha=0.35, lw=0.8, ec="black"))
            ax.text(p[0] - delta - 0.1, p[1], rf"$B_\delta(\hat x^{{{ld.cls + 1}}}_1)$", ha="right", va="center")
        draw_points(ax, [p], col, mk, size=90)
    for c, i in owner:
        col, mk = COLORS[c % len(COLORS)], MARKERS[c % len(MARKERS)]
        ax.scatter(*after[i], s=24, c=col, marker=mk, edgecolors="black", linewidths=0.4, zorder=4)
        ax.scatter(*before[i], s=18, c=col, marker=mk, alpha=0.5, zorder=2)
    # inset: the first cluster magnified (satellites at the scale of their float64 deviation)
    first = next(ld for ld in b.leaders if ld.first)
    p = as_float(np.array([first.position], dtype=object))[0]
    rows = [i for c, i in owner if c == first.cls]
    dev = max(float(np.max(np.abs(after[i] - p))) for i in rows)
    if dev > 0:
        ins = ax.inset_axes((0.04, 0.5, 0.4, 0.4))
        w = 1.5 * dev
        ins.set_xlim(-w / dev, w / dev)
        ins.set_ylim(-w / dev, w / dev)
        ins.set_xticks([])
        ins.set_yticks([])
        ins.set_aspect("equal")
        draw_points(ins, [[0.0, 0.0]], COLORS[first.cls], MARKERS[first.cls], size=90)
        for i in rows:
            z = (after[i] - p) / dev
            ins.scatter(*z, s=30, c=COLORS[first.cls], marker=MARKERS[first.cls], edgecolors="black", lw=0.4)
        ins.set_title(rf"$B_\delta(\hat x^1_1)$, zoom $\times${delta / w:.3g}", pad=2)
    return fig


def snap_profiles(x: np.ndarray, zeta: float, alpha: float, beta: float, s: float, d1: float, c1: float):
    """Increments chi(x) of our two-sided snap (flat map on [zeta - beta, zeta + beta]) and psi(x) of the
    one-sided snap read in Figure 8 (right), with a = 1/2 (the lemma's c', d' are ``c1``, ``d1``)."""

    def relu(t):
        return np.maximum(t, 0.0)

    k = beta / (alpha - beta)
    chi = (
        k * relu(x - (zeta - alpha))
        - (1 + k) * relu(x - (zeta - beta))
        + (1 + k) * relu(x - (zeta + beta))
        - k * relu(x - (zeta + alpha))
    )
    psi = 0.5 * relu(s - d1 - x) - relu(x - (s - d1)) + (1 + d1 / c1) * relu(x - s) - d1 / c1 * relu(x - s - c1)
    return chi, psi


def draw_snap(x, psi, chi, labels: dict[str, float]):
    """The one-sided snap of Figure 8 (right) next to our two-sided snap piece (increments)."""
    style()
    fig, axes = plt.subplots(2, 1, figsize=(PAGE_WIDTH, 5.0))
    fig.subplots_adjust(left=0.03, right=0.97, top=0.93, bottom=0.08, hspace=0.55)
    for ax, ys, title in (
        (axes[0], psi, "Figure 8 (right), read as a snap"),
        (axes[1], chi, "our two-sided snap piece"),
    ):
        ax.plot(x, ys, color="blue", lw=1.6)
        ax.axhline(0, color="black", lw=0.7)
        ax.set_yticks([])
        ax.set_title(title)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    s, d1, c1 = labels["s"], labels["d1"], labels["c1"]
    axes[0].set_xticks([s - d1, s, s + c1], ["$s-d'$", "$s$", "$s+c'$"])
    axes[0].text(x[5], psi[5] * 0.9, r"$\psi(x)$", color="blue")
    z, al, be = labels["zeta"], labels["alpha"], labels["beta"]
    axes[1].set_xticks(
        [z - al, z - be, z, z + be, z + al],
        [r"$\zeta-\alpha$", r"$\zeta-\beta$", r"$\zeta$", r"$\zeta+\beta$", r"$\zeta+\alpha$"],
    )
    axes[1].text(z + be * 0.2, be * 0.75, r"$\chi(x)$", color="blue")
    return fig


def draw_blocks(rows: list[dict]):
    """Blocks of our softmax models against our bound 2Σm + 3 and the third-party count 2Σm + 3N."""
    style()
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.6))
    fig.subplots_adjust(left=0.1, right=0.58, top=0.97, bottom=0.17)
    sm = np.array([r["sum_m"] for r in rows])
    third = [r["third_party"] for r in rows]
    ax.scatter(sm, third, s=24, c=COLORS[1], marker="^", label="third-party summary:\n" + r"$2\Sigma m^j+3N$")
    ax.scatter(sm, [r["blocks"] for r in rows], s=24, c=COLORS[0], label="ours (measured)")
    xs = np.arange(sm.min(), sm.max() + 1)
    ax.plot(xs, 2 * xs + 3, color=COLORS[2], lw=1.4, label=r"our bound $2\Sigma m^j+3$")
    ax.set_xlabel(r"$\Sigma_j m^j$")
    ax.set_ylabel("blocks")
    ax.legend(loc="center left", bbox_to_anchor=(1.03, 0.5))
    return fig


def draw_temperature(ns: np.ndarray, tau0: np.ndarray, tau: Sequence[Any], fit: tuple[float, float]):
    """τ_0 of constructed models against n on a log axis, and 1/τ_0 against ln n with the fitted line."""
    style()
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 4.2))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.97, bottom=0.4, wspace=0.38)
    axes[0].semilogx(ns, tau0, "o-", color=COLORS[0], ms=5, label=r"$\tau_0$ of the model")
    axes[0].semilogx(ns, [float(t) for t in tau], "s", color=COLORS[1], ms=5, label=r"chosen $\tau$ (a power of 2)")
    axes[0].set_xlabel("$n$ (longest sequence)")
    axes[0].set_ylabel(r"$\tau$")
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.24))
    slope, icpt = fit
    ln = np.log(ns)
    axes[1].plot(ln, 1 / tau0, "o", color=COLORS[0], ms=5, label=r"$1/\tau_0$")
    axes[1].plot(ln, icpt + slope * ln, "-", color="0.4", lw=1, label=f"least squares,\nslope {slope:.2f}")
    axes[1].set_xlabel(r"$\ln n$")
    axes[1].set_ylabel(r"$1/\tau_0$")
    axes[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.24))
    return fig


def suite_table(rows: list[dict]) -> str:
    """HTML table per family: datasets, certified, blocks vs bounds, τ, radius / b, float64 deviation."""
    head = [
        "family",
        "datasets",
        "certified",
        "max blocks / (2Σm+3)",
        "max blocks / (2Σm+3N), third-party count",
        "smallest τ",
        "max radius / b",
        "max float64 deviation",
    ]
    body = []
    for f in dict.fromkeys(r["family"] for r in rows):
        rs = [r for r in rows if r["family"] == f]
        cells = [
            f,
            str(len(rs)),
            str(sum(r["certified"] for r in rs)),
            f"{max(r['blocks'] / r['ours'] for r in rs):.2f}",
            f"{max(r['blocks'] / r['third_party'] for r in rs):.2f}",
            str(min(r["tau"] for r in rs)),
            f"{max(r['radius'] / float(r['b_min']) for r in rs):.1e}",
            f"{max(r['float_dev'] for r in rs):.1e}",
        ]
        body.append(cells)
    return html_table(head, body, styled=False)  # eight columns: the theme's padding would not fit
