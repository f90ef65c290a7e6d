"""Unit tests of the layers against hand-computed rational examples."""

import numpy as np
import pytest
from helpers import qarr

from exactinterp import Block, FeedForward, SelfAttention, Transformer
from exactinterp.construct.primitives import eye, rank_one_sa, zeros
from exactinterp.core.numbers import QQ
from exactinterp.core.state import State
from exactinterp.errors import LayerError


def run(layer, X):
    return layer.apply(State.from_sequences([qarr(X)])).E


def test_feedforward_hand_computed():
    # eta = 1/2, one neuron relu(x1 - x2 + 1/3) written on the second coordinate with weight 3
    ff = FeedForward(U=[[1, -1]], b=["1/3"], W=[[0], [3]], eta="1/2")
    out = run(ff, [[1, 0], [0, 1], ["1/3", "2/3"]])
    # (1,0): pre = 4/3 -> (1/2, 4); (0,1): pre = -2/3 -> (0, 1/2); (1/3,2/3): pre = 0 -> (1/6, 1/3)
    assert out.tolist() == [[QQ(1, 2), QQ(4)], [QQ(0), QQ(1, 2)], [QQ(1, 6), QQ(1, 3)]]
    assert np.allclose(ff.forward_float(np.array([[1.0, 0.0]])), [[0.5, 4.0]])
    assert ff.num_parameters() == 5 and ff.num_parameters(dense=True) == 6


def test_hardmax_three_way_tie():
    # Q = K = I; the query (1, 0) scores tokens by their first coordinate; three tokens tie at 2
    sa = SelfAttention(Q=eye(2), K=eye(2), V=eye(2), rho=0)
    X = [[1, 0], [2, 1], [2, -1], [2, 3], [1, 5], [-1, 0]]
    st = State.from_sequences([qarr(X)])
    assert sa.maximisers(st, 0)[0] == (1, 2, 3)
    out = sa.apply(st).E
    assert out[0].tolist() == [QQ(2), QQ(1)]  # mean of (2,1), (2,-1), (2,3)


def test_hardmax_skip_weight_and_value_matrix():
    sa = SelfAttention(Q=[[1, 0]], K=[[1, 0]], V=[[2, 0], [0, 0]], rho="1/2")
    out = run(sa, [[1, 1], [3, 0], [-2, 4]])
    # token (1,1): q.x = 1 > 0 -> argmax k.x = (3,0): 1/2 (1,1) + (6, 0) = (13/2, 1/2)
    # token (-2,4): q.x < 0 -> argmin k.x = (-2,4): (-1, 2) + (-4, 0) = (-5, 2)
    assert out.tolist() == [[QQ(13, 2), QQ(1, 2)], [QQ(15, 2), QQ(0)], [QQ(-5), QQ(2)]]


def test_all_tie_layer_gives_the_mean():
    sa = SelfAttention(Q=zeros(1, 2), K=zeros(1, 2), V=eye(2), rho=0)
    assert sa.kind == "mean"
    out = run(sa, [[0, 0], [1, 2], [1, 2]])
    assert all(r.tolist() == [QQ(2, 3), QQ(4, 3)] for r in out)


def test_rank_one_zero_query_ties_everything():
    sa = rank_one_sa([1, 0], lam=1, rho=0)
    out = run(sa, [[0, 5], [2, 0], [-1, 1]])
    assert out[0].tolist() == [QQ(1, 3), QQ(2)]  # <v, x> = 0: all tie -> mean
    assert out[1].tolist() == [QQ(2), QQ(0)] and out[2].tolist() == [QQ(-1), QQ(1)]


def test_extreme_attained_twice_is_averaged():
    sa = rank_one_sa([1, 0], lam=1, rho=0)
    out = run(sa, [[1, 0], [3, 1], [3, -3]])
    assert out[0].tolist() == [QQ(3), QQ(-1)]


def test_softmax_layer_encloses_the_float_value():
    sa = SelfAttention(Q=[[1, 0]], K=[[1, 0]], V=eye(2), rho=0, tau="1/2")
    X = [[1, 0], [2, 1], ["1/2", -1]]
    out = run(sa, X)
    ref = sa.forward_float(np.array([[1.0, 0.0], [2.0, 1.0], [0.5, -1.0]]))
    for v, r in zip(out.ravel(), ref.ravel(), strict=True):
        assert abs(float(v.mid()) - r) <= float(v.rad()) + 1e-12


def test_identity_block_leaves_tokens_unchanged():
    b = Block.identity(3)
    X = qarr([[1, "2/3", -4], [0, 0, 1]])
    assert b.is_identity
    assert b.apply(State.from_sequences([X])).E.tolist() == X.tolist()


def test_shapes_are_checked():
    with pytest.raises(LayerError):
        FeedForward(U=[[1, 0]], b=[0, 1], W=[[1], [0]])
    with pytest.raises(LayerError):
        SelfAttention(Q=[[1, 0]], K=[[1, 0, 0]], V=eye(2))
    with pytest.raises(LayerError):
        SelfAttention(Q=[[1, 0]], K=[[1, 0]], V=eye(2), tau=-1)


def test_transformer_counts_and_dimension_check():
    T = Transformer(2, [Block(FeedForward(U=[[1, 0]], b=[0], W=[[1], [0]]), rank_one_sa([1, 1]))])
    assert T.num_blocks == 1
    assert T.num_parameters == 3 + 6  # FF: U 1, W 1, eta 1; SA: Q 2, K 2, V 2 (rho = 0)
    with pytest.raises(ValueError):
        T(qarr([[1, 2, 3]]))
