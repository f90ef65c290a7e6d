"""Softmax attention evaluated rigorously (ball arithmetic), and the temperature lemma's bound.

**Temperature lemma** (ours). For one sequence, token i, maximiser set ``C_i`` and score gap
``γ_i``, the softmax weight outside ``C_i`` is ``p_i ≤ (n - |C_i|) / |C_i| · exp(-γ_i / τ)``, so
``‖SA_τ(X)_i - SA_0(X)_i‖ ≤ ‖V‖ p_i max_k ‖x_k - mean(x_C)‖ ≤ (n - 1) ‖V‖ diam(X) exp(-γ_i / τ)``
and every token is within δ of its hardmax image once ``τ ≤ τ_0(δ) = γ / ln((n - 1) ‖V‖ diam / δ)``.

The engine evaluates a softmax layer on rational tokens as the *hardmax output plus a ball* whose
radius is the lemma's bound (an enclosure of the exact real output); on ball tokens it evaluates
the softmax directly with flint ``arb`` balls. Either way the result contains the exact value.
"""

from __future__ import annotations

import math
from typing import Any

import flint
import numpy as np

from .numbers import ONE, Q, exact_dot, to_float_array, to_q
from .scores import maximiser_sets, project, runner_up_gaps
from .state import BALL_PREC, State

__all__ = ["apply_softmax", "operator_norm_upper", "diameter_upper", "temperature_bound"]


def apply_softmax(sa: Any, st: State, out: State) -> None:
    """Write the enclosures of ``sa``'s softmax outputs of every sequence of ``st`` into ``out``."""
    old = flint.ctx.prec
    flint.ctx.prec = BALL_PREC
    try:
        inv_tau = flint.arb(ONE / sa.tau)
        for j in range(st.num_sequences):
            sl = st.seq_slice(j)
            E = st.E[sl]
            if all(isinstance(v, Q) for v in E.ravel()):
                rows = _enclosure(sa, st, j, inv_tau)
            else:
                rows = _direct(sa, E, inv_tau)
            out.set_rows(np.arange(sl.start, sl.stop), rows)
    finally:
        flint.ctx.prec = old


def _direct(sa: Any, E: np.ndarray, inv_tau: Any) -> np.ndarray:
    """Softmax rows evaluated with balls throughout (tokens that are already balls)."""
    n = len(E)
    qx = [project(sa.Q, E[i]) for i in range(n)]
    kx = [project(sa.K, E[i]) for i in range(n)]
    rows = np.empty((n, sa.d), dtype=object)
    for i in range(n):
        s = [v if isinstance(v, flint.arb) else flint.arb(v) for v in (exact_dot(qx[i], kx[k]) for k in range(n))]
        m = max(float(v.mid()) for v in s)
        w = [((v - m) * inv_tau).exp() for v in s]
        tot = sum(w[1:], w[0])
        avg = np.array(
            [sum((w[k] * E[k, c] for k in range(1, n)), w[0] * E[0, c]) / tot for c in range(sa.d)],
            dtype=object,
        )
        rows[i] = sa.mix(E[i], avg)
    return rows


def _enclosure(sa: Any, st: State, j: int, inv_tau: Any) -> np.ndarray:
    """Temperature-lemma enclosure: hardmax output ± ‖V‖ p_i diam, p_i ≤ (n-|C|)/|C| e^{-γ/τ}.

    The exact gaps come from float-proposed runner-ups (:func:`~exactinterp.core.scores.runner_up_gaps`);
    rows sharing a maximiser set share their mean.
    """
    sl = st.seq_slice(j)
    E = st.E[sl]
    n, d = E.shape
    sets = maximiser_sets(sa, st, j)
    local = [tuple(c - sl.start for c in C) for C in sets]
    gaps = runner_up_gaps(sa, E, st.F[sl], st.R[sl], local)
    spread = np.array([max(E[:, c]) - min(E[:, c]) for c in range(d)], dtype=object)  # |x_k - mean_C| <= spread
    vspread = [flint.arb(v) for v in np.abs(sa.V).dot(spread)]
    means: dict[tuple[int, ...], np.ndarray] = {}
    rows = np.empty((n, d), dtype=object)
    for i in range(n):
        C = local[i]
        if C not in means:
            means[C] = E[list(C)].sum(axis=0) * (ONE / len(C))
        mid = sa.mix(E[i], means[C])
        if len(C) == n:
            rows[i] = mid
            continue
        p = flint.arb(to_q(n - len(C)) / len(C)) * (-(flint.arb(gaps[i]) * inv_tau)).exp()
        p = min(p.upper(), flint.arb(1).upper())
        rows[i] = np.array([flint.arb(mid[c]) + flint.arb(0, (vspread[c] * p).upper()) for c in range(d)], dtype=object)
    return rows


def operator_norm_upper(V: np.ndarray) -> float:
    """An upper bound of the spectral norm of an exact matrix (float, rounded up)."""
    return float(np.linalg.norm(to_float_array(V), 2)) * (1 + 1e-12) + 1e-300


def diameter_upper(X: np.ndarray) -> float:
    """An upper bound of max_{k,l} ‖x_k - x_l‖ (per-coordinate spreads, exact, then rounded up)."""
    spread = [max(X[:, c]) - min(X[:, c]) for c in range(X.shape[1])]
    return math.sqrt(sum(float(s) ** 2 for s in spread)) * (1 + 1e-12)


def temperature_bound(gamma: float, n: int, vnorm: float, diam: float, delta: float) -> float:
    """τ_0(δ) = γ / ln((n - 1) ‖V‖ diam / δ); the logarithm is clamped below at 1 (then τ_0 = γ).

    The clamp covers the degenerate cases (n = 1, or a ratio ≤ e) where every τ ≤ γ already gives
    a deviation below δ.
    """
    if not (gamma > 0 and delta > 0):
        raise ValueError("temperature_bound needs gamma > 0 and delta > 0")
    ratio = max(n - 1, 1) * vnorm * diam / delta
    return gamma / max(math.log(ratio) if ratio > 0 else 0.0, 1.0)
