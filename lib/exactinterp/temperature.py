"""The temperature lemma (ours): softmax is exponentially close to hardmax, with an explicit τ.

For one sequence X, token i, scores ``s_ik = <Q x_i, K x_k>``, maximiser set ``C_i`` and score gap
``γ_i = max_k s_ik - max_{k ∉ C_i} s_ik``, the softmax weight outside ``C_i`` is
``p_i ≤ (n - |C_i|) / |C_i| · exp(-γ_i / τ)`` and

    ‖SA_τ(X)_i - SA_0(X)_i‖ ≤ ‖V‖ p_i max_k ‖x_k - mean(x_C)‖ ≤ (n - 1) ‖V‖ diam(X) exp(-γ_i / τ).

Hence every token is within δ of its hardmax image as soon as
``τ ≤ τ_0(δ) = γ_min / ln((n - 1) ‖V‖ diam(X) / δ)``. Exact quantities (scores, gaps) are
rationals; the measured deviation uses mpmath at high precision (independent of the lemma).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import flint
import mpmath
import numpy as np

from .construct.primitives import power_of_two_below
from .layers import SelfAttention
from .numbers import ONE, Q, q_matrix, to_float_array

__all__ = [
    "score_matrix",
    "score_gaps",
    "GapReport",
    "layer_gaps",
    "operator_norm_upper",
    "diameter_upper",
    "temperature_bound",
    "choose_temperature",
    "scale_temperature",
    "lemma_bounds",
    "measured_deviation",
    "LemmaExperiment",
    "lemma_experiment",
    "engine_encloses",
    "clustering_sequence",
    "temperature_against_n",
]


def _mp(v: Any) -> Any:
    """An exact rational as an mpmath number (at the working precision)."""
    return mpmath.mpf(int(v.p)) / int(v.q) if isinstance(v, Q) else mpmath.mpf(v)


def _as_q(X: Any) -> np.ndarray:
    return X if isinstance(X, np.ndarray) and X.dtype == object else q_matrix(X)


def score_matrix(sa: SelfAttention, X: Any) -> np.ndarray:
    """Exact n×n score matrix ``<Q x_i, K x_k>`` of one rational sequence (flint matrices)."""
    X = _as_q(X)
    n, d = X.shape
    Xm = flint.fmpq_mat(n, d, [v for v in X.ravel()])
    Qm = flint.fmpq_mat(sa.h, d, [v for v in sa.Q.ravel()])
    Km = flint.fmpq_mat(sa.h, d, [v for v in sa.K.ravel()])
    S = ((Xm * Qm.transpose()) * (Xm * Km.transpose()).transpose()).entries()
    out = np.empty(n * n, dtype=object)
    out[:] = S
    return out.reshape(n, n)


def score_gaps(sa: SelfAttention, X: Any) -> list[tuple[tuple[int, ...], Any]]:
    """For every token: (maximiser set C_i, exact gap γ_i), γ_i = None when every score ties."""
    S = score_matrix(sa, X)
    out = []
    for row in S:
        top = max(row)
        C = tuple(k for k, v in enumerate(row) if v == top)
        rest = [v for v in row if v != top]
        out.append((C, top - max(rest) if rest else None))
    return out


@dataclass
class GapReport:
    """What the temperature lemma needs from one layer over a list of sequences."""

    gamma_min: Any  # smallest exact score gap (None if every row ties)
    n_max: int  # longest sequence
    diam: float  # upper bound of the largest Euclidean diameter (float, rounded up)
    vnorm: float  # upper bound of ‖V‖_2

    def tau0(self, delta: float) -> float:
        """τ_0(δ) of the lemma for this layer (inf if no score decision is needed)."""
        if self.gamma_min is None:
            return math.inf
        return temperature_bound(float(self.gamma_min), self.n_max, self.vnorm, self.diam, delta)


def operator_norm_upper(V: np.ndarray) -> float:
    """An upper bound of the spectral norm of an exact matrix (float, rounded up)."""
    Vf = to_float_array(V)
    return float(np.linalg.norm(Vf, 2)) * (1 + 1e-12) + 1e-300


def diameter_upper(X: Any) -> float:
    """An upper bound of max_{k,l} ‖x_k - x_l‖ (per-coordinate spreads, exact, then rounded up)."""
    X = _as_q(X)
    spread = [max(X[:, c]) - min(X[:, c]) for c in range(X.shape[1])]
    return math.sqrt(sum(float(s) ** 2 for s in spread)) * (1 + 1e-12)


def layer_gaps(sa: SelfAttention, seqs: Sequence[Any]) -> GapReport:
    """Score gaps, longest length and largest diameter of ``sa`` over rational sequences."""
    gmin = None
    for X in seqs:
        for _, g in score_gaps(sa, X):
            if g is not None and (gmin is None or g < gmin):
                gmin = g
    return GapReport(
        gamma_min=gmin,
        n_max=max(len(X) for X in seqs),
        diam=max(diameter_upper(X) for X in seqs),
        vnorm=operator_norm_upper(sa.V),
    )


def temperature_bound(gamma: float, n: int, vnorm: float, diam: float, delta: float) -> float:
    """τ_0(δ) = γ / ln((n - 1) ‖V‖ diam / δ); the logarithm is clamped below at 1 (then τ_0 = γ)."""
    if not (gamma > 0 and delta > 0):
        raise ValueError("temperature_bound needs gamma > 0 and delta > 0")
    ratio = max(n - 1, 1) * vnorm * diam / delta
    return gamma / max(math.log(ratio) if ratio > 0 else 0.0, 1.0)


def choose_temperature(bound: float) -> Any:
    """A simple rational temperature at or below ``bound``: the largest power of two (exact)."""
    return power_of_two_below(bound * (1 - 1e-9))


def scale_temperature(sa: SelfAttention, seqs: Sequence[Any]) -> Any:
    """Smallest power of two ≥ max |score| over rational sequences: τ at the scale of the scores.

    A separating softmax layer wants weights far from 0 and 1 (every token contributes), the
    opposite of the clustering layer: a small τ makes the updates of distant tokens e^{-100} tiny.
    """
    top = max(abs(v) for X in seqs for v in score_matrix(sa, X).ravel())
    t = ONE
    while t < top:
        t = t * 2
    while t / 2 >= top and top > 0:
        t = t / 2
    return t


def lemma_bounds(sa: SelfAttention, X: Any, tau: Any) -> tuple[float, float]:
    """(sharp, coarse) bounds of max_i ‖SA_τ(X)_i - SA_0(X)_i‖ from the lemma, evaluated in mpmath."""
    X = _as_q(X)
    n = len(X)
    vnorm = operator_norm_upper(sa.V)
    diam = diameter_upper(X)
    Xf = [[_mp(v) for v in row] for row in X]
    t = _mp(tau)
    sharp = coarse = mpmath.mpf(0)
    for C, g in score_gaps(sa, X):
        if g is None:
            continue
        e = mpmath.exp(-(_mp(g)) / t)
        mean = [sum(Xf[k][c] for k in C) / len(C) for c in range(X.shape[1])]
        far = max(mpmath.sqrt(sum((Xf[k][c] - mean[c]) ** 2 for c in range(X.shape[1]))) for k in range(n))
        sharp = max(sharp, vnorm * (n - len(C)) / len(C) * e * far)
        coarse = max(coarse, (n - 1) * vnorm * diam * e)
    return float(sharp), float(coarse)


def measured_deviation(sa: SelfAttention, X: Any, tau: Any, dps: int | None = None) -> float:
    """max_i ‖SA_τ(X)_i - SA_0(X)_i‖ computed directly in mpmath (default: 30 digits below the bound)."""
    X = _as_q(X)
    d = X.shape[1]
    S = score_matrix(sa, X)
    hard = hardmax_twin(sa).apply(_state(X))
    if dps is None:
        _, coarse = lemma_bounds(sa, X, tau)
        dps = 30 + (int(-math.log10(coarse)) if 0 < coarse < 1 else 0)
    with mpmath.workdps(dps):
        worst = mpmath.mpf(0)
        for i, soft in enumerate(_softmax_rows_mp(sa, X, S, tau)):
            h = hard.E[i]
            dev = mpmath.sqrt(mpmath.fsum((soft[c] - _mp(h[c])) ** 2 for c in range(d)))
            worst = max(worst, dev)
        return float(worst)


@dataclass
class LemmaExperiment:
    """Measured deviations and the lemma's bounds over random layers (one row per layer)."""

    measured: np.ndarray
    sharp: np.ndarray
    coarse: np.ndarray
    at_tau0: np.ndarray  # measured deviation / δ at τ = τ_0(δ)


def lemma_experiment(count: int, seed: int = 0, n_max: int = 24) -> LemmaExperiment:
    """Random layers at random temperatures: measured deviation (mpmath) and the two bounds.

    τ is drawn so that the coarse bound lies between 1e-40 and 10; a second run per layer sets
    τ = τ_0(δ) for a random δ and records deviation / δ (at most 1 by the lemma).
    """
    from .suite import random_attention_layer

    rng = np.random.default_rng(seed)
    rows, ratios = [], []
    while len(rows) < count:
        d, n = int(rng.integers(2, 5)), int(rng.integers(2, n_max + 1))
        X, sa = random_attention_layer(rng, d, n)
        g = layer_gaps(sa, [X])
        if g.gamma_min is None:
            continue
        lead = (n - 1) * g.vnorm * g.diam
        target = 10 ** rng.uniform(-40, 1)
        tau = Q(int(float(g.gamma_min) / max(math.log(lead / target), 0.05) * 2**20) + 1, 2**20)
        sharp, coarse = lemma_bounds(sa, X, tau)
        rows.append((measured_deviation(sa, X, tau), sharp, coarse))
        delta = 10 ** rng.uniform(-12, -1)
        tau0 = choose_temperature(g.tau0(delta))
        ratios.append(measured_deviation(sa, X, tau0) / delta)
    arr = np.array(rows)
    return LemmaExperiment(arr[:, 0], arr[:, 1], arr[:, 2], np.array(ratios))


def clustering_sequence(rng: np.random.Generator, n: int, d: int = 2, t: int = 3) -> np.ndarray:
    """A leader t·1 followed by n - 1 random box tokens with coordinates in [1/2, 1) (denominator 64)."""
    rows = [[Q(t)] * d] + [[Q(int(v), 64) for v in rng.integers(32, 64, size=d)] for _ in range(n - 1)]
    return np.array(rows, dtype=object)


def temperature_against_n(ns: Sequence[int], delta: float, d: int = 2, t: int = 3, seed: int = 0) -> dict:
    """τ_0(δ) of the clustering layer (Q = K = V = I) on sequences of growing length n.

    Also returns the lower model γ_lb / ln((n-1) diam / δ) with γ_lb = (t - 1) d / 2 (the gap bound
    of the box tokens, coordinates ≥ 1/2) and the float64 deviation at the chosen power-of-two τ.
    """
    from .construct.primitives import clustering_sa

    rng = np.random.default_rng(seed)
    out: dict = {"n": [], "tau0": [], "tau": [], "model": [], "gamma": [], "deviation": []}
    sa1 = clustering_sa(d, 1)
    for n in ns:
        X = clustering_sequence(rng, n, d, t)
        g = layer_gaps(sa1, [X])
        tau0 = g.tau0(delta)
        tau = choose_temperature(tau0)
        sa = clustering_sa(d, tau)
        Xf = to_float_array(X)
        dev = float(np.max(np.linalg.norm(sa.forward_float(Xf) - Xf[0], axis=1)))
        gl = (t - 1) * d / 2
        out["n"].append(n)
        out["tau0"].append(tau0)
        out["tau"].append(tau)
        out["gamma"].append(g.gamma_min)
        out["model"].append(temperature_bound(gl, n, 1.0, g.diam, delta))
        out["deviation"].append(dev)
    return {k: (np.array(v) if k in ("n", "tau0", "model", "deviation") else v) for k, v in out.items()}


def engine_encloses(sa: SelfAttention, X: Any, dps: int = 60, tau_check: Any = None) -> bool:
    """True iff the engine's ball output of the softmax layer ``sa`` contains the mpmath value.

    ``tau_check`` (default ``sa.tau``) is the temperature of the mpmath evaluation (tests use a
    wrong one to see the check fail).
    """
    X = _as_q(X)
    d = X.shape[1]
    balls = sa.apply(_state(X)).E
    S = score_matrix(sa, X)
    with mpmath.workdps(dps):
        tau = sa.tau if tau_check is None else tau_check
        for i, soft in enumerate(_softmax_rows_mp(sa, X, S, tau)):
            for c in range(d):
                val = soft[c]
                ball = balls[i, c]
                if isinstance(ball, Q):
                    ok = abs(val - _mp(ball)) <= mpmath.mpf(10) ** (5 - dps)
                else:
                    mid = mpmath.mpf(ball.mid().str(dps + 10, radius=False))
                    rad = mpmath.mpf(ball.rad().str(20, radius=False))
                    ok = abs(val - mid) <= rad * (1 + mpmath.mpf(10) ** -15) + mpmath.mpf(10) ** (5 - dps)
                if not ok:
                    return False
    return True


def _softmax_rows_mp(sa: SelfAttention, X: np.ndarray, S: Any, tau: Any):
    """Rows of SA_τ(X) in mpmath at the current working precision (scores S exact)."""
    n, d = X.shape
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


def _state(X: np.ndarray):
    from .state import State

    return State.from_sequences([X])


def hardmax_twin(sa: SelfAttention) -> SelfAttention:
    """The same layer at τ = 0."""
    return SelfAttention(Q=sa.Q, K=sa.K, V=sa.V, rho=sa.rho, tau=0)
