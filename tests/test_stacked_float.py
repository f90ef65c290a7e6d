"""The stacked float forward: all sequences in one pass, bit for bit the forward of each sequence alone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactinterp import Block, FeedForward, SelfAttention, Transformer, construct
from exactinterp.book.families import dataset, uniform
from exactinterp.book.instances import random_block
from exactinterp.construct.primitives import all_tie_sa, eye
from exactinterp.core.feedforward import FLOAT_BLOCK, SEQ_WIDTH
from exactinterp.core.numbers import QQ, to_float_array

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))


def _per_sequence(T: Transformer, Fs: list[np.ndarray], dtype=np.float64) -> list[np.ndarray]:
    return [T.forward(X, exact=False, dtype=dtype) for X in Fs]


@pytest.mark.parametrize(
    ("family", "options"),
    [
        ("shared", {}),
        ("proportions", {}),  # an all-tie separation block (mean layer)
        ("large", {"max_width": None}),  # wide layers: the BLAS path
        ("random", {"attention": "softmax"}),
        ("lattice", {"max_width": 8}),
    ],
)
def test_stacked_equals_per_sequence_on_constructed_models(family, options):
    ds = dataset(family, 3)
    T = construct(ds, **options)
    Fs = [to_float_array(X) for X in ds.inputs]
    stacked = T.forward_many(Fs, exact=False)
    assert _same(stacked, _per_sequence(T, Fs))
    # the order of the stack does not matter either
    assert _same(T.forward_many(Fs[::-1], exact=False)[::-1], stacked)


def _wide_ff(rng: np.random.Generator, d: int, width: int, groups: int) -> FeedForward:
    """Random float-valued weights; neurons share ``groups`` directions (as bump layers do)."""
    dirs = rng.integers(-9, 10, size=(groups, d))
    U = [[QQ(int(v)) for v in dirs[k % groups]] for k in range(width)]
    b = [QQ(int(v), 8) for v in rng.integers(-40, 41, size=width)]
    W = [[QQ(int(v), 16) for v in rng.integers(-20, 21, size=width)] for _ in range(d)]
    return FeedForward(U=U, b=b, W=W, eta=QQ(int(rng.integers(1, 3))))


@st.composite
def stacked_models(draw) -> Transformer:
    """Random blocks: narrow and wide FFs, rank-one and full-rank SA, all-tie and skip layers."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    d = draw(st.integers(2, 5))
    blocks = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["random", "wide", "mean", "skip"]))
        if kind == "random":
            blocks.append(random_block(rng, d, width=draw(st.integers(1, 5)), h=draw(st.integers(1, 2)), skips=True))
            continue
        width = draw(st.sampled_from([SEQ_WIDTH + 1, 3 * FLOAT_BLOCK // 2]))
        ff = _wide_ff(rng, d, width, draw(st.integers(1, 4))) if kind == "wide" else FeedForward.identity(d)
        sa = all_tie_sa(d, QQ(1, 3), rho=QQ(1, 2)) if kind == "mean" else SelfAttention.identity(d)
        blocks.append(Block(ff, sa))
    return Transformer(d, blocks)


@SETTINGS
@given(stacked_models(), st.lists(st.integers(1, 300), min_size=1, max_size=6), st.integers(0, 10**6))
def test_stacked_equals_per_sequence_on_random_models(T, lengths, seed):
    rng = np.random.default_rng(seed)
    Fs = [rng.normal(size=(n, T.d)) for n in lengths]
    with np.errstate(all="ignore"):
        assert _same(T.forward_many(Fs, exact=False), _per_sequence(T, Fs))
        assert _same(T.forward_many(Fs, exact=False, dtype=np.float32), _per_sequence(T, Fs, np.float32))


@pytest.mark.parametrize("seed", range(4))
def test_stacked_equals_per_sequence_on_wide_layers(seed):
    """Wide layers go through BLAS, whose rounding depends on the number of rows of a call: fixed blocks."""
    rng = np.random.default_rng(seed)
    for _ in range(10):
        d = int(rng.integers(2, 10))
        ff = _wide_ff(rng, d, int(rng.choice([SEQ_WIDTH + 1, 60, 192, 1000])), int(rng.integers(1, 5)))
        T = Transformer(d, [Block(ff, SelfAttention.identity(d))])
        Fs = [rng.normal(size=(int(n), d)) for n in rng.integers(1, 300, size=5)]
        assert _same(T.forward_many(Fs, exact=False), _per_sequence(T, Fs))


@pytest.mark.parametrize("width", [4, SEQ_WIDTH + 5, 300])
def test_ff_float_is_the_dense_formula(width):
    """The row-wise evaluation computes eta x + W relu(U x + b) (up to rounding)."""
    rng = np.random.default_rng(width)
    ff = _wide_ff(rng, 6, width, 3)
    F = rng.normal(size=(500, 6)) * 4
    dense = ff.etaf * F + np.maximum(F @ ff.Uf.T + ff.bf, 0) @ ff.Wf.T
    got = ff.forward_float(F)
    assert np.allclose(got, dense, rtol=1e-12, atol=1e-12 * np.abs(dense).max())
    assert not np.array_equal(got, ff.etaf * F)  # the layer does move tokens
    F0 = F.copy()
    ff.forward_float(F)
    assert np.array_equal(F, F0)  # the input is not overwritten


def test_inactive_tokens_are_returned_unchanged():
    """A token with every ReLU off is eta x exactly (the dense formula adds zeros)."""
    ff = FeedForward(U=[[1, 0]], b=[-10], W=[[5], [7]])
    F = np.array([[1.5, -2.25], [20.0, 1.0]])
    out = ff.forward_float(F)
    assert np.array_equal(out[0], F[0]) and np.array_equal(out[1], [20.0 + 50.0, 1.0 + 70.0])


def test_mean_layer_is_the_sequence_mean():
    sa = SelfAttention(Q=np.full((3, 3), QQ(0), dtype=object), K=eye(3), V=eye(3, 2), rho=QQ(1, 2))
    assert sa.kind == "mean"
    rng = np.random.default_rng(0)
    Fs = [rng.normal(size=(n, 3)) for n in (1, 5, 40)]
    offsets = np.cumsum([0, 1, 5, 40])
    out = sa.forward_float_stacked(np.concatenate(Fs), offsets)
    for j, X in enumerate(Fs):
        assert np.allclose(out[offsets[j] : offsets[j + 1]], 0.5 * X + 2 * X.mean(axis=0), rtol=1e-14)


def test_verify_float_deviation_uses_the_stacked_forward():
    """verify's float64 deviation is the largest |stacked float forward - target|."""
    from exactinterp import verify

    ds = uniform(5, 12, 3, seed=4)
    T = construct(ds)
    rep = verify(T, ds)
    outs = T.forward_many([to_float_array(X) for X in ds.inputs], exact=False)
    dev = max(float(np.max(np.abs(o - to_float_array(ds.targets(j))))) for j, o in enumerate(outs))
    assert rep.float_deviation == dev
