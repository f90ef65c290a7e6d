"""Seeded random datasets in named families (for the book's checks and the tests).

Every generator is deterministic: ``random_dataset(family, seed)`` returns the same
:class:`~exactinterp.dataset.Dataset` on every machine. All datasets are *valid* (DESIGN §3):
outputs are chosen so that every token value has one target inside its sequence, and
sequences with equal token proportions ask for the same value map. ``invalid_dataset(kind)``
builds the counterexamples that must raise :class:`~exactinterp.dataset.DatasetError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from ..core.dataset import Dataset
from ..errors import DatasetError

__all__ = [
    "FAMILIES",
    "INVALID_KINDS",
    "random_dataset",
    "suite",
    "invalid_dataset",
    "invalid_raw",
    "figure5_dataset",
    "figure6_dataset",
    "figure7_dataset",
]

#: Family name -> one-line description.
FAMILIES: dict[str, str] = {
    "generic": "random small rationals, d 2..4, N <= 5",
    "shared": "sequences drawn from one small pool of tokens (they share most tokens)",
    "permutation": "a sequence and a permutation (and a replication) of it, with consistent outputs",
    "proportions": "sequences with the same token set in different proportions and different outputs",
    "equal_means": "the same token set in different proportions with equal means (needs a ReLU feature)",
    "lattice": "integer-lattice tokens in {-2..2}^d (many ties) and lattice targets",
    "collinear": "all tokens of all sequences on one line",
    "circle": "rational points on the unit circle (d = 2) or sphere (d = 3)",
    "scales": "coordinates from 1e-6 to 1e6 (decimal literals, read exactly)",
    "targets_are_inputs": "every target is an input token of some sequence",
    "highdim": "d from 2 to 8",
    "large": "N up to 20, n_j up to 200, m^j up to 4",
}

#: Kinds of invalid datasets, each with the rule it breaks.
INVALID_KINDS: dict[str, str] = {
    "same_proportions": "a permutation of a sequence asking another output for one token",
    "replication": "a sequence and its replication (X, X) asking different outputs",
    "repeated_leader": "a leader x_k (k >= 2) that repeats in its sequence with another target",
    "leader_equals_first": "a leader x_k (k >= 2) equal to x_1 but with another target",
    "m_greater_than_n": "more output tokens than input tokens",
    "m_zero": "an empty output sequence",
    "d_one": "tokens in dimension d = 1",
    "ragged": "tokens of different dimensions",
    "non_numeric": "a coordinate that is not a number",
}


def _q(rng: np.random.Generator, lo: int = -9, hi: int = 9, den: int = 4) -> Fraction:
    return Fraction(int(rng.integers(lo, hi + 1)), int(rng.integers(1, den + 1)))


def _tokens(rng: np.random.Generator, n: int, d: int, **kw: Any) -> list[list[Fraction]]:
    return [[_q(rng, **kw) for _ in range(d)] for _ in range(n)]


def _mixed(rng: np.random.Generator, pool: list, p: float, n: int, d: int) -> list:
    """n tokens, each from ``pool`` with probability p, else fresh."""
    out = []
    for _ in range(n):
        out.append(list(pool[int(rng.integers(len(pool)))]) if rng.random() < p else [_q(rng) for _ in range(d)])
    return out


def _outputs(X: list, m: int, rng: np.random.Generator, pool: list | None, d: int) -> list:
    """Targets for the first m tokens that respect X's value map rules (DESIGN §3)."""
    keys = [tuple(x) for x in X]
    later = set(keys[m:])

    def draw():
        if pool:
            return list(pool[int(rng.integers(len(pool)))])
        return [_q(rng) for _ in range(d)]

    Y: list = [draw()]
    vm = {keys[0]: Y[0]}
    for k in range(1, m):
        key = keys[k]
        if key in vm:
            Y.append(list(vm[key]))
        elif key in later:
            Y.append(list(Y[0]))
            vm[key] = Y[0]
        else:
            y = draw()
            Y.append(y)
            vm[key] = y
    return Y


def _value_map(X: list, Y: list) -> dict:
    vm = {}
    for i, x in enumerate(X):
        vm.setdefault(tuple(x), tuple(Y[i]) if i < len(Y) else tuple(Y[0]))
    return vm


def _reorder_consistent(X2: list, vm: dict) -> tuple[list, list]:
    """Order X2 so its first token is followed by the tokens whose target differs; outputs from vm."""
    head = X2[0]
    t0 = vm[tuple(head)]
    diff = [x for x in X2[1:] if vm[tuple(x)] != t0]
    same = [x for x in X2[1:] if vm[tuple(x)] == t0]
    Xo = [head, *diff, *same]
    return Xo, [list(vm[tuple(x)]) for x in Xo[: 1 + len(diff)]]


def _gen(family: str, rng: np.random.Generator) -> tuple[list, list]:
    inputs: list = []
    outputs: list = []
    if family == "generic":
        d, N = int(rng.integers(2, 5)), int(rng.integers(1, 6))
        for _ in range(N):
            n = int(rng.integers(1, 9))
            X = _tokens(rng, n, d)
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, min(n, 4) + 1)), rng, None, d))
    elif family == "shared":
        d, N = int(rng.integers(2, 4)), int(rng.integers(2, 7))
        pool = _tokens(rng, int(rng.integers(3, 7)), d)
        for _ in range(N):
            n = int(rng.integers(2, 12))
            X = [list(pool[int(rng.integers(len(pool)))]) for _ in range(n)]
            if rng.random() < 0.5:
                X.append([_q(rng) for _ in range(d)])  # one own token
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, min(len(X), 4) + 1)), rng, None, d))
    elif family == "permutation":
        d = int(rng.integers(2, 4))
        n = int(rng.integers(3, 10))
        X = _tokens(rng, n, d, lo=-5, hi=5, den=2)
        Y = _outputs(X, int(rng.integers(1, min(n, 4) + 1)), rng, None, d)
        vm = _value_map(X, Y)
        inputs.append(X)
        outputs.append(Y)
        perm = [X[0]] + [X[i] for i in rng.permutation(np.arange(1, n))]
        X2, Y2 = _reorder_consistent(perm, vm)
        inputs.append(X2)
        outputs.append(Y2)
        X3, Y3 = _reorder_consistent(X + [X[i] for i in rng.permutation(n)], vm)  # a replication
        inputs.append(X3)
        outputs.append(Y3)
        Z = [list(x) for x in X[: max(1, n // 2)]] + _tokens(rng, 2, d, lo=-5, hi=5, den=2)
        inputs.append(Z)
        outputs.append(_outputs(Z, int(rng.integers(1, 3)), rng, None, d))
    elif family == "proportions":
        d = int(rng.integers(2, 4))
        base = _tokens(rng, int(rng.integers(2, 5)), d, lo=-4, hi=4, den=2)
        for _ in range(int(rng.integers(2, 5))):
            counts = rng.integers(1, 4, size=len(base))
            X = [list(base[i]) for i in rng.permutation(np.repeat(np.arange(len(base)), counts))]
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, min(len(X), 3) + 1)), rng, None, d))
    elif family == "equal_means":
        d = int(rng.integers(2, 4))
        base = _tokens(rng, int(rng.integers(4, 9)), d, lo=-4, hi=4, den=2)
        a, b = base[0], base[1]
        c = [(x + y) / 2 for x, y in zip(a, b, strict=True)]
        a2 = [_q(rng, -4, 4, 2) for _ in range(d)]
        b2 = [2 * x - y for x, y in zip(c, a2, strict=True)]
        base = base + [c, a2, b2]
        for extra in ([a, b], [c, c], [a2, b2])[: int(rng.integers(2, 4))]:
            X = [list(base[i]) for i in rng.permutation(len(base))] + [list(x) for x in extra]
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, 4)), rng, None, d))
    elif family == "lattice":
        d, N = int(rng.integers(2, 4)), int(rng.integers(2, 6))
        pts = [[Fraction(int(v)) for v in rng.integers(-2, 3, size=d)] for _ in range(40)]
        for _ in range(N):
            n = int(rng.integers(2, 14))
            X = [list(pts[int(rng.integers(len(pts)))]) for _ in range(n)]
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, min(n, 4) + 1)), rng, pts, d))
    elif family == "collinear":
        d, N = int(rng.integers(2, 5)), int(rng.integers(2, 6))
        a, b = [_q(rng) for _ in range(d)], [_q(rng) for _ in range(d)]
        if all(v == 0 for v in b):
            b[0] = Fraction(1)
        ts = [Fraction(int(rng.integers(-6, 7)), int(rng.integers(1, 3))) for _ in range(12)]
        for _ in range(N):
            n = int(rng.integers(2, 10))
            X = [[a[k] + t * b[k] for k in range(d)] for t in (ts[int(rng.integers(len(ts)))] for _ in range(n))]
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, min(n, 4) + 1)), rng, None, d))
    elif family == "circle":
        d, N = int(rng.integers(2, 4)), int(rng.integers(2, 6))
        pts = []
        for _ in range(16):
            r = [Fraction(int(rng.integers(-7, 8)), int(rng.integers(1, 6))) for _ in range(d - 1)]
            r2 = sum(x * x for x in r)
            pts.append([2 * x / (r2 + 1) for x in r] + [(r2 - 1) / (r2 + 1)])
        for _ in range(N):
            n = int(rng.integers(2, 10))
            X = [list(pts[int(rng.integers(len(pts)))]) for _ in range(n)]
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, min(n, 4) + 1)), rng, pts, d))
    elif family == "scales":
        d, N = int(rng.integers(2, 4)), int(rng.integers(1, 5))

        def num():
            return Fraction(f"{int(rng.integers(-9, 10))}.{int(rng.integers(0, 1000)):03d}e{int(rng.integers(-6, 7))}")

        for _ in range(N):
            n = int(rng.integers(1, 9))
            X = [[num() for _ in range(d)] for _ in range(n)]
            inputs.append(X)
            m = int(rng.integers(1, min(n, 4) + 1))
            pool = [[num() for _ in range(d)] for _ in range(4)]
            outputs.append(_outputs(X, m, rng, pool, d))
    elif family == "targets_are_inputs":
        d, N = int(rng.integers(2, 4)), int(rng.integers(2, 6))
        for _ in range(N):
            inputs.append(_tokens(rng, int(rng.integers(1, 9)), d, lo=-5, hi=5, den=2))
        pool = [x for X in inputs for x in X]
        for X in inputs:
            outputs.append(_outputs(X, int(rng.integers(1, min(len(X), 4) + 1)), rng, pool, d))
    elif family == "highdim":
        d, N = int(rng.integers(2, 9)), int(rng.integers(1, 6))
        pool = _tokens(rng, 6, d)
        for _ in range(N):
            n = int(rng.integers(1, 12))
            X = _mixed(rng, pool, 0.4, n, d)
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, min(n, 4) + 1)), rng, None, d))
    elif family == "large":
        d, N = int(rng.integers(2, 9)), int(rng.integers(10, 21))
        pool = _tokens(rng, 30, d)
        for _ in range(N):
            n = int(rng.integers(100, 201))
            X = _mixed(rng, pool, 0.3, n, d)
            inputs.append(X)
            outputs.append(_outputs(X, int(rng.integers(1, 5)), rng, None, d))
    else:
        raise ValueError(f"unknown family {family!r}: choose one of {', '.join(FAMILIES)}")
    return inputs, outputs


def _fix_same_proportions(inputs: list, outputs: list) -> None:
    """Give sequences with equal token proportions the value map of the first of them."""
    first: dict = {}
    for j, X in enumerate(inputs):
        keys = [tuple(x) for x in X]
        key = tuple(sorted((k, Fraction(keys.count(k), len(keys))) for k in set(keys)))
        if key in first:
            vm = _value_map(inputs[first[key]], outputs[first[key]])
            inputs[j], outputs[j] = _reorder_consistent(X, vm)
        else:
            first[key] = j


def random_dataset(family: str, seed: int) -> Dataset:
    """A valid random dataset of the given family (deterministic in ``seed``)."""
    rng = np.random.default_rng([seed, list(FAMILIES).index(family) if family in FAMILIES else 99])
    inputs, outputs = _gen(family, rng)
    _fix_same_proportions(inputs, outputs)
    return Dataset(inputs, outputs)


def suite(per_family: int, seed: int = 0, families: list[str] | None = None) -> Iterator[tuple[str, int, Dataset]]:
    """``per_family`` datasets of every family: yields (family, seed, dataset)."""
    for fam in families or list(FAMILIES):
        for s in range(seed, seed + per_family):
            yield fam, s, random_dataset(fam, s)


def invalid_raw(kind: str) -> tuple[list, list]:
    """Inputs/outputs (plain lists) of a dataset that breaks the rule ``kind`` (see INVALID_KINDS)."""
    a, b, c = [0, 1], [1, 0], [2, 2]
    if kind == "same_proportions":
        return [[a, b, c], [b, a, c]], [[a], [b]]
    if kind == "replication":
        return [[a, b], [a, b, a, b]], [[c], [b]]
    if kind == "repeated_leader":
        return [[a, b, c, b]], [[a, c]]
    if kind == "leader_equals_first":
        return [[a, a, b]], [[b, c]]
    if kind == "m_greater_than_n":
        return [[a]], [[a, b]]
    if kind == "m_zero":
        return [[a]], [[]]
    if kind == "d_one":
        return [[[0], [1]]], [[[1]]]
    if kind == "ragged":
        return [[a, [1, 2, 3]]], [[a]]
    if kind == "non_numeric":
        return [[a, ["x", 1]]], [[a]]
    raise ValueError(f"unknown kind {kind!r}")


def invalid_dataset(kind: str) -> DatasetError:
    """Build the invalid dataset ``kind`` and return the DatasetError it raises (fails if none)."""
    inputs, outputs = invalid_raw(kind)
    try:
        Dataset(inputs, outputs)
    except DatasetError as exc:
        return exc
    raise AssertionError(f"invalid dataset {kind!r} was accepted")


def figure5_dataset() -> Dataset:
    """Figure 5's toy dataset (d = 2): blue circles, orange triangles, green stars sharing tokens; green has m = 2."""
    s1, s2, s3, s4 = ["0", "1"], ["-3/2", "-1"], ["3/2", "-1/2"], ["0", "0"]
    inputs = [
        [["0", "-1/2"], s1, s2, s3, ["1/2", "3/2"]],
        [["-2", "1"], s1, s4, ["1", "1/2"], s3],
        [["1/2", "0"], s2, s4, s1, ["-1", "-1"]],
    ]
    outputs = [[["3", "3"]], [["3", "-4"]], [["-4", "0"], ["-1", "-4"]]]
    return Dataset(inputs, outputs)


def figure6_dataset() -> Dataset:
    """Figure 6's two sequences (d = 2): three shared tokens, one token only in the second sequence."""
    shared = [["0", "3"], ["-2", "-1"], ["2", "-1/2"]]
    inputs = [[["0", "1"], *shared, ["0", "-1/2"]], [*shared, ["1/2", "0"]]]
    return Dataset(inputs, [[["1", "1"]], [["-1", "1"]]])


def figure7_dataset() -> Dataset:
    """Figure 7's three sequences (d = 2) with m = 1 (circles), 2 (triangles), 3 (stars)."""
    inputs = [
        [["1", "2"], ["2", "1"], ["-1", "1"], ["0", "-2"]],
        [["-2", "0"], ["2", "2"], ["1", "-1"]],
        [["0", "0"], ["-1", "-1"], ["2", "-2"], ["-2", "2"], ["1", "0"]],
    ]
    outputs = [[["3", "3"]], [["3", "-3"], ["-3", "-3"]], [["-3", "3"], ["-4", "0"], ["0", "-4"]]]
    return Dataset(inputs, outputs)

