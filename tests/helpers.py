"""Shared test helpers: small exact matrices and random rational data."""

import numpy as np

from exactinterp.core.numbers import QQ, q_matrix, q_vector


def qarr(rows) -> np.ndarray:
    """Object array of QQ from nested lists of ints/strings."""
    return q_matrix(rows)


def qvec(vals) -> np.ndarray:
    return q_vector(vals)


def rand_q_matrix(rng: np.random.Generator, n: int, d: int, lo: int = -6, hi: int = 6, den: int = 4) -> np.ndarray:
    """Random rational (n, d) matrix with small numerators/denominators."""
    out = np.empty((n, d), dtype=object)
    for i in range(n):
        for k in range(d):
            out[i, k] = QQ(int(rng.integers(lo * den, hi * den + 1)), int(rng.integers(1, den + 1)))
    return out
