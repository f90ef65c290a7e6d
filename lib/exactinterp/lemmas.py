"""Helpers for the model and lemma chapters: random exact instances and the lemmas' predictions.

Every prediction is computed from the *statement* of a lemma (extreme projections, box corners,
sphere norms), never by running a layer, so comparing it with :meth:`SelfAttention.apply` is a
real check. All arithmetic is exact (``QQ``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .layers import Block, FeedForward, SelfAttention
from .numbers import ONE, ZERO, q_matrix, to_float_array, to_q
from .state import State

__all__ = [
    "qarray",
    "random_tokens",
    "random_direction",
    "sa_apply",
    "sa_maximisers",
    "same_tokens",
    "projections",
    "extreme_sets",
    "mean_of",
    "two_extremes_hypotheses",
    "two_extremes_prediction",
    "two_extremes_conclusion",
    "two_extremes_tie_instance",
    "in_box",
    "corner_prediction",
    "corner_conclusion",
    "random_box_tokens",
    "random_box_boundary_tokens",
    "sq_norm",
    "on_sphere",
    "random_sphere_tokens",
    "random_block",
    "permuted",
    "weights_against_tau",
    "softmax_gap_bound",
]


def qarray(rows: Any) -> np.ndarray:
    """(n, d) object array of ``QQ`` from a list of rows (ints, "p/q", decimal strings)."""
    return q_matrix(rows)


def random_tokens(rng: np.random.Generator, n: int, d: int, num: int = 12, den: int = 4) -> np.ndarray:
    """n random tokens with coordinates k/den, |k| <= num (exact)."""
    ks = rng.integers(-num, num + 1, size=(n, d))
    return np.array([[to_q(int(k)) / den for k in row] for row in ks], dtype=object).reshape(n, d)


def random_direction(rng: np.random.Generator, d: int, num: int = 5) -> tuple:
    """A nonzero random integer direction v (exact)."""
    while True:
        v = rng.integers(-num, num + 1, size=d)
        if np.any(v != 0):
            return tuple(to_q(int(x)) for x in v)


def sa_apply(sa: SelfAttention, X: np.ndarray) -> np.ndarray:
    """Exact output of one layer on one sequence."""
    return sa.apply(State.from_sequences([X])).E


def sa_maximisers(sa: SelfAttention, X: np.ndarray) -> list[tuple[int, ...]]:
    """Exact hardmax maximiser sets (0-based token indices) of one sequence."""
    return sa.maximisers(State.from_sequences([X]), 0)


def same_tokens(A: np.ndarray, B: np.ndarray) -> bool:
    """Exact equality of two token arrays, entry by entry."""
    return A.shape == B.shape and all(a == b for a, b in zip(A.ravel(), B.ravel(), strict=True))


def _dot(u: Sequence[Any], x: Sequence[Any]) -> Any:
    return sum((to_q(a) * b for a, b in zip(u, x, strict=True)), ZERO)


def projections(X: np.ndarray, v: Sequence[Any]) -> list:
    """Exact projections <v, x_i>."""
    return [_dot(v, x) for x in X]


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


def two_extremes_tie_instance(rng: np.random.Generator, n: int, d: int, v: Sequence[Any]) -> np.ndarray:
    """Adversarial Lemma 4.1 instance: some tokens with <v, x> = 0 and both extremes attained by 2 distinct tokens."""
    X = random_tokens(rng, n, d)
    v = np.array([to_q(a) for a in v], dtype=object)
    vv = _dot(v, v)
    w = np.array([ZERO] * d, dtype=object)  # a nonzero vector orthogonal to v
    k = next(i for i in range(d) if v[i] != 0)
    w[(k + 1) % d], w[k] = v[k], -v[(k + 1) % d]
    for i in rng.choice(n, size=max(1, n // 4), replace=False):
        X[i] = X[i] - v * (_dot(v, X[i]) / vv)  # projection 0
    top, bot = extreme_sets(X, v)
    extra = [X[top[0]] + w, X[bot[0]] - w]
    return np.concatenate([X, np.array(extra, dtype=object)], axis=0)


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


def random_box_tokens(rng: np.random.Generator, n: int, d: int, R: int = 4, den: int = 8) -> np.ndarray:
    """n - 1 random tokens of (0, R]^d with denominator den, then the corner R 1 at a random position."""
    ks = rng.integers(1, R * den + 1, size=(n - 1, d))
    X = [[to_q(int(k)) / den for k in row] for row in ks]
    X.insert(int(rng.integers(0, n)), [to_q(R)] * d)
    return np.array(X, dtype=object).reshape(n, d)


def random_box_boundary_tokens(rng: np.random.Generator, n: int, d: int, R: int = 4, den: int = 8) -> np.ndarray:
    """Adversarial tokens of [0, R]^d: random box tokens with each coordinate set to 0 or R with probability 1/4."""
    X = random_box_tokens(rng, n, d, R=R, den=den)
    u = rng.random(size=X.shape)
    X[u < 0.25] = ZERO
    X[(u >= 0.25) & (u < 0.5)] = to_q(R)
    X[int(rng.integers(0, n))] = [to_q(R)] * d  # keep one corner token
    return X


def sq_norm(x: Sequence[Any]) -> Any:
    """Exact squared Euclidean norm."""
    return _dot(x, x)


def on_sphere(X: np.ndarray, R: Any) -> bool:
    """All tokens satisfy |x|^2 = R^2 exactly."""
    R = to_q(R)
    return all(sq_norm(x) == R * R for x in X)


def random_sphere_tokens(
    rng: np.random.Generator, n: int, d: int, R: Any = ONE, num: int = 30, den: int = 7
) -> np.ndarray:
    """n distinct rational points of the sphere |x| = R in R^d (inverse stereographic projection of r = k/den)."""
    from .construct.primitives import rational_sphere_point

    if n > (2 * num + 1) ** (d - 1):
        raise ValueError("not enough grid points r = k/den for n distinct sphere points")
    pts: list[tuple] = []
    while len(pts) < n:
        r = [to_q(int(k)) / den for k in rng.integers(-num, num + 1, size=d - 1)]
        p = rational_sphere_point(r, R)
        if p not in pts:
            pts.append(p)
    return np.array(pts, dtype=object).reshape(n, d)


def random_block(rng: np.random.Generator, d: int, width: int = 2, h: int = 1, num: int = 2) -> Block:
    """A hardmax block with small random integer weights (FF width ``width``, Q, K of rank <= h)."""

    def mat(r: int, c: int) -> np.ndarray:
        return np.array([[to_q(int(k)) for k in row] for row in rng.integers(-num, num + 1, size=(r, c))], dtype=object)

    ff = FeedForward(U=mat(width, d), b=mat(1, width)[0], W=mat(d, width), eta=ONE)
    sa = SelfAttention(Q=mat(h, d), K=mat(h, d), V=mat(d, d), rho=to_q(int(rng.integers(0, 2))))
    return Block(ff, sa)


def permuted(X: np.ndarray, perm: Sequence[int]) -> np.ndarray:
    """Rows of X in the order ``perm``."""
    return X[list(perm)]


def weights_against_tau(sa: SelfAttention, X: np.ndarray, i: int, taus: Sequence[float]) -> np.ndarray:
    """float64 attention weights of query i for each temperature (rows: taus), via ``weights_float``."""
    Xf = to_float_array(X)
    rows = []
    for t in taus:
        layer = SelfAttention(Q=sa.Q, K=sa.K, V=sa.V, rho=sa.rho, tau=to_q(float(t), allow_float=True))
        rows.append(layer.weights_float(Xf)[i])
    return np.array(rows)


def softmax_gap_bound(scores: Sequence[Any], tau: float) -> float:
    """Bound (n - |C|)/|C| exp(-gap/tau) on the softmax weight outside the exact argmax set C of ``scores``."""
    s = [to_q(v) for v in scores]
    top = max(s)
    c = sum(1 for v in s if v == top)
    rest = [v for v in s if v != top]
    if not rest:
        return 0.0
    return (len(s) - c) / c * float(np.exp(-float(top - max(rest)) / tau))
