"""Unit and property tests of exactinterp.lemmas and rational_sphere_point (Lemmas 4.1-4.3)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactinterp import QQ
from exactinterp.book.instances import (
    permuted,
    qarray,
    random_block,
    random_box_boundary_tokens,
    random_box_tokens,
    random_direction,
    random_sphere_tokens,
    random_tokens,
    two_extremes_tie_instance,
    weights_against_tau,
)
from exactinterp.book.lemma_figures import (
    architecture_diagram,
    before_after,
    draw_box,
    draw_direction,
    projection_figure,
)
from exactinterp.construct.primitives import all_tie_sa, clustering_sa, rank_one_sa, rational_sphere_point
from exactinterp.core.state import State
from exactinterp.verify.lemmas import (
    corner_conclusion,
    corner_prediction,
    extreme_sets,
    in_box,
    on_sphere,
    sa_apply,
    sa_maximisers,
    same_tokens,
    softmax_gap_bound,
    sq_norm,
    two_extremes_conclusion,
    two_extremes_hypotheses,
    two_extremes_prediction,
)

seeds = st.integers(0, 2**32 - 1)


@given(seeds)
@settings(max_examples=60, deadline=None)
def test_lemma_4_1_general_version(seed):
    rng = np.random.default_rng(seed)
    d, n = int(rng.integers(2, 5)), int(rng.integers(2, 12))
    X, v = random_tokens(rng, n, d), random_direction(rng, d)
    lam, rho = QQ(int(rng.integers(1, 4)), 2), QQ(int(rng.integers(0, 3)), 3)
    Y = sa_apply(rank_one_sa(v, lam=lam, rho=rho), X)
    assert same_tokens(Y, two_extremes_prediction(X, v, lam=lam, rho=rho))
    if two_extremes_hypotheses(X, v):
        assert two_extremes_conclusion(X, sa_apply(rank_one_sa(v), X), v)


@given(seeds)
@settings(max_examples=40, deadline=None)
def test_lemma_4_1_tie_instances(seed):
    rng = np.random.default_rng(seed)
    d, n = int(rng.integers(2, 5)), int(rng.integers(2, 12))
    v = random_direction(rng, d)
    X = two_extremes_tie_instance(rng, n, d, v)
    assert not two_extremes_hypotheses(X, v)
    top, bot = extreme_sets(X, v)
    assert len({tuple(X[i]) for i in top}) >= 2 and len({tuple(X[i]) for i in bot}) >= 2
    Y = sa_apply(rank_one_sa(v), X)
    assert same_tokens(Y, two_extremes_prediction(X, v))
    assert not two_extremes_conclusion(X, Y, v)


def test_lemma_4_1_zero_projection_goes_to_mean():
    X = qarray([[1, 0], [-1, 0], [0, 3], [2, 0]])
    v = (1, 0)
    Y = sa_apply(rank_one_sa(v), X)
    assert [str(a) for a in Y[2]] == ["1/2", "3/4"]  # the mean of the four tokens
    assert not two_extremes_hypotheses(X, v)
    assert not two_extremes_conclusion(X, Y, v)


@given(seeds, st.booleans())
@settings(max_examples=100, deadline=None)
def test_lemma_4_2_inside_and_on_the_boundary(seed, boundary):
    """Inside (0, R]^d every token goes to the corner; on [0, R]^d the general prediction holds."""
    rng = np.random.default_rng(seed)
    d, n, R = int(rng.integers(2, 6)), int(rng.integers(1, 15)), 2 + int(boundary is False)
    X = (random_box_boundary_tokens if boundary else random_box_tokens)(rng, n, d, R=R)
    assert in_box(X, R, open_at_zero=not boundary)
    Y = sa_apply(clustering_sa(d), X)
    assert same_tokens(Y, corner_prediction(X, R)) and (boundary or corner_conclusion(Y, R))


def test_lemma_4_2_zero_coordinate_ties():
    X = qarray([[0, 2], [4, 4], [1, 4], [3, 1], [0, 0]])
    Y = sa_apply(clustering_sa(2), X)
    assert same_tokens(Y, corner_prediction(X, 4))
    assert not corner_conclusion(Y, 4)
    assert not in_box(X, 4) and in_box(X, 4, open_at_zero=False)
    assert sa_maximisers(clustering_sa(2), X)[0] == (1, 2)
    assert sa_maximisers(clustering_sa(2), X)[4] == (0, 1, 2, 3, 4)


@given(st.lists(st.fractions(min_value=-5, max_value=5, max_denominator=50), min_size=1, max_size=4), seeds)
@settings(max_examples=60, deadline=None)
def test_rational_sphere_point(r, seed):
    R = QQ(int(np.random.default_rng(seed).integers(1, 9)), 3)
    p = rational_sphere_point([QQ(f.numerator, f.denominator) for f in r], R)
    assert len(p) == len(r) + 1 and sq_norm(p) == R * R
    # stereographic projection from the pole R e_d gives r back
    assert [a / (R - p[-1]) for a in p[:-1]] == [QQ(f.numerator, f.denominator) for f in r]


@given(seeds)
@settings(max_examples=40, deadline=None)
def test_lemma_4_3(seed):
    rng = np.random.default_rng(seed)
    d, n = int(rng.integers(2, 6)), int(rng.integers(1, 12))
    S = random_sphere_tokens(rng, n, d, R=QQ(5, 2))
    assert on_sphere(S, QQ(5, 2)) and len({tuple(x) for x in S}) == n
    assert sa_maximisers(clustering_sa(d), S) == [(i,) for i in range(n)]
    assert same_tokens(sa_apply(clustering_sa(d), S), S)


def test_lemma_4_3_needs_one_radius():
    S = qarray([[1, 0], [0, 1], [2, 0]])  # (1, 0) is not on the sphere of radius 2
    assert not on_sphere(S, 2)
    assert not same_tokens(sa_apply(clustering_sa(2), S), S)


def test_sphere_tokens_refuse_impossible_counts():
    with pytest.raises(ValueError):
        random_sphere_tokens(np.random.default_rng(0), 100, 2, num=3)


@given(seeds)
@settings(max_examples=25, deadline=None)
def test_block_is_permutation_equivariant(seed):
    rng = np.random.default_rng(seed)
    d, n = int(rng.integers(2, 4)), int(rng.integers(2, 8))
    X = random_tokens(rng, n, d)
    X[int(rng.integers(0, n))] = X[0]  # a repeated token: ties
    block = random_block(rng, d, h=int(rng.integers(1, d + 1)))
    perm = rng.permutation(n)
    out = block.apply(State.from_sequences([X])).E
    out_p = block.apply(State.from_sequences([permuted(X, perm)])).E
    assert same_tokens(out_p, permuted(out, perm))


def test_weights_against_tau_converge_to_hardmax():
    X = qarray([[1, 2], [0, 3], [2, 2], [-2, "3/2"], ["7/5", "-1/5"], [-1, "-3/5"]])
    sa = clustering_sa(2)
    W = weights_against_tau(sa, X, 0, [10.0, 1.0, 0.01])
    assert np.allclose(W.sum(axis=1), 1.0)
    assert np.allclose(W[-1], [0, 0.5, 0.5, 0, 0, 0], atol=1e-12)
    scores = [sum(a * b for a, b in zip(X[0], x, strict=True)) for x in X]
    for t, w in zip([10.0, 1.0, 0.01], W, strict=True):
        assert 1 - w[1] - w[2] <= softmax_gap_bound(scores, t) * (1 + 1e-9)


def test_all_tie_layer_is_the_mean():
    X = qarray([[1, 2], [3, 4], [5, 0]])
    Y = sa_apply(all_tie_sa(2, lam=1, rho=0), X)
    assert all(str(a) == s for a, s in zip(Y[0], ["3", "2"], strict=True))


def test_lemma_figures_draw():
    import matplotlib.pyplot as plt

    fig = architecture_diagram()
    assert len(fig.axes[0].patches) >= 9  # 3 blocks x (block, FF, SA) boxes, plus arrows
    X = qarray([[1, 2], [0, 3], [2, 2], [-2, "3/2"]])
    fig2, ax = projection_figure(X, 0, [1, 2])
    fig3, (a0, a1) = before_after(X, X[:1], leaders=[1], lim=3)
    draw_direction(a0, (1, 1), 3)
    draw_box(a1, 2)
    assert len(a0.collections) == 2 and len(a1.collections) == 1
    plt.close("all")
