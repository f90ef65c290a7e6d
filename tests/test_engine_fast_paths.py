"""The engine's fast paths against plain definitions: prefix-sum groups, event-driven FF, float-proposed gaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactinterp import FeedForward, SelfAttention, Transformer, construct
from exactinterp.book.families import dataset, depth
from exactinterp.book.instances import random_attention_layer, random_box_tokens
from exactinterp.construct.primitives import bump_neurons, eye, ff_from_neurons
from exactinterp.core import state as state_module
from exactinterp.core.feedforward import _Group
from exactinterp.core.numbers import QQ, ZERO, exact_dot
from exactinterp.core.scores import ALL_TIED, score_gaps, score_matrix
from exactinterp.core.state import State

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _naive_ff(ff: FeedForward, X: np.ndarray) -> np.ndarray:
    """eta x + sum_k W[:, k] relu(<U_k, x> + b_k), token by token, in rationals."""
    out = np.empty_like(X)
    for i, x in enumerate(X):
        h = [max(exact_dot(ff.U[k], x) + ff.b[k], ZERO) for k in range(ff.width)]
        out[i] = [ff.eta * x[r] + sum((ff.W[r, k] * h[k] for k in range(ff.width)), ZERO) for r in range(ff.d)]
    return out


def _naive_group(ff: FeedForward, ks: list[int]) -> tuple[list, list, list]:
    """Kinks and (alpha, beta) of every segment, each segment summed from scratch."""
    kinks = sorted({-ff.b[k] for k in ks})
    alpha, beta = [], []
    for s in range(len(kinks) + 1):
        act = [k for k in ks if s > 0 and -ff.b[k] <= kinks[s - 1]]
        a = [sum((ff.W[r, k] for k in act), ZERO) for r in range(ff.d)]
        c = [sum((ff.W[r, k] * ff.b[k] for k in act), ZERO) for r in range(ff.d)]
        alpha.append([ZERO] * ff.d if all(v == 0 for v in ff.U[ks[0]]) else a)
        beta.append(c)
    return kinks, alpha, beta


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 40), st.integers(2, 4))
def test_prefix_sum_group_equals_naive(seed, width, d):
    rng = np.random.default_rng(seed)
    rows = [[QQ(int(v)) for v in rng.integers(-2, 3, size=d)] for _ in range(3)]
    U = [rows[int(rng.integers(0, 3))] for _ in range(width)]  # repeated rows: groups
    b = [QQ(int(v), 2) for v in rng.integers(-4, 5, size=width)]  # repeated kinks
    W = [[QQ(int(v), 3) for v in rng.integers(-3, 4, size=width)] for _ in range(d)]
    ff = FeedForward(U=U, b=b, W=W)
    by_row: dict[tuple, list[int]] = {}
    for k in range(width):
        by_row.setdefault(tuple(ff.U[k]), []).append(k)
    for ks in by_row.values():
        g = _Group.build(ff, ks)
        kinks, alpha, beta = _naive_group(ff, ks)
        assert list(g.th) == kinks
        assert [list(a) for a in g.alpha] == alpha and [list(c) for c in g.beta] == beta
        assert list(g.zero) == [all(v == 0 for v in a + c) for a, c in zip(alpha, beta, strict=True)]


def _bump_layer(rng: np.random.Generator, E: np.ndarray, d: int) -> FeedForward:
    """A bump around an actual token value (so its slab holds tokens), along a random direction."""
    z = E[int(rng.integers(len(E)))]
    u = [QQ(int(v)) for v in rng.integers(-3, 4, size=d)]
    eps = QQ(1, int(rng.choice([2, 8, 64])))
    delta = [QQ(int(v), 4) for v in rng.integers(-4, 5, size=d)]
    return ff_from_neurons(d, bump_neurons(u, z, eps, delta, plateau=eps / 2))


def _small_index_limits(monkeypatch, merge: int, log: int) -> None:
    """Merges into the projection indexes after ``merge`` changed rows, logs dropped after ``log``."""
    monkeypatch.setattr(state_module, "MERGE_MIN", merge)
    monkeypatch.setattr(state_module, "MERGE_FRACTION", 10**9)
    monkeypatch.setattr(state_module, "LOG_MIN", log)
    monkeypatch.setattr(state_module, "LOG_FACTOR", 0)


@pytest.mark.parametrize(("merge", "log"), [(1, 10**9), (4, 50), (10**6, 10**9)])
def test_event_driven_ff_equals_naive_over_many_layers(monkeypatch, merge, log):
    """A chain of bumps applied in place (indexes, merges, dropped logs, copies) equals the definition."""
    _small_index_limits(monkeypatch, merge, log)
    rng = np.random.default_rng(merge)
    d = 3
    seqs = [random_box_tokens(rng, int(n), d, R=2, den=4) for n in rng.integers(5, 30, size=6)]
    st_ = State.from_sequences(seqs)
    ref = np.concatenate(seqs)
    for step in range(60):
        ff = _bump_layer(rng, ref, d)
        if step % 7 == 3:
            st_ = st_.copy()  # copies share the indexes
        st_ = ff.apply(st_, inplace=True)
        ref = _naive_ff(ff, ref)
        assert st_.E.tolist() == ref.tolist()
        assert np.array_equal(st_.F, np.array([[float(v) for v in r] for r in ref]))


@SETTINGS
@given(st.integers(0, 10**6), st.sampled_from(["shared", "lattice", "collinear", "duplicates"]))
def test_narrow_model_forward_equals_layer_by_layer_naive(seed, family):
    """A constructed narrow model: the engine's forward equals the naive FF (and the SA) layer by layer."""
    ds = dataset(family, seed % 50, d=2 + seed % 3, N=3, n=6)
    T = construct(ds)
    got = T.forward_many(ds.inputs)
    st_ = State.from_sequences(list(ds.inputs))
    for b in T.blocks:
        nxt = _naive_ff(b.ff, st_.E)
        st_ = b.ff.apply(st_)
        assert st_.E.tolist() == nxt.tolist()
        st_ = b.sa.apply(st_)
    assert [X.tolist() for X in got] == [X.tolist() for X in st_.sequences()]
    assert all(X.tolist() == ds.targets(j).tolist() for j, X in enumerate(got))


def test_deep_model_with_small_index_limits(monkeypatch):
    _small_index_limits(monkeypatch, 3, 40)
    ds = depth(12, seed=3)
    T = construct(ds)
    assert all(X.tolist() == ds.targets(j).tolist() for j, X in enumerate(T.forward_many(ds.inputs)))


def _dense_gaps(sa: SelfAttention, X: np.ndarray) -> list:
    out = []
    for row in score_matrix(sa, X):
        top = max(row)
        rest = [v for v in row if v != top]
        out.append((tuple(k for k, v in enumerate(row) if v == top), top - max(rest) if rest else ALL_TIED))
    return out


@SETTINGS
@given(st.integers(0, 10**6), st.integers(2, 4), st.integers(1, 30))
def test_score_gaps_equal_the_dense_definition(seed, d, n):
    rng = np.random.default_rng(seed)
    X, sa = random_attention_layer(rng, d, n)
    assert score_gaps(sa, X) == _dense_gaps(sa, X)
    tie = SelfAttention(Q=eye(d), K=eye(d), V=eye(d), rho=0)  # the clustering layer: many exact ties
    Xl = np.array([[QQ(int(v)) for v in rng.integers(-2, 3, size=d)] for _ in range(n)], dtype=object)
    assert score_gaps(tie, Xl) == _dense_gaps(tie, Xl)
    # scores ~1e-16 apart: their float64 order is noise, only the exact confirmation decides
    base = [QQ(int(v), 3) for v in rng.integers(-3, 4, size=d)]
    Xs = np.array([[c + QQ(int(rng.integers(-50, 51)), 10**17) for c in base] for _ in range(n)], dtype=object)
    assert score_gaps(tie, Xs) == _dense_gaps(tie, Xs)


def test_softmax_enclosures_unchanged_on_a_dataset():
    """The softmax model's verify still certifies (the enclosures use the exact gaps)."""
    from exactinterp import verify

    ds = dataset("shared", 2)
    T = construct(ds, attention="softmax")
    rep = verify(T, ds)
    assert rep.ok and rep.softmax and isinstance(T, Transformer)
