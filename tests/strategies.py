"""Hypothesis strategies: adversarial datasets (valid and invalid) as JSON-ready dicts.

Valid families (each token a list of d exact numbers written as ints, ``"p/q"`` or decimal strings):

* ``lattice``: small integer lattices, many equal projections and hardmax ties (mass ties);
* ``collinear``: every token on one rational line ``a + t b``;
* ``cocircular`` / ``cospherical``: rational points of one circle / sphere (inverse stereographic
  projection), so the clustering layer's scores tie in many ways;
* ``duplicates``: repeated tokens within sequences and shared tokens across sequences;
* ``permuted``: permuted and replicated copies of a sequence with consistent outputs (same class);
* ``subsets``: sequences whose token sets are subsets of another one's, with other outputs;
* ``scales``: coordinates ``k * 10^e`` (decimal strings), e in [-9, 9], within a factor 10^6 per dataset;
* ``wide_scales`` (not in FAMILIES): 10^-9 and 10^9 mixed in one dataset, beyond float64's 16 digits;
* ``identity``: targets equal to the inputs (and targets at the construction's special points).

Invalid datasets carry the substring the ``DatasetError`` message must contain.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import strategies as st

FAMILIES = (
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

Token = tuple  # tuple of Fraction


def fmt(v: Fraction, style: int = 0) -> int | str:
    """A JSON number for an exact value: int, "p/q" or an exact decimal string."""
    if v.denominator == 1:
        return int(v.numerator) if style != 2 else str(v.numerator)
    den = v.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den == 1 and style == 1:  # terminating decimal: write it as "k e-p"
        p = max(twos, fives)
        k = v * 10**p
        return f"{k.numerator}e-{p}"
    return f"{v.numerator}/{v.denominator}"


def tok_json(t: Token, style: int = 0) -> list:
    return [fmt(v, style) for v in t]


# ----------------------------------------------------------------------------- token pools


@st.composite
def _rationals(draw, lo: int = -4, hi: int = 4, dens=(1, 2, 3, 4)) -> Fraction:
    return Fraction(draw(st.integers(lo * 4, hi * 4)), draw(st.sampled_from(dens)))


def circle_point(t: Fraction) -> tuple[Fraction, Fraction]:
    """Rational point of the unit circle: inverse stereographic projection of t."""
    return ((1 - t * t) / (1 + t * t), 2 * t / (1 + t * t))


def sphere_point(r: list[Fraction]) -> tuple[Fraction, ...]:
    """Rational point of the unit sphere S^{d-1} from r in Q^{d-1}."""
    r2 = sum((x * x for x in r), Fraction(0))
    return tuple([2 * x / (r2 + 1) for x in r] + [(r2 - 1) / (r2 + 1)])


@st.composite
def token_pool(draw, family: str, d: int, size: int) -> list[Token]:
    """Candidate token values of one dataset (possibly with repeats) for a family."""
    if family in ("lattice", "duplicates", "permuted", "subsets", "identity"):
        r = draw(st.integers(1, 2))
        return [tuple(Fraction(draw(st.integers(-r, r))) for _ in range(d)) for _ in range(size)]
    if family == "collinear":
        a = tuple(draw(_rationals()) for _ in range(d))
        b = tuple(draw(_rationals(1, 3)) for _ in range(d))
        ts = [Fraction(draw(st.integers(-6, 6)), draw(st.sampled_from((1, 2, 3)))) for _ in range(size)]
        return [tuple(x + t * y for x, y in zip(a, b, strict=True)) for t in ts]
    if family == "cocircular":
        c = tuple(Fraction(draw(st.integers(-2, 2))) for _ in range(d))
        R = Fraction(draw(st.integers(1, 5)), draw(st.sampled_from((1, 2))))
        out = []
        for _ in range(size):
            t = Fraction(draw(st.integers(-8, 8)), draw(st.integers(1, 4)))
            p = circle_point(t)
            if draw(st.booleans()):
                p = (-p[0], p[1])
            out.append(tuple([c[0] + R * p[0], c[1] + R * p[1]] + list(c[2:])))
        return out
    if family == "cospherical":
        R = Fraction(draw(st.integers(1, 3)))
        out = []
        for _ in range(size):
            r = [Fraction(draw(st.integers(-4, 4)), draw(st.integers(1, 3))) for _ in range(d - 1)]
            p = sphere_point(r)
            sign = draw(st.sampled_from((1, -1)))
            out.append(tuple(R * v for v in p[:-1]) + (sign * R * p[-1],))
        return out
    if family in ("scales", "wide_scales"):
        # scales: one dataset lives at one scale 10^e0 (e0 in [-9, 9]) up to a factor 10^6 within it;
        # wide_scales: coordinates 10^-9 .. 10^9 mixed in one dataset (beyond float64's 16 digits)
        mixed = draw(st.booleans())
        e0 = draw(st.integers(-9, 3 if family == "scales" else 9))
        window = 6 if family == "scales" else 18
        out = []
        for _ in range(size):
            e = draw(st.integers(e0, min(9, e0 + window))) if mixed else e0
            if family == "wide_scales":
                e = draw(st.integers(-9, 9))
            out.append(tuple(Fraction(draw(st.integers(-9, 9))) * Fraction(10) ** e for _ in range(d)))
        return out
    raise ValueError(family)


# ----------------------------------------------------------------------------- valid datasets


def _value_map(X: list[Token], m: int, pick) -> dict:
    """A target per distinct value, consistent with 'tokens after m go to y_1'."""
    f: dict = {}
    f[X[0]] = pick()
    for x in X[m:]:
        f[x] = f[X[0]]
    for x in X[:m]:
        if x not in f:
            f[x] = pick()
    return f


def _proportions(X: list[Token]) -> tuple:
    n = len(X)
    counts: dict = {}
    for x in X:
        counts[x] = counts.get(x, 0) + 1
    return tuple(sorted((k, Fraction(v, n)) for k, v in counts.items()))


@st.composite
def valid_datasets(draw, family: str | None = None, max_d: int = 8, max_n: int = 6, max_N: int = 4) -> dict:
    """A valid dataset from one adversarial family: ``{"inputs", "outputs", "family"}``."""
    family = family or draw(st.sampled_from(FAMILIES))
    d = draw(st.integers(2, min(3, max_d))) if draw(st.integers(0, 3)) or max_d < 4 else draw(st.integers(4, max_d))
    if family in ("cocircular",):
        d = draw(st.integers(2, 3))
    N = draw(st.integers(1, max_N))
    pool = draw(token_pool(family, d, max(3, N * max_n // 2)))
    style = 1 if family in ("scales", "wide_scales") else draw(st.integers(0, 2))
    special = tuple(Fraction(math.isqrt(d) + 2) for _ in range(d))  # first leader position of the construction

    def pick():
        if family == "identity" and draw(st.integers(0, 3)) == 0:
            return special
        if family in ("scales", "wide_scales"):
            return draw(st.sampled_from(pool))
        return tuple(Fraction(draw(st.integers(-3, 3)), draw(st.sampled_from((1, 2)))) for _ in range(d))

    inputs: list[list[Token]] = []
    outputs: list[list[Token]] = []
    maps: dict[tuple, tuple[dict, int]] = {}  # proportions -> (value map, index)
    for j in range(N):
        X: list[Token]
        if j > 0 and family == "permuted":
            base = inputs[draw(st.integers(0, j - 1))]
            X = list(draw(st.permutations(base)))
            if draw(st.booleans()):
                X = X * draw(st.integers(2, 3))  # replication: same proportions
        elif j > 0 and family == "subsets":
            base = inputs[draw(st.integers(0, j - 1))]
            X = draw(st.lists(st.sampled_from(base), min_size=1, max_size=len(base)))
        elif j > 0 and family == "duplicates" and draw(st.booleans()):
            base = inputs[draw(st.integers(0, j - 1))]
            X = list(base) + [draw(st.sampled_from(base))]  # same set, other proportions
        else:
            n = draw(st.integers(1, max_n))
            X = [draw(st.sampled_from(pool)) for _ in range(n)]
            if family == "duplicates" and n > 1:
                X[-1] = X[draw(st.integers(0, n - 2))]
        key = _proportions(X)
        if key in maps:  # same class as an earlier sequence: the value map must agree
            f, _ = maps[key]
            Y = [f[x] for x in X]  # m = n: every token names its own target
        else:
            m = draw(st.integers(1, len(X)))
            if family == "identity":
                m = len(X)
                f = {x: (x if draw(st.integers(0, 4)) else pick()) for x in X}
            else:
                f = _value_map(X, m, pick)
            Y = [f[x] for x in X[:m]]
            maps[key] = (f, j)
        inputs.append(X)
        outputs.append(Y)
    return {
        "family": family,
        "inputs": [[tok_json(t, style) for t in X] for X in inputs],
        "outputs": [[tok_json(t, style) for t in Y] for Y in outputs],
    }


# ----------------------------------------------------------------------------- invalid datasets

STRUCTURAL = [
    # (inputs, outputs, expected substring)
    ([[[0], [1]]], [[[1]]], "d = 1"),
    ([[[0, 0], [1]]], [[[1, 1]]], "ragged"),
    ([[[0, 0]]], [[]], "empty"),
    ([[[0, 0]]], [[[1, 1], [2, 2]]], "m = 2"),
    ([[[0, "nan"]]], [[[1, 1]]], "not a number"),
    ([[[0, "inf"]]], [[[1, 1]]], "not a number"),
    ([[[0, 0.5]]], [[[1, 1]]], "float"),
    ([[[0, True]]], [[[1, 1]]], "boolean"),
    ([[[0, None]]], [[[1, 1]]], "not a number"),
    ([[[0, [1]]]], [[[1, 1]]], "not a number"),
    ([[[0, "1/0"]]], [[[1, 1]]], "zero denominator"),
    ([[[0, "1e99999"]]], [[[1, 1]]], "too large"),
    ([], [], "N = 0"),
    ([[[0, 0]]], [], "output sequences"),
    ([[[0, 0]]], [[[1, 1, 1]]], "expected d = 2"),
    ([[[0, 0]], []], [[[1, 1]], [[1, 1]]], "empty"),
    ([[0, 0]], [[[1, 1]]], "token"),
    ("abc", [], "must be lists"),
]


@st.composite
def invalid_datasets(draw) -> tuple[dict, str]:
    """A dataset no transformer can interpolate (or a malformed one), and the expected message part."""
    kind = draw(st.sampled_from(("structural", "leader_repeat", "leader_is_first", "class_conflict")))
    if kind == "structural":
        i, o, match = draw(st.sampled_from(STRUCTURAL))
        return {"inputs": i, "outputs": o}, match
    ds = draw(valid_datasets(family=draw(st.sampled_from(("lattice", "collinear", "cospherical", "scales")))))
    ins = [list(X) for X in ds["inputs"]]
    outs = [list(Y) for Y in ds["outputs"]]
    j = draw(st.integers(0, len(ins) - 1))
    X, Y = ins[j], outs[j]
    d = len(X[0])
    other = [99] * d  # a target no generated dataset uses
    if kind == "leader_repeat":
        # token k (2 <= k+1 <= m) repeats after position m, where tokens must go to y_1 != y_k
        X.append(X[0])
        if len(Y) < 2:
            Y.append(other)
            X.insert(1, [77] * d)  # a fresh leader value with its own target
        Y[1] = other if Y[1] == Y[0] else Y[1]
        X.append(X[1])  # x_2 again, but at a position > m: must reach y_1 != y_2
        match = "are equal"
    elif kind == "leader_is_first":
        # x_2 = x_1 with y_2 != y_1
        if len(Y) < 2:
            Y.append(other)
        elif Y[1] == Y[0]:
            Y[1] = other
        X[1:1] = []
        X.insert(1, X[0])
        if len(X) < len(Y):
            X.append(X[0])
        match = "are equal"
    else:
        # a permuted / replicated copy of X^j asking some value to go elsewhere
        perm = list(draw(st.permutations(X)))
        if draw(st.booleans()):
            perm = perm * 2
        Yc = [[fmt(Fraction(55 + i)) for _ in range(d)] for i in range(len(perm))]
        # make the copy's map a function (equal tokens, equal targets) but not X^j's map
        first: dict = {}
        for i, x in enumerate(perm):
            key = tuple(str(v) for v in x)
            if key in first:
                Yc[i] = Yc[first[key]]
            else:
                first[key] = i
        ins.append(perm)
        outs.append(Yc)
        match = "same tokens in the same proportions"
    return {"inputs": ins, "outputs": outs}, match
