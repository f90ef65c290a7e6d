"""Seeded random and adversarial dataset families for the construction tests and chapters.

Every generator returns a valid :class:`~exactinterp.dataset.Dataset` (exact rationals): outputs
are assigned so that equal tokens of one sequence ask for equal outputs, and a draw that the
dataset validation rejects (equal distributions asking for different outputs) is redrawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np

from ..core.dataset import Dataset
from ..errors import DatasetError

__all__ = ["FAMILIES", "make_outputs", "family_dataset", "suite"]

Token = tuple[Fraction, ...]


def _rat(rng: np.random.Generator, lo: int, hi: int, den: int) -> Fraction:
    return Fraction(int(rng.integers(lo * den, hi * den + 1)), den)


def _token(rng: np.random.Generator, d: int, lo: int = -2, hi: int = 2, den: int = 8) -> Token:
    return tuple(_rat(rng, lo, hi, den) for _ in range(d))


def make_outputs(rng: np.random.Generator, X: list[Token], m: int, pool: list[Token] | None = None) -> list[Token]:
    """m outputs for X, consistent: equal tokens get equal outputs, tokens after m go to y_1."""
    d = len(X[0])
    m = max(1, min(m, len(X)))

    def draw() -> Token:
        if pool is not None:
            return pool[int(rng.integers(len(pool)))]
        return _token(rng, d, -3, 3, 4)

    Y: list[Token] = []
    tail = {X[i] for i in range(m, len(X))}
    for k in range(m):
        same = next((Y[k2] for k2 in range(k) if X[k2] == X[k]), None)
        if same is not None:
            Y.append(same)
        elif k > 0 and (X[k] in tail or X[k] == X[0]):
            Y.append(Y[0])
        else:
            Y.append(draw())
    return Y


def _seqs_random(rng, d, N, n_max, m_max):
    return [[_token(rng, d) for _ in range(int(rng.integers(1, n_max + 1)))] for _ in range(N)], None


def _seqs_shared(rng, d, N, n_max, m_max):
    pool = [_token(rng, d) for _ in range(int(rng.integers(3, 7)))]
    seqs = [[pool[int(i)] for i in rng.integers(0, len(pool), size=int(rng.integers(2, n_max + 1)))] for _ in range(N)]
    return seqs, None


def _seqs_permutation(rng, d, N, n_max, m_max):
    seqs, _ = _seqs_shared(rng, d, max(1, N - 1), n_max, m_max)
    base = seqs[0]
    perm = [base[int(i)] for i in rng.permutation(len(base))]
    return seqs + [perm], "permutation"


def _seqs_proportions(rng, d, N, n_max, m_max):
    a, b = _token(rng, d), _token(rng, d)
    while b == a:
        b = _token(rng, d)
    seqs = []
    used = set()
    while len(seqs) < max(2, N):
        ka, kb = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        g = np.gcd(ka, kb)
        if (ka // g, kb // g) in used:
            continue
        used.add((ka // g, kb // g))
        s = [a] * ka + [b] * kb
        seqs.append([s[int(i)] for i in rng.permutation(len(s))])
    return seqs, None


def _seqs_lattice(rng, d, N, n_max, m_max):
    seqs = [
        [tuple(Fraction(int(v)) for v in rng.integers(-2, 3, size=d)) for _ in range(int(rng.integers(1, n_max + 1)))]
        for _ in range(N)
    ]
    return seqs, None


def _seqs_collinear(rng, d, N, n_max, m_max):
    v = tuple(Fraction(int(x)) for x in rng.integers(-3, 4, size=d))
    if all(x == 0 for x in v):
        v = (Fraction(1),) * d
    w = _token(rng, d)
    seqs = []
    for _ in range(N):
        ts = [Fraction(int(t), 4) for t in rng.integers(-8, 9, size=int(rng.integers(1, n_max + 1)))]
        seqs.append([tuple(wi + t * vi for wi, vi in zip(w, v, strict=True)) for t in ts])
    return seqs, None


def _seqs_circle(rng, d, N, n_max, m_max):
    pts = []
    for k in range(1, 12):  # rational points (1 - t^2, 2t) / (1 + t^2) on the unit circle
        t = Fraction(k, 3) * (1 if k % 2 else -1)
        pts.append(((1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)) + (Fraction(0),) * (d - 2))
    seqs = [[pts[int(i)] for i in rng.integers(0, len(pts), size=int(rng.integers(1, n_max + 1)))] for _ in range(N)]
    return seqs, None


def _seqs_scales(rng, d, N, n_max, m_max):
    seqs = []
    for _ in range(N):
        s = []
        for _ in range(int(rng.integers(1, n_max + 1))):
            e = int(rng.integers(-6, 7))
            s.append(tuple(Fraction(int(rng.integers(-9, 10))) * Fraction(10) ** e for _ in range(d)))
        seqs.append(s)
    return seqs, None


def _seqs_targets_inputs(rng, d, N, n_max, m_max):
    seqs, _ = _seqs_shared(rng, d, N, n_max, m_max)
    return seqs, "inputs"


FAMILIES: dict[str, Callable] = {
    "random": _seqs_random,
    "shared": _seqs_shared,
    "permutation": _seqs_permutation,
    "proportions": _seqs_proportions,
    "lattice": _seqs_lattice,
    "collinear": _seqs_collinear,
    "circle": _seqs_circle,
    "scales": _seqs_scales,
    "targets=inputs": _seqs_targets_inputs,
}


def family_dataset(family: str, seed: int, d: int, N: int, n_max: int, m_max: int, tries: int = 50) -> Dataset:
    """One valid dataset of ``family`` (redrawn until the validation accepts it)."""
    rng = np.random.default_rng(seed)
    for _ in range(tries):
        seqs, mode = FAMILIES[family](rng, d, N, n_max, m_max)
        pool = sorted({x for s in seqs for x in s}) if mode == "inputs" else None
        outs = [make_outputs(rng, s, int(rng.integers(1, m_max + 1)), pool) for s in seqs]
        if mode == "permutation":  # the permuted copy must reproduce the original's value map
            base, perm, Y0 = seqs[0], seqs[-1], outs[0]
            vm: dict = {}
            for i, x in enumerate(base):
                vm.setdefault(x, Y0[i] if i < len(Y0) else Y0[0])
            last = max((i for i, x in enumerate(perm) if vm[x] != vm[perm[0]]), default=0)
            outs[-1] = [vm[perm[i]] for i in range(last + 1)]
        try:
            return Dataset([[list(x) for x in s] for s in seqs], [[list(y) for y in Y] for Y in outs])
        except DatasetError:
            continue
    raise DatasetError(f"no valid {family} dataset after {tries} draws (seed {seed})")


def suite(
    count: int, seed: int = 0, d_range: tuple[int, int] = (2, 5), N_max: int = 5, n_max: int = 12, m_max: int = 3
) -> Iterator[tuple[str, Dataset]]:
    """``count`` datasets cycling through every family, with seeded sizes."""
    rng = np.random.default_rng(seed)
    names = list(FAMILIES)
    for k in range(count):
        fam = names[k % len(names)]
        d = int(rng.integers(d_range[0], d_range[1] + 1))
        N = int(rng.integers(1, N_max + 1))
        yield fam, family_dataset(fam, seed * 100003 + k, d, N, n_max, m_max)

