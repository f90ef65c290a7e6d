"""Hypothesis strategies over the one dataset registry (:mod:`exactinterp.book.families`).

A valid dataset is drawn as (family, seed, sizes) and written as a JSON-ready dict whose numbers
use one of three spellings (ints, ``"p/q"`` strings, exact decimal strings), so the tests also
exercise the exact parsing of every spelling. Invalid datasets are the registry's fixed kinds and
its corruptions of valid datasets, each with the substring its ``DatasetError`` must contain.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from exactinterp import Dataset
from exactinterp.book.families import ADVERSARIAL, CORRUPTIONS, INVALID, corrupt, dataset, invalid
from exactinterp.core.numbers import denominator, numerator

FAMILIES = ADVERSARIAL
SEEDS = st.integers(0, 2**32 - 1)


def fmt(v: Fraction, style: int = 0) -> int | str:
    """A JSON number for an exact value: int (style 0), exact decimal "k e-p" (1) or "p/q" (2)."""
    if v.denominator == 1:
        return int(v.numerator) if style != 2 else str(v.numerator)
    den, twos, fives = v.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den == 1 and style == 1:  # a terminating decimal
        p = max(twos, fives)
        return f"{(v * 10**p).numerator}e-{p}"
    return f"{v.numerator}/{v.denominator}"


def as_json(ds: Dataset, style: int, family: str = "") -> dict:
    """The dataset as a JSON-ready dict with numbers in one spelling."""

    def seq(a) -> list:
        return [[fmt(Fraction(numerator(v), denominator(v)), style) for v in tok] for tok in a]

    return {"family": family, "inputs": [seq(X) for X in ds.inputs], "outputs": [seq(Y) for Y in ds.outputs]}


@st.composite
def valid_datasets(draw, family: str | None = None, max_d: int = 8, max_n: int = 6, max_N: int = 4) -> dict:
    """A valid dataset of one registry family (default: an adversarial one) as a JSON-ready dict."""
    family = family or draw(st.sampled_from(FAMILIES))
    d = draw(st.integers(2, min(3, max_d))) if draw(st.integers(0, 3)) or max_d < 4 else draw(st.integers(4, max_d))
    if family == "cocircular":
        d = min(d, 3)
    ds = dataset(family, draw(SEEDS), d=d, N=draw(st.integers(1, max_N)), n=max_n)
    style = 1 if family in ("scales", "wide_scales") else draw(st.integers(0, 2))
    return as_json(ds, style, family)


@st.composite
def invalid_datasets(draw) -> tuple[dict, str]:
    """A dataset no transformer can interpolate (or a malformed one), and the expected message part."""
    if draw(st.booleans()):
        inputs, outputs, match = invalid(draw(st.sampled_from(sorted(INVALID))))
        return {"inputs": inputs, "outputs": outputs}, match
    family = draw(st.sampled_from(("lattice", "collinear", "cospherical", "scales")))
    ds = dataset(family, draw(SEEDS), N=draw(st.integers(1, 4)), n=6)
    inputs, outputs, match = corrupt(ds, draw(st.sampled_from(sorted(CORRUPTIONS))), draw(SEEDS))
    return {"inputs": inputs, "outputs": outputs}, match
