"""Checks of the temperature lemma, independent of the engine's own enclosures (mpmath at high precision).

:func:`measured_deviation` evaluates a softmax layer directly in mpmath and compares it with the
exact hardmax layer; :func:`lemma_bounds` evaluates the lemma's two bounds; :func:`engine_encloses`
checks that the engine's ball output contains the mpmath value.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np

from ..core.attention import SelfAttention
from ..core.numbers import Q
from ..core.scores import score_gaps, score_matrix
from ..core.softmax import diameter_upper, operator_norm_upper
from ..core.state import State

__all__ = ["lemma_bounds", "measured_deviation", "engine_encloses", "hardmax_twin", "softmax_rows_mp"]


def _mp(v: Any) -> Any:
    """An exact rational as an mpmath number (at the working precision)."""
    return mpmath.mpf(int(v.p)) / int(v.q) if isinstance(v, Q) else mpmath.mpf(v)


def hardmax_twin(sa: SelfAttention) -> SelfAttention:
    """The same layer at τ = 0."""
    return SelfAttention(Q=sa.Q, K=sa.K, V=sa.V, rho=sa.rho, tau=0)


def lemma_bounds(sa: SelfAttention, X: np.ndarray, tau: Any) -> tuple[float, float]:
    """(sharp, coarse) bounds of max_i ‖SA_τ(X)_i - SA_0(X)_i‖ from the lemma, evaluated in mpmath."""
    n, d = X.shape
    vnorm = operator_norm_upper(sa.V)
    diam = diameter_upper(X)
    Xf = [[_mp(v) for v in row] for row in X]
    t = _mp(tau)
    sharp = coarse = mpmath.mpf(0)
    for C, g in score_gaps(sa, X):
        if g is None:
            continue
        e = mpmath.exp(-(_mp(g)) / t)
        mean = [sum(Xf[k][c] for k in C) / len(C) for c in range(d)]
        far = max(mpmath.sqrt(sum((Xf[k][c] - mean[c]) ** 2 for c in range(d))) for k in range(n))
        sharp = max(sharp, vnorm * (n - len(C)) / len(C) * e * far)
        coarse = max(coarse, (n - 1) * vnorm * diam * e)
    return float(sharp), float(coarse)


def measured_deviation(sa: SelfAttention, X: np.ndarray, tau: Any, dps: int | None = None) -> float:
    """max_i ‖SA_τ(X)_i - SA_0(X)_i‖ computed directly in mpmath (default: 30 digits below the bound)."""
    d = X.shape[1]
    hard = hardmax_twin(sa).apply(State.from_sequences([X]))
    if dps is None:
        _, coarse = lemma_bounds(sa, X, tau)
        dps = 30 + (int(-math.log10(coarse)) if 0 < coarse < 1 else 0)
    with mpmath.workdps(dps):
        worst = mpmath.mpf(0)
        for i, soft in enumerate(softmax_rows_mp(sa, X, tau)):
            h = hard.E[i]
            worst = max(worst, mpmath.sqrt(mpmath.fsum((soft[c] - _mp(h[c])) ** 2 for c in range(d))))
        return float(worst)


def engine_encloses(sa: SelfAttention, X: np.ndarray, dps: int = 60, tau_check: Any = None) -> bool:
    """True iff the engine's ball output of the softmax layer ``sa`` contains the mpmath value.

    ``tau_check`` (default ``sa.tau``) is the temperature of the mpmath evaluation (tests use a
    wrong one to see the check fail).
    """
    balls = sa.apply(State.from_sequences([X])).E
    tol = mpmath.mpf(10) ** (5 - dps)
    with mpmath.workdps(dps):
        for i, soft in enumerate(softmax_rows_mp(sa, X, sa.tau if tau_check is None else tau_check)):
            for c, val in enumerate(soft):
                ball = balls[i, c]
                if isinstance(ball, Q):
                    ok = abs(val - _mp(ball)) <= tol
                else:
                    mid = mpmath.mpf(ball.mid().str(dps + 10, radius=False))
                    rad = mpmath.mpf(ball.rad().str(20, radius=False))
                    ok = abs(val - mid) <= rad * (1 + mpmath.mpf(10) ** -15) + tol
                if not ok:
                    return False
    return True


def softmax_rows_mp(sa: SelfAttention, X: np.ndarray, tau: Any):
    """Rows of SA_τ(X) in mpmath at the current working precision (scores exact)."""
    n, d = X.shape
    S = score_matrix(sa, X)
    t = _mp(tau)
    Xm = [[_mp(v) for v in row] for row in X]
    Vm = [[_mp(v) for v in row] for row in sa.V]
    rho = _mp(sa.rho)
    for i in range(n):
        s = [_mp(v) for v in S[i]]
        m = max(s)
        w = [mpmath.exp((v - m) / t) for v in s]
        tot = mpmath.fsum(w)
        avg = [mpmath.fsum(w[k] * Xm[k][c] for k in range(n)) / tot for c in range(d)]
        yield [rho * Xm[i][c] + mpmath.fsum(Vm[c][r] * avg[r] for r in range(d)) for c in range(d)]
