"""Exact hardmax margins: how far a layer's scores are from changing a maximiser set.

The *margin* of a hardmax layer is the smallest exact gap between a query's best score and its
runner-up; a score perturbation below half of it cannot move a maximiser outside the exact set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.numbers import exact_dot
from ..core.scores import project
from ..core.state import State
from ..core.transformer import Transformer

__all__ = ["hardmax_margins", "layer_margin"]


def hardmax_margins(T: Transformer, inputs: list[np.ndarray]) -> list[Any]:
    """For each hardmax SA layer: the smallest exact gap between the best score and the runner-up.

    Per query token i the gap is ``max_j s_ij`` minus the largest score strictly below it; the
    layer's margin is the minimum over all queries of all sequences. ``None`` for layers whose
    scores need no decision (skip, all-tie, softmax, every query tied) or whose input is not exact.
    A score perturbation below half the margin cannot move a maximiser outside the exact set.
    """
    st = State.from_sequences(inputs)
    out: list[Any] = []
    for b in T.blocks:
        st = b.ff.apply(st)
        sa = b.sa
        if sa.kind in ("skip", "mean") or not sa.is_hardmax or not st.is_exact:
            out.append(None)
        else:
            out.append(layer_margin(sa, st))
        st = sa.apply(st)
    return out


def _min_opt(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _rank1_margin(sa, E: np.ndarray) -> Any:
    """Rank-one scores (q.x_i)(k.x_j): the gap is |q.x_i| times the top (or bottom) key gap. O(n log n)."""
    qv = [exact_dot(sa.Q[0], x) for x in E]
    ks = sorted({exact_dot(sa.K[0], x) for x in E})
    if len(ks) < 2:
        return None
    top, bot = ks[-1] - ks[-2], ks[1] - ks[0]
    g = None
    for a in qv:
        if a > 0:
            g = _min_opt(g, a * top)
        elif a < 0:
            g = _min_opt(g, -a * bot)
    return g


def _general_margin(sa, E: np.ndarray, F: np.ndarray) -> Any:
    """Full scores <Q x_i, K x_j>: float64 proposes the top two score levels, exact arithmetic decides."""
    n = len(E)
    A, B = F @ sa.Qf.T, F @ sa.Kf.T
    Aabs = np.abs(F) @ np.abs(sa.Qf).T
    Babs = np.abs(F) @ np.abs(sa.Kf).T
    c = 64.0 * (sa.d + sa.h + 4) * 2.0**-52
    err = c * (Aabs @ Babs.max(axis=0, initial=0.0)) + 1e-300  # bound on |float score - exact score| per row
    qx: dict[int, Any] = {}
    kx: dict[int, Any] = {}

    def score(i: int, j: int) -> Any:
        if i not in qx:
            qx[i] = project(sa.Q, E[i])
        if j not in kx:
            kx[j] = project(sa.K, E[j])
        return exact_dot(qx[i], kx[j])

    g = None
    S = A @ B.T
    if not (np.all(np.isfinite(S)) and np.all(np.isfinite(err))):  # float64 overflow: all exact
        S, err = np.zeros((n, n)), np.full(n, np.inf)
    for i in range(n):
        row, e = S[i], err[i]
        near = np.nonzero(row >= row.max() - 2 * e)[0]
        vals = {int(j): score(i, int(j)) for j in near}
        best = max(vals.values())
        below = [v for v in vals.values() if v < best]
        rest = np.setdiff1d(np.arange(n), near, assume_unique=True)
        if len(rest):  # every key outside `near` scores strictly below best; find the largest
            m2 = row[rest].max()
            below += [score(i, int(j)) for j in rest[row[rest] >= m2 - 2 * e]]
        if below:
            g = _min_opt(g, best - max(below))
    return g


def layer_margin(sa, st: State) -> Any:
    best = None
    for j in range(st.num_sequences):
        sl = st.seq_slice(j)
        if sa.kind == "rank1":
            g = _rank1_margin(sa, st.E[sl])
        else:
            g = _general_margin(sa, st.E[sl], st.F[sl])
        best = _min_opt(best, g)
    return best
