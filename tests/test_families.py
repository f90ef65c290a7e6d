"""The one registry of dataset families (exactinterp.book.families)."""

import numpy as np
import pytest

from exactinterp import Dataset, DatasetError
from exactinterp.book.families import (
    ADVERSARIAL,
    CORRUPTIONS,
    FAMILIES,
    INVALID,
    SMALL,
    assign_outputs,
    corrupt,
    dataset,
    depth,
    invalid,
    scaled,
    suite,
    uniform,
)
from exactinterp.book.instances import random_transformer


@pytest.mark.parametrize("family", SMALL)
def test_family_is_deterministic_and_valid(family):
    for seed in range(5):
        a, b = dataset(family, seed), dataset(family, seed)
        assert a.to_json() == b.to_json()
        assert all(1 <= m <= n for m, n in zip(a.m, a.n, strict=True))
    assert dataset(family, 0).to_json() != dataset(family, 1).to_json()


def test_family_shapes_and_size_overrides():
    big = dataset("large", 0)
    assert 10 <= big.N <= 20 and max(big.n) <= 200 and min(big.n) >= 100 and max(big.m) <= 4
    assert {dataset("highdim", s).d for s in range(30)} >= {2, 8}
    assert all(dataset("cocircular", s).d in (2, 3) for s in range(5))
    ds = dataset("random", 3, d=5, N=4, n=3, m=1)
    assert ds.d == 5 and ds.N == 4 and max(ds.n) <= 3 and ds.m == [1] * 4
    assert set(ADVERSARIAL) <= set(FAMILIES) and "large" not in SMALL


def test_proportions_family_has_equal_sets_in_different_proportions():
    for s in range(10):
        ds = dataset("proportions", s)
        sets = [frozenset(map(tuple, X)) for X in ds.inputs]
        assert all(sets[i] == sets[0] for i in range(ds.N)) and len(ds.classes()) == ds.N >= 2


def test_permuted_family_has_a_permutation_in_the_same_class():
    hits = 0
    for s in range(10):
        ds = dataset("permuted", s)
        hits += any(len(c) > 1 for c in ds.classes())
    assert hits >= 5


def test_targets_are_inputs_and_identity():
    ds = dataset("targets_are_inputs", 2)
    toks = {tuple(x) for X in ds.inputs for x in X}
    assert all(tuple(y) in toks for Y in ds.outputs for y in Y)
    same = total = 0
    for s in range(5):
        ds = dataset("identity", s)
        assert ds.m == ds.n
        pairs = [(x, y) for X, Y in zip(ds.inputs, ds.outputs, strict=True) for x, y in zip(X, Y, strict=True)]
        same += sum(tuple(x) == tuple(y) for x, y in pairs)
        total += sum(ds.n)
    assert same >= total / 2  # most targets are the tokens themselves


def test_the_output_rule_gives_one_value_map_per_class():
    """Equal tokens of one sequence, and equal-proportion sequences, get one value map (else Dataset raises)."""
    rng = np.random.default_rng(0)
    a, b, c = (1, 0), (0, 1), (2, 2)
    fresh = iter([(k, k) for k in range(10, 100)])
    ins, outs = assign_outputs(rng, [[a, b, a, c], [b, a, c, a], [a, b, c, a, b, c, a, a]], 4, lambda x: next(fresh))
    assert ins[1][0] == b and len(outs[1]) <= 4  # the copy keeps its first token, leaders first
    Dataset([list(map(list, X)) for X in ins], [list(map(list, Y)) for Y in outs])  # valid


def test_suite_counts():
    items = list(suite(2, families=["random", "lattice"]))
    assert [(f, s) for f, s, _ in items] == [("random", 0), ("random", 1), ("lattice", 0), ("lattice", 1)]


def test_uniform_depth_scaled():
    ds = uniform(3, 50, 4, seed=1)
    assert ds.N == 3 and ds.n == [50] * 3 and ds.d == 4
    dd = depth(5, seed=0)
    assert dd.sum_m == 5 and dd.N == 3 and all(len({tuple(x) for x in X}) == 8 for X in dd.inputs)
    big = scaled(dd, 3)
    assert big.inputs[0][0, 0] == dd.inputs[0][0, 0] * 1000 and scaled(big, -3).to_dict() == dd.to_dict()


@pytest.mark.parametrize("kind", list(INVALID))
def test_invalid_kinds_raise_with_their_message(kind):
    inputs, outputs, match = invalid(kind)
    with pytest.raises(DatasetError, match=match):
        Dataset(inputs, outputs)


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corruptions_raise_with_their_message(kind):
    for seed in range(12):
        inputs, outputs, match = corrupt(dataset(ADVERSARIAL[seed % len(ADVERSARIAL)], seed), kind, seed)
        with pytest.raises(DatasetError, match=match):
            Dataset(inputs, outputs)


def test_unknown_family_and_corruption():
    with pytest.raises(ValueError, match="unknown family"):
        dataset("nope", 0)
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(dataset("random", 0), "nope", 0)


def test_random_transformer_is_deterministic_and_equivariant():
    T1, T2 = random_transformer(2, 2, seed=3), random_transformer(2, 2, seed=3)
    assert T1.to_json() == T2.to_json() and T1.num_blocks == 2
    X = np.array([[1, 0], [0, 1], [1, 0]], dtype=object)
    out = T1(Dataset([X.tolist()], [[[0, 0]]]).inputs[0])
    assert tuple(out[0]) == tuple(out[2])
