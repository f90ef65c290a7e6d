"""The lemmas' predictions, computed from their *statements* (extreme projections, box corners, norms).

A prediction never runs a layer, so comparing it with :meth:`SelfAttention.apply` (or
:func:`sa_apply`) is a real check. All arithmetic is exact (``QQ``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.attention import SelfAttention
from ..core.numbers import ONE, ZERO, exact_dot, to_q
from ..core.scores import maximiser_sets
from ..core.state import State

__all__ = [
    "sa_apply",
    "sa_maximisers",
    "same_tokens",
    "projections",
    "extreme_sets",
    "mean_of",
    "two_extremes_hypotheses",
    "two_extremes_prediction",
    "two_extremes_conclusion",
    "in_box",
    "corner_prediction",
    "corner_conclusion",
    "sq_norm",
    "on_sphere",
    "softmax_gap_bound",
]


def sa_apply(sa: SelfAttention, X: np.ndarray) -> np.ndarray:
    """Exact output of one layer on one sequence."""
    return sa.apply(State.from_sequences([X])).E


def sa_maximisers(sa: SelfAttention, X: np.ndarray) -> list[tuple[int, ...]]:
    """Exact hardmax maximiser sets (0-based token indices) of one sequence."""
    return maximiser_sets(sa, State.from_sequences([X]), 0)


def same_tokens(A: np.ndarray, B: np.ndarray) -> bool:
    """Exact equality of two token arrays, entry by entry."""
    return A.shape == B.shape and all(a == b for a, b in zip(A.ravel(), B.ravel(), strict=True))


def projections(X: np.ndarray, v: Sequence[Any]) -> list:
    """Exact projections <v, x_i>."""
    return [exact_dot(v, x) for x in X]


def extreme_sets(X: np.ndarray, v: Sequence[Any]) -> tuple[list[int], list[int]]:
    """Indices attaining max and min of <v, x_i> (exact)."""
    p = projections(X, v)
    hi, lo = max(p), min(p)
    return [i for i, s in enumerate(p) if s == hi], [i for i, s in enumerate(p) if s == lo]


def mean_of(X: np.ndarray, idx: Sequence[int]) -> np.ndarray:
    """Exact mean of the tokens X[idx] (with multiplicity)."""
    return X[list(idx)].sum(axis=0) * (ONE / len(idx))


def _distinct(X: np.ndarray, idx: Sequence[int]) -> int:
    return len({tuple(X[i]) for i in idx})


def two_extremes_hypotheses(X: np.ndarray, v: Sequence[Any]) -> bool:
    """Lemma 4.1's hypotheses: v != 0, no token with <v, x> = 0, each extreme attained by one token value."""
    if all(to_q(a) == 0 for a in v):
        return False
    top, bot = extreme_sets(X, v)
    return all(s != 0 for s in projections(X, v)) and _distinct(X, top) == 1 and _distinct(X, bot) == 1


def two_extremes_prediction(X: np.ndarray, v: Sequence[Any], lam: Any = ONE, rho: Any = ZERO) -> np.ndarray:
    """General exact Lemma 4.1: rho x_i + lam * (mean of top | mean of bottom | mean of all) by the sign of <v, x_i>."""
    lam, rho = to_q(lam), to_q(rho)
    top, bot = extreme_sets(X, v)
    m_top, m_bot, m_all = mean_of(X, top), mean_of(X, bot), mean_of(X, range(len(X)))
    out = np.empty(X.shape, dtype=object)
    for i, s in enumerate(projections(X, v)):
        m = m_top if s > 0 else m_bot if s < 0 else m_all
        out[i] = X[i] * rho + m * lam
    return out


def two_extremes_conclusion(X: np.ndarray, Y: np.ndarray, v: Sequence[Any]) -> bool:
    """Lemma 4.1's conclusion: Y_i is the top token if <v, x_i> > 0 and the bottom token otherwise."""
    top, bot = extreme_sets(X, v)
    x_top, x_bot = X[top[0]], X[bot[0]]
    return all(same_tokens(Y[i], x_top if s > 0 else x_bot) for i, s in enumerate(projections(X, v)))


def in_box(X: np.ndarray, R: Any, open_at_zero: bool = True) -> bool:
    """All coordinates in (0, R] (or [0, R] if not ``open_at_zero``)."""
    R = to_q(R)
    return all((x > 0 if open_at_zero else x >= 0) and x <= R for x in X.ravel())


def corner_prediction(X: np.ndarray, R: Any) -> np.ndarray:
    """General exact Lemma 4.2 (tokens in [0, R]^d, Q = K = V = I, rho = 0).

    Token x_i goes to the mean of the tokens x_j with x_j,k = R on every coordinate k where x_i,k > 0
    (all tokens if x_i = 0); for x_i in (0, R]^d these are the copies of the corner R 1.
    """
    R = to_q(R)
    out = np.empty(X.shape, dtype=object)
    for i, x in enumerate(X):
        supp = [k for k, a in enumerate(x) if a > 0]
        C = [j for j, y in enumerate(X) if all(y[k] == R for k in supp)]
        out[i] = mean_of(X, C)
    return out


def corner_conclusion(Y: np.ndarray, R: Any) -> bool:
    """Lemma 4.2's conclusion: every output token is the corner R 1."""
    R = to_q(R)
    return all(a == R for a in Y.ravel())


def sq_norm(x: Sequence[Any]) -> Any:
    """Exact squared Euclidean norm."""
    return exact_dot(x, x)


def on_sphere(X: np.ndarray, R: Any) -> bool:
    """All tokens satisfy |x|^2 = R^2 exactly."""
    R = to_q(R)
    return all(sq_norm(x) == R * R for x in X)


def softmax_gap_bound(scores: Sequence[Any], tau: float) -> float:
    """Bound (n - |C|)/|C| exp(-gap/tau) on the softmax weight outside the exact argmax set C of ``scores``."""
    s = [to_q(v) for v in scores]
    top = max(s)
    c = sum(1 for v in s if v == top)
    rest = [v for v in s if v != top]
    if not rest:
        return 0.0
    return (len(s) - c) / c * float(np.exp(-float(top - max(rest)) / tau))
