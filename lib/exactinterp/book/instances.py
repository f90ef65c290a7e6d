"""Random exact instances for the model and lemma chapters and their tests (tokens, layers, blocks).

Datasets live in :mod:`exactinterp.book.families`; these are the smaller objects the lemma
chapters draw: token arrays with small rational coordinates, directions, random layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from ..construct.primitives import rational_sphere_point
from ..core.attention import SelfAttention
from ..core.feedforward import FeedForward
from ..core.numbers import ONE, ZERO, exact_dot, q_matrix, to_float_array, to_q
from ..core.transformer import Block, Transformer
from ..verify.lemmas import extreme_sets

__all__ = [
    "qarray",
    "random_tokens",
    "random_direction",
    "two_extremes_tie_instance",
    "random_box_tokens",
    "random_box_boundary_tokens",
    "random_sphere_tokens",
    "random_block",
    "random_transformer",
    "random_attention_layer",
    "permuted",
    "weights_against_tau",
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


def two_extremes_tie_instance(rng: np.random.Generator, n: int, d: int, v: Sequence[Any]) -> np.ndarray:
    """Adversarial Lemma 4.1 instance: some tokens with <v, x> = 0 and both extremes attained by 2 distinct tokens."""
    X = random_tokens(rng, n, d)
    v = np.array([to_q(a) for a in v], dtype=object)
    vv = exact_dot(v, v)
    w = np.array([ZERO] * d, dtype=object)  # a nonzero vector orthogonal to v
    k = next(i for i in range(d) if v[i] != 0)
    w[(k + 1) % d], w[k] = v[k], -v[(k + 1) % d]
    for i in rng.choice(n, size=max(1, n // 4), replace=False):
        X[i] = X[i] - v * (exact_dot(v, X[i]) / vv)  # projection 0
    top, bot = extreme_sets(X, v)
    extra = [X[top[0]] + w, X[bot[0]] - w]
    return np.concatenate([X, np.array(extra, dtype=object)], axis=0)


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


def random_sphere_tokens(
    rng: np.random.Generator, n: int, d: int, R: Any = ONE, num: int = 30, den: int = 7
) -> np.ndarray:
    """n distinct rational points of the sphere |x| = R in R^d (inverse stereographic projection of r = k/den)."""
    if n > (2 * num + 1) ** (d - 1):
        raise ValueError("not enough grid points r = k/den for n distinct sphere points")
    pts: list[tuple] = []
    while len(pts) < n:
        r = [to_q(int(k)) / den for k in rng.integers(-num, num + 1, size=d - 1)]
        p = rational_sphere_point(r, R)
        if p not in pts:
            pts.append(p)
    return np.array(pts, dtype=object).reshape(n, d)


def _small_rationals(rng: np.random.Generator, shape: tuple[int, int], num: int, den: int) -> np.ndarray:
    """Entries k / q with |k| <= num and 1 <= q <= den (q = 1 draws nothing)."""
    ks = rng.integers(-num, num + 1, size=shape)
    qs = rng.integers(1, den + 1, size=shape) if den > 1 else np.ones(shape, dtype=int)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        out[idx] = to_q(Fraction(int(ks[idx]), int(qs[idx])))
    return out


def random_block(
    rng: np.random.Generator, d: int, width: int = 2, h: int = 1, num: int = 2, den: int = 1, skips: bool = False
) -> Block:
    """A hardmax block with small random rational weights (FF width ``width``, Q, K of rank <= h).

    ``skips=False``: eta = 1 and rho in {0, 1}; ``skips=True``: eta and rho drawn like the weights.
    """

    def mat(r: int, c: int) -> np.ndarray:
        return _small_rationals(rng, (r, c), num, den)

    ff = FeedForward(U=mat(width, d), b=mat(1, width)[0], W=mat(d, width), eta=mat(1, 1)[0, 0] if skips else ONE)
    Q, K, V = mat(h, d), mat(h, d), mat(d, d)
    rho = mat(1, 1)[0, 0] if skips else to_q(int(rng.integers(0, 2)))
    return Block(ff, SelfAttention(Q=Q, K=K, V=V, rho=rho))


def random_transformer(d: int, num_blocks: int, seed: int, width: int = 3, h: int = 2) -> Transformer:
    """A random hardmax transformer with small rational weights k/q, |k| <= 3, q <= 2 (necessity checks)."""
    rng = np.random.default_rng([seed, 7])
    return Transformer(d, [random_block(rng, d, width, h, num=3, den=2, skips=True) for _ in range(num_blocks)])


def random_attention_layer(rng: np.random.Generator, d: int, n: int, tau: object = 1):
    """A random rational sequence (n, d) and a random SA layer (h ≤ d, small integer entries)."""
    X = q_matrix([[Fraction(int(v), 4) for v in rng.integers(-8, 9, size=d)] for _ in range(n)])
    h = int(rng.integers(1, d + 1))

    def mat(r: int) -> list:
        return [[Fraction(int(v)) for v in rng.integers(-2, 3, size=d)] for _ in range(r)]

    return X, SelfAttention(Q=mat(h), K=mat(h), V=mat(d), rho=int(rng.integers(0, 2)), tau=tau)


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
