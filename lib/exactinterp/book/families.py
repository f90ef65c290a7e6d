"""The one registry of dataset families: valid (random and adversarial), invalid, and figure data.

Every chapter and every test draws its datasets here. A family generates the *input* sequences
(and optionally a pool of target values); ONE rule, :func:`assign_outputs`, then gives every
sequence outputs that a transformer can meet (the rules of :class:`~exactinterp.core.dataset.Dataset`):

* equal tokens of one sequence get equal targets: the first m tokens carry the outputs, a token
  that recurs after position m, or equals x_1, goes to y_1;
* sequences with the same tokens in the same proportions get the same value map (they are
  reordered so that the tokens with other targets come first).

``dataset(family, seed)`` is deterministic on every machine; sizes default to the family's own
ranges and can be fixed (``d``, ``N``, ``n`` = longest sequence, ``m`` = most outputs).
Rational points of circles and spheres all come from
:func:`~exactinterp.construct.primitives.rational_sphere_point`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..construct.primitives import rational_sphere_point
from ..core.dataset import Dataset
from ..core.numbers import QQ, denominator, numerator

__all__ = [
    "Size",
    "Family",
    "FAMILIES",
    "ADVERSARIAL",
    "SMALL",
    "dataset",
    "suite",
    "assign_outputs",
    "INVALID",
    "invalid",
    "CORRUPTIONS",
    "corrupt",
    "uniform",
    "depth",
    "scaled",
    "figure5",
    "figure6",
    "figure7",
]

Token = tuple[Fraction, ...]
Rng = np.random.Generator


@dataclass(frozen=True)
class Size:
    """Inclusive ranges of the dimension, the number of sequences and their lengths; m = most outputs."""

    d: tuple[int, int] = (2, 4)
    N: tuple[int, int] = (1, 5)
    n: tuple[int, int] = (1, 8)
    m: int = 3


@dataclass(frozen=True)
class Family:
    """A valid family: ``sequences(rng, d, N, lengths)`` draws the inputs (and a target pool or None)."""

    name: str
    about: str
    sequences: Callable[..., tuple[list[list[Token]], list[Token] | None]]
    targets: str = "fresh"  # fresh | pool | inputs | identity
    size: Size = Size()


# ----------------------------------------------------------------------------- tokens


def _frac(rng: Rng, lo: int, hi: int, dens: tuple[int, ...] = (1, 2, 3, 4)) -> Fraction:
    return Fraction(int(rng.integers(lo, hi + 1)), int(rng.choice(dens)))


def _token(rng: Rng, d: int, lo: int = -9, hi: int = 9, dens: tuple[int, ...] = (1, 2, 3, 4)) -> Token:
    return tuple(_frac(rng, lo, hi, dens) for _ in range(d))


def _sphere(r: list[Fraction], R: Fraction = Fraction(1)) -> Token:
    """A rational point of the sphere |x| = R (exact, as Fractions)."""
    return tuple(Fraction(numerator(v), denominator(v)) for v in rational_sphere_point(r, R))


def _from_pool(rng: Rng, pool: list[Token], N: int, lengths: Callable[[], int]) -> list[list[Token]]:
    return [[pool[int(rng.integers(len(pool)))] for _ in range(lengths())] for _ in range(N)]


# ----------------------------------------------------------------------------- sequence generators


def _random(rng, d, N, lengths):
    return [[_token(rng, d) for _ in range(lengths())] for _ in range(N)], None


def _shared(rng, d, N, lengths):
    pool = [_token(rng, d) for _ in range(int(rng.integers(3, 7)))]
    seqs = _from_pool(rng, pool, N, lengths)
    for s in seqs:
        if rng.random() < 0.3:
            s.append(_token(rng, d))  # one token of its own
    return seqs, None


def _mixed(rng, d, N, lengths):
    """Each token from a pool of 30 with probability 0.3, else fresh (highdim, large)."""
    pool = [_token(rng, d) for _ in range(30)]
    pick = lambda: pool[int(rng.integers(len(pool)))] if rng.random() < 0.3 else _token(rng, d)  # noqa: E731
    return [[pick() for _ in range(lengths())] for _ in range(N)], None


def _derived(kind: str) -> Callable:
    """Sequences built from earlier ones: permutations and replications, subsets, or one repeat more."""

    def gen(rng, d, N, lengths):
        pool = [_token(rng, d, -2, 2, (1,)) for _ in range(int(rng.integers(3, 7)))]
        seqs = _from_pool(rng, pool, 1, lengths)
        while len(seqs) < max(N, 2):
            base = seqs[int(rng.integers(len(seqs)))]
            if kind == "permuted":
                new = [base[int(i)] for i in rng.permutation(len(base))] * int(rng.integers(1, 3))
            elif kind == "subsets":
                k = int(rng.integers(1, len(base) + 1))
                new = [base[int(i)] for i in sorted(rng.choice(len(base), k, replace=False))]
            elif rng.random() < 0.5:  # duplicates: the same set, other proportions
                new = base + [base[int(rng.integers(len(base)))]]
            else:
                new = _from_pool(rng, pool, 1, lengths)[0]
                new.append(new[0])  # a repeat inside the sequence
            seqs.append(new)
        return seqs, None

    return gen


def _proportions(rng, d, N, lengths):
    """The same 2-4 tokens in different proportions (one sequence per proportion)."""
    base = list(dict.fromkeys(_token(rng, d, -4, 4, (1, 2)) for _ in range(int(rng.integers(2, 5)))))
    seqs, used = [], set()
    while len(seqs) < max(N, 2):
        counts = tuple(int(c) for c in rng.integers(1, 4, size=len(base)))
        g = int(np.gcd.reduce(counts))
        if tuple(c // g for c in counts) in used:
            continue
        used.add(tuple(c // g for c in counts))
        s = [t for t, c in zip(base, counts, strict=True) for _ in range(c)]
        seqs.append([s[int(i)] for i in rng.permutation(len(s))])
    return seqs, None


def _equal_means(rng, d, N, lengths):
    """The same token set in different proportions with equal means: a, b -> their midpoint c, etc."""
    base = list(dict.fromkeys(_token(rng, d, -4, 4, (1, 2)) for _ in range(int(rng.integers(4, 9)))))
    a, b = base[0], base[1]
    c = tuple((x + y) / 2 for x, y in zip(a, b, strict=True))
    a2 = _token(rng, d, -4, 4, (1, 2))
    b2 = tuple(2 * x - y for x, y in zip(c, a2, strict=True))
    base = list(dict.fromkeys(base + [c, a2, b2]))
    extras = ([a, b], [c, c], [a2, b2])[: int(rng.integers(2, 4))]
    return [[base[int(i)] for i in rng.permutation(len(base))] + list(e) for e in extras], None


def _lattice(rng, d, N, lengths):
    pts = [tuple(Fraction(int(v)) for v in rng.integers(-2, 3, size=d)) for _ in range(40)]
    return _from_pool(rng, pts, N, lengths), pts


def _collinear(rng, d, N, lengths):
    a = _token(rng, d, -8, 8)
    b = _token(rng, d, 1, 6)
    ts = [_frac(rng, -6, 6, (1, 2, 3)) for _ in range(12)]
    pts = [tuple(x + t * y for x, y in zip(a, b, strict=True)) for t in ts]
    return _from_pool(rng, pts, N, lengths), None


def _cocircular(rng, d, N, lengths):
    """Rational points of one circle of radius R in the first two coordinates (the others fixed)."""
    R = Fraction(int(rng.integers(1, 6)))
    rest = tuple(Fraction(int(v)) for v in rng.integers(-2, 3, size=d - 2))
    pts = [_sphere([_frac(rng, -8, 8)], R) + rest for _ in range(16)]
    return _from_pool(rng, pts, N, lengths), pts


def _cospherical(rng, d, N, lengths):
    R = Fraction(int(rng.integers(1, 4)))
    pts = [_sphere([_frac(rng, -4, 4, (1, 2, 3)) for _ in range(d - 1)], R) for _ in range(16)]
    return _from_pool(rng, pts, N, lengths), pts


def _scales(window: int, mixed: bool) -> Callable:
    """Coordinates k·10^e: one window of 10^window per dataset, or 10^-9 .. 10^9 mixed (``mixed``)."""

    def gen(rng, d, N, lengths):
        e0 = int(rng.integers(-9, 4))

        def num() -> Fraction:
            e = int(rng.integers(-9, 10)) if mixed else int(rng.integers(e0, e0 + window + 1))
            return Fraction(int(rng.integers(-9, 10))) * Fraction(10) ** e

        pool = [tuple(num() for _ in range(d)) for _ in range(12)]
        return _from_pool(rng, pool, N, lengths), pool

    return gen


#: Every valid family (name -> Family), in a fixed order.
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("random", "random small rationals k/q, |k| <= 9, q <= 4", _random),
        Family("shared", "sequences drawn from one small pool of tokens (they share most tokens)", _shared),
        Family("permuted", "permutations and replications of earlier sequences (same class)", _derived("permuted")),
        Family("subsets", "sequences whose tokens are a subset of an earlier one's", _derived("subsets")),
        Family("duplicates", "repeated tokens within and across sequences", _derived("duplicates")),
        Family("proportions", "the same token set in different proportions, other outputs", _proportions),
        Family("equal_means", "the same set in other proportions with equal means", _equal_means),
        Family("lattice", "integer lattice {-2..2}^d: equal projections, many hardmax ties", _lattice, "pool"),
        Family("collinear", "every token on one rational line", _collinear),
        Family("cocircular", "rational points of one circle", _cocircular, "pool", Size(d=(2, 3))),
        Family("cospherical", "rational points of one sphere in R^d", _cospherical, "pool"),
        Family("scales", "coordinates k 10^e, e in [-9, 9], a factor 10^6 per dataset", _scales(6, False), "pool"),
        Family("wide_scales", "10^-9 and 10^9 mixed in one dataset", _scales(18, True), "pool"),
        Family("targets_are_inputs", "every target is an input token of some sequence", _shared, "inputs"),
        Family("identity", "targets equal to the inputs (m = n)", _shared, "identity"),
        Family("highdim", "d from 2 to 8", _mixed, size=Size(d=(2, 8), n=(1, 11))),
        Family("large", "N 10..20, n_j 100..200, m^j <= 4", _mixed, size=Size(d=(2, 8), N=(10, 20), n=(100, 200), m=4)),
    )
}

#: The adversarial families of the robustness chapter and the property tests.
ADVERSARIAL = (
    "lattice",
    "collinear",
    "cocircular",
    "cospherical",
    "duplicates",
    "permuted",
    "subsets",
    "scales",
    "identity",
)

#: Families of small datasets (every family but the large ones and the mixed 10^±9 scales).
SMALL = tuple(f for f in FAMILIES if f not in ("large", "wide_scales"))


# ----------------------------------------------------------------------------- the output rule


def _proportions_key(X: list[Token]) -> tuple:
    counts: dict[Token, int] = {}
    for x in X:
        counts[x] = counts.get(x, 0) + 1
    return tuple(sorted((k, Fraction(v, len(X))) for k, v in counts.items()))


def assign_outputs(
    rng: Rng, inputs: list[list[Token]], m_max: int, pick: Callable[[Token], Token], all_tokens: bool = False
) -> tuple[list[list[Token]], list[list[Token]]]:
    """Outputs for every sequence that respect the value-map rules (``pick(x)``: a fresh target for x).

    ``all_tokens``: m = n (every token names its own target). Returns the (possibly reordered)
    inputs and their outputs.
    """
    maps: dict[tuple, dict[Token, Token]] = {}
    ins, outs = [], []
    for X in inputs:
        key = _proportions_key(X)
        if key in maps:  # same class as an earlier sequence: its value map, leaders first
            f = maps[key]
            head = X[0]
            rest = [x for x in X[1:] if f[x] != f[head]] + [x for x in X[1:] if f[x] == f[head]]
            X = [head, *rest]
            m = len(X) if all_tokens else 1 + sum(f[x] != f[head] for x in X[1:])
        else:
            m = len(X) if all_tokens else int(rng.integers(1, min(len(X), m_max) + 1))
            f = {X[0]: pick(X[0])}
            for x in X[m:]:
                f[x] = f[X[0]]
            for x in X[:m]:
                if x not in f:
                    f[x] = pick(x)
            maps[key] = f
        ins.append(X)
        outs.append([f[x] for x in X[:m]])
    return ins, outs


def _picker(rng: Rng, family: Family, d: int, inputs: list[list[Token]], pool: list[Token] | None) -> Callable:
    if family.targets == "identity":
        return lambda x: x if rng.random() < 0.8 else _token(rng, d, -3, 3, (1, 2))
    if family.targets == "inputs":
        pool = sorted({x for X in inputs for x in X})
    if family.targets in ("pool", "inputs") and pool:
        return lambda x: pool[int(rng.integers(len(pool)))]
    return lambda x: _token(rng, d, -3, 3, (1, 2))


# ----------------------------------------------------------------------------- datasets


def _q_rows(seq: list[Token]) -> list[list[Any]]:
    return [[QQ(v.numerator, v.denominator) for v in t] for t in seq]


def dataset(
    family: str, seed: int, *, d: int | None = None, N: int | None = None, n: int | None = None, m: int | None = None
) -> Dataset:
    """A valid dataset of ``family`` (deterministic in ``seed``); d, N, n (longest sequence), m fix the sizes."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}: choose one of {', '.join(FAMILIES)}")
    fam = FAMILIES[family]
    rng = np.random.default_rng([seed, list(FAMILIES).index(family)])
    size = fam.size
    d = d if d is not None else int(rng.integers(size.d[0], size.d[1] + 1))
    N = N if N is not None else int(rng.integers(size.N[0], size.N[1] + 1))
    lo, hi = (min(size.n[0], n), n) if n is not None else size.n
    seqs, pool = fam.sequences(rng, d, N, lambda: int(rng.integers(lo, hi + 1)))
    pick = _picker(rng, fam, d, seqs, pool)
    ins, outs = assign_outputs(rng, seqs, m if m is not None else size.m, pick, all_tokens=fam.targets == "identity")
    return Dataset([_q_rows(X) for X in ins], [_q_rows(Y) for Y in outs])


def suite(
    per_family: int, seed: int = 0, families: tuple[str, ...] | list[str] | None = None, **sizes: int | None
) -> Iterator[tuple[str, int, Dataset]]:
    """``per_family`` datasets of every family (default :data:`SMALL`): yields (family, seed, dataset)."""
    for fam in families or SMALL:
        for s in range(seed, seed + per_family):
            yield fam, s, dataset(fam, s, **sizes)


def uniform(N: int, n: int, d: int, m_choices: tuple[int, ...] = (1, 2, 3), seed: int = 0) -> Dataset:
    """N sequences of exactly n tokens with coordinates k/100 in [-10, 10]; targets k/7 (benchmarks, scaling).

    Tokens are distinct with overwhelming probability; the dataset validation checks it.
    """
    rng = np.random.default_rng(seed)
    ints = rng.integers(-1000, 1001, size=(N, n, d))
    value = [QQ(k - 1000, 100) for k in range(2001)]  # one object per value: large datasets stay small
    inputs = [[[value[v] for v in tok] for tok in (X + 1000).tolist()] for X in ints]
    outputs = []
    for _ in range(N):
        m = int(rng.choice(m_choices))
        outputs.append([[QQ(int(v), 7) for v in rng.integers(-70, 71, size=d)] for _ in range(m)])
    return Dataset(inputs, outputs)


def depth(sum_m: int, seed: int, d: int = 2, n: int = 8) -> Dataset:
    """N = ⌈sum_m / 2⌉ sequences of n distinct tokens k/4 with Σ_j m^j = sum_m (deep narrow models)."""
    rng = np.random.default_rng(seed)
    inputs, outputs = [], []
    for m in [2] * (sum_m // 2) + [1] * (sum_m % 2):
        X: list[Token] = []
        while len(X) < n:
            t = tuple(Fraction(int(v), 4) for v in rng.integers(-16, 17, size=d))
            if t not in X:
                X.append(t)
        inputs.append(X)
        outputs.append([tuple(Fraction(int(v), 2) for v in rng.integers(-8, 9, size=d)) for _ in range(m)])
    return Dataset([_q_rows(X) for X in inputs], [_q_rows(Y) for Y in outputs])


def scaled(ds: Dataset, k: int) -> Dataset:
    """The same dataset in other units: every coordinate (inputs and outputs) times 10^k, exactly."""
    s = QQ(10) ** k if k >= 0 else QQ(1) / QQ(10) ** (-k)
    return Dataset([X * s for X in ds.inputs], [Y * s for Y in ds.outputs])


# ----------------------------------------------------------------------------- invalid datasets

_a, _b, _c = [0, 1], [1, 0], [2, 2]

#: Datasets no transformer of this kind can interpolate, or malformed ones:
#: kind -> (rule broken, inputs, outputs, a substring the DatasetError must contain).
INVALID: dict[str, tuple[str, Any, Any, str]] = {
    "same_proportions": ("a permutation of a sequence asking another output for one token",
                         [[_a, _b, _c], [_b, _a, _c]], [[_a], [_b]], "same tokens in the same proportions"),
    "replication": ("a sequence and its replication (X, X) asking different outputs",
                    [[_a, _b], [_a, _b, _a, _b]], [[_c], [_b]], "same tokens in the same proportions"),
    "repeated_leader": ("a leader x_k (k >= 2) that repeats in its sequence with another target",
                        [[_a, _b, _c, _b]], [[_a, _c]], "are equal"),
    "leader_equals_first": ("a leader x_k (k >= 2) equal to x_1 but with another target",
                            [[_a, _a, _b]], [[_b, _c]], "are equal"),
    "m_greater_than_n": ("more output tokens than input tokens", [[_a]], [[_a, _b]], "m = 2"),
    "m_zero": ("an empty output sequence", [[_a]], [[]], "empty"),
    "d_one": ("tokens in dimension d = 1 (the theorem's hypothesis is d >= 2)", [[[0], [1]]], [[[1]]], "d = 1"),
    "ragged": ("tokens of different dimensions", [[_a, [1, 2, 3]]], [[_a]], "ragged"),
    "non_numeric": ("a coordinate that is not a number", [[_a, ["x", 1]]], [[_a]], "not a number"),
    "nan": ("a NaN coordinate", [[[0, "nan"]]], [[[1, 1]]], "not a number"),
    "infinite": ("an infinite coordinate", [[[0, "inf"]]], [[[1, 1]]], "not a number"),
    "float": ("a binary float (exact mode refuses it)", [[[0, 0.5]]], [[[1, 1]]], "float"),
    "boolean": ("a boolean coordinate", [[[0, True]]], [[[1, 1]]], "boolean"),
    "null": ("a null coordinate", [[[0, None]]], [[[1, 1]]], "not a number"),
    "nested": ("a coordinate that is a list", [[[0, [1]]]], [[[1, 1]]], "not a number"),
    "zero_denominator": ("a fraction with denominator 0", [[[0, "1/0"]]], [[[1, 1]]], "zero denominator"),
    "huge_exponent": ("an absurd decimal exponent", [[[0, "1e99999"]]], [[[1, 1]]], "too large"),
    "no_sequences": ("N = 0", [], [], "N = 0"),
    "missing_outputs": ("fewer output sequences than input sequences", [[[0, 0]]], [], "output sequences"),
    "output_dimension": ("an output of another dimension", [[[0, 0]]], [[[1, 1, 1]]], "expected d = 2"),
    "empty_input": ("an empty input sequence", [[[0, 0]], []], [[[1, 1]], [[1, 1]]], "empty"),
    "flat_sequence": ("a sequence of numbers, not of tokens", [[0, 0]], [[[1, 1]]], "token"),
    "not_lists": ("inputs that are not a list", "abc", [], "must be lists"),
}  # fmt: skip


def invalid(kind: str) -> tuple[Any, Any, str]:
    """(inputs, outputs, expected message part) of the invalid dataset ``kind``."""
    _, inputs, outputs, match = INVALID[kind]
    return inputs, outputs, match


def _corrupt_leader(X: list, Y: list, d: int, repeat: bool) -> str:
    """Make a leader x_2 go to y_2 != y_1 while x_2 also sits where y_1 is asked (repeat) or equals x_1."""
    other = [99] * d  # no generated dataset uses this target
    if len(Y) < 2:
        X.insert(1, [77] * d)
        Y.append(other)
    elif Y[1] == Y[0]:
        Y[1] = other
    if repeat:
        X.append(X[1])  # x_2 again at a position > m, where tokens must reach y_1 != y_2
    else:
        X[1] = X[0]  # x_2 = x_1 but y_2 != y_1
    return "are equal"


#: Ways to break a valid dataset (kind -> the rule broken).
CORRUPTIONS = {
    "leader_repeat": "a leader x_k (k >= 2) repeats after position m, where tokens must go to y_1",
    "leader_is_first": "a leader x_2 equal to x_1 with another target",
    "class_conflict": "a permuted (replicated) copy of a sequence asking some value to go elsewhere",
}


def corrupt(ds: Dataset, kind: str, seed: int) -> tuple[list, list, str]:
    """A copy of ``ds`` (as plain lists of "p/q" strings) broken by ``kind``, and the expected message part."""
    rng = np.random.default_rng(seed)
    data = ds.to_dict()
    ins, outs = data["inputs"], data["outputs"]
    j = int(rng.integers(len(ins)))
    if kind in ("leader_repeat", "leader_is_first"):
        return ins, outs, _corrupt_leader(ins[j], outs[j], ds.d, repeat=kind == "leader_repeat")
    if kind != "class_conflict":
        raise ValueError(f"unknown corruption {kind!r}: choose one of {', '.join(CORRUPTIONS)}")
    copy = [ins[j][int(i)] for i in rng.permutation(len(ins[j]))] * int(rng.integers(1, 3))
    firsts: dict[tuple, int] = {}
    targets = [[str(55 + firsts.setdefault(tuple(x), i))] * ds.d for i, x in enumerate(copy)]
    ins.append(copy)
    outs.append(targets)  # a function of the token (equal tokens, equal targets), but not ds's map
    return ins, outs, "same tokens in the same proportions"


# ----------------------------------------------------------------------------- figure data


def figure5() -> Dataset:
    """Figure 5's toy dataset (d = 2): blue circles, orange triangles, green stars sharing tokens; green has m = 2."""
    s1, s2, s3, s4 = ["0", "1"], ["-3/2", "-1"], ["3/2", "-1/2"], ["0", "0"]
    inputs = [
        [["0", "-1/2"], s1, s2, s3, ["1/2", "3/2"]],
        [["-2", "1"], s1, s4, ["1", "1/2"], s3],
        [["1/2", "0"], s2, s4, s1, ["-1", "-1"]],
    ]
    return Dataset(inputs, [[["3", "3"]], [["3", "-4"]], [["-4", "0"], ["-1", "-4"]]])


def figure6() -> Dataset:
    """Figure 6's two sequences (d = 2): three shared tokens, one token only in the second sequence."""
    shared = [["0", "3"], ["-2", "-1"], ["2", "-1/2"]]
    inputs = [[["0", "1"], *shared, ["0", "-1/2"]], [*shared, ["1/2", "0"]]]
    return Dataset(inputs, [[["1", "1"]], [["-1", "1"]]])


def figure7() -> Dataset:
    """Figure 7's three sequences (d = 2) with m = 1 (circles), 2 (triangles), 3 (stars)."""
    inputs = [
        [["1", "2"], ["2", "1"], ["-1", "1"], ["0", "-2"]],
        [["-2", "0"], ["2", "2"], ["1", "-1"]],
        [["0", "0"], ["-1", "-1"], ["2", "-2"], ["-2", "2"], ["1", "0"]],
    ]
    return Dataset(inputs, [[["3", "3"]], [["3", "-3"], ["-3", "-3"]], [["-3", "3"], ["-4", "0"], ["0", "-4"]]])
