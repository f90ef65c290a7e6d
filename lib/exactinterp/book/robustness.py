"""Adversarial datasets and float experiments on exactly constructed models (``book/robustness.ipynb``).

The property tests draw the same families with Hypothesis (``tests/strategies.py``); here they are
seeded (``numpy.random.default_rng``) so that a chapter prints the same numbers everywhere.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ..core.dataset import Dataset
from ..core.numbers import QQ, to_float_array
from ..core.transformer import Transformer

__all__ = ["ADVERSARIAL", "adversarial_dataset", "scaled", "float_deviation", "depth_dataset", "trace_table"]

#: Adversarial families (ours) and what makes each one hard.
ADVERSARIAL: dict[str, str] = {
    "lattice": "integer lattice {-2..2}^d: equal projections, hardmax ties, equal sets in other proportions",
    "collinear": "every token on one rational line",
    "cocircular": "rational points of one circle (inverse stereographic projection)",
    "cospherical": "rational points of one sphere in R^d",
    "duplicates": "repeated tokens within and across sequences",
    "permuted": "permuted and replicated copies with consistent outputs",
    "subsets": "sequences whose tokens are subsets of another one's",
    "scales": "coordinates k 10^e, e in [-9, 9], within a factor 10^6 per dataset",
    "identity": "targets equal to the inputs",
}


def _pool(family: str, rng: np.random.Generator, d: int, size: int) -> list[tuple]:
    """Token values of one family (Fractions)."""

    def fr(lo: int, hi: int, dens=(1, 2, 3, 4)) -> Fraction:
        return Fraction(int(rng.integers(lo, hi + 1)), int(rng.choice(dens)))

    if family == "collinear":
        a = [fr(-8, 8) for _ in range(d)]
        b = [fr(1, 6) for _ in range(d)]
        ts = [fr(-6, 6, (1, 2, 3)) for _ in range(size)]
        return [tuple(x + t * y for x, y in zip(a, b, strict=True)) for t in ts]
    if family == "cocircular":
        R = Fraction(int(rng.integers(1, 6)))
        out = []
        for _ in range(size):
            t = fr(-8, 8)
            p = [R * (1 - t * t) / (1 + t * t), R * 2 * t / (1 + t * t)]
            out.append(tuple(p + [Fraction(0)] * (d - 2)))
        return out
    if family == "cospherical":
        R = Fraction(int(rng.integers(1, 4)))
        out = []
        for _ in range(size):
            r = [fr(-4, 4, (1, 2, 3)) for _ in range(d - 1)]
            r2 = sum((x * x for x in r), Fraction(0))
            out.append(tuple([R * 2 * x / (r2 + 1) for x in r] + [R * (r2 - 1) / (r2 + 1)]))
        return out
    if family == "scales":
        e0 = int(rng.integers(-9, 4))
        return [
            tuple(Fraction(int(rng.integers(-9, 10))) * Fraction(10) ** int(rng.integers(e0, e0 + 7)) for _ in range(d))
            for _ in range(size)
        ]
    return [tuple(Fraction(int(v)) for v in rng.integers(-2, 3, size=d)) for _ in range(size)]  # lattice-like


def adversarial_dataset(family: str, seed: int, d: int | None = None, N: int = 4, n: int = 6) -> Dataset:
    """A valid dataset of one adversarial family (deterministic in ``seed``)."""
    if family not in ADVERSARIAL:
        raise ValueError(f"unknown family {family!r}")
    rng = np.random.default_rng(seed)
    d = d or int(rng.integers(2, 9))
    pool = _pool(family, rng, d, max(3, N * n // 2))

    def pick() -> tuple:
        if family == "scales":
            return pool[int(rng.integers(len(pool)))]
        return tuple(Fraction(int(rng.integers(-6, 7)), 2) for _ in range(d))

    inputs: list[list[tuple]] = []
    outputs: list[list[tuple]] = []
    maps: dict[tuple, dict] = {}
    for j in range(N):
        base = inputs[int(rng.integers(j))] if j else None
        if base and family == "permuted":
            X = [base[i] for i in rng.permutation(len(base))] * int(rng.integers(1, 3))
        elif base and family == "subsets":
            X = [base[i] for i in sorted(rng.choice(len(base), int(rng.integers(1, len(base) + 1)), replace=False))]
        elif base and family == "duplicates" and rng.integers(2):
            X = base + [base[int(rng.integers(len(base)))]]
        else:
            X = [pool[int(rng.integers(len(pool)))] for _ in range(int(rng.integers(1, n + 1)))]
            if family == "duplicates" and len(X) > 1:
                X[-1] = X[0]
        counts: dict = {}
        for x in X:
            counts[x] = counts.get(x, 0) + 1
        key = tuple(sorted((k, Fraction(v, len(X))) for k, v in counts.items()))
        if key in maps:
            f, m = maps[key], len(X)
        elif family == "identity":
            m = len(X)
            f = {x: x for x in X}
        else:
            m = int(rng.integers(1, len(X) + 1))
            f = {X[0]: pick()}
            f.update({x: f[X[0]] for x in X[m:]})
            for x in X[:m]:
                f.setdefault(x, pick())
        maps.setdefault(key, f)
        inputs.append(X)
        outputs.append([f[x] for x in X[:m]])

    def q(seq: list[tuple]) -> list[list[Any]]:
        return [[QQ(v.numerator, v.denominator) for v in t] for t in seq]

    return Dataset([q(X) for X in inputs], [q(Y) for Y in outputs])


def scaled(ds: Dataset, k: int) -> Dataset:
    """The same dataset in other units: every coordinate (inputs and outputs) times 10^k, exactly."""
    s = QQ(10) ** k if k >= 0 else QQ(1) / QQ(10) ** (-k)
    return Dataset([X * s for X in ds.inputs], [Y * s for Y in ds.outputs])


def float_deviation(T: Transformer, ds: Dataset, dtype: Any = np.float64, relative: bool = True) -> float:
    """Largest |float forward - target| over all tokens (divided by the largest |target| if ``relative``)."""
    dev, top = 0.0, 0.0
    for j, X in enumerate(ds.inputs):
        tgt = to_float_array(ds.targets(j))
        out = T.forward(X, exact=False, dtype=dtype).astype(np.float64)
        with np.errstate(invalid="ignore"):
            err = np.abs(out - tgt)
        dev = max(dev, float(np.max(err)) if np.all(np.isfinite(err)) else float("inf"))
        top = max(top, float(np.max(np.abs(tgt))))
    return dev / top if relative and top > 0 else dev


def depth_dataset(sum_m: int, seed: int, d: int = 2, n: int = 8) -> Dataset:
    """Random rational dataset with N = ceil(sum_m / 2) sequences of n distinct tokens and sum_j m^j = sum_m."""
    rng = np.random.default_rng(seed)
    N = (sum_m + 1) // 2
    ms = [2] * (sum_m // 2) + [1] * (sum_m % 2)
    inputs, outputs = [], []
    for j in range(N):
        X: list[tuple] = []
        while len(X) < n:
            t = tuple(Fraction(int(v), 4) for v in rng.integers(-16, 17, size=d))
            if t not in X:
                X.append(t)
        inputs.append([[QQ(v.numerator, v.denominator) for v in t] for t in X])
        outputs.append([[QQ(int(v), 2) for v in rng.integers(-8, 9, size=d)] for _ in range(ms[j])])
    return Dataset(inputs, outputs)


def trace_table(trace: list) -> str:
    """Text table of a ``float_trace``: margin, score error, broken/escaped rows, drift, gain."""
    head = f"{'block':>5} {'SA':>7} {'margin':>8} {'eps':>8} {'broken':>6} {'escaped':>7} {'drift':>8} {'gain':>8}"
    lines = [head]
    for t in trace:
        dec = t.margin is not None
        m = f"{float(t.margin):8.2g}" if dec else ""
        e = f"{t.score_error:8.1e}" if dec else ""
        b = f"{t.broken:6d}" if dec else ""
        x = f"{t.escaped:7d}" if dec else ""
        lines.append(f"{t.block:5d} {t.kind:>7} {m:>8} {e:>8} {b:>6} {x:>7} {t.deviation:8.1e} {t.gain:8.1e}")
    return "\n".join(lines)
