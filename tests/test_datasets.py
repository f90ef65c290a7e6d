"""The seeded random dataset families (exactinterp.datasets)."""

import pytest

from exactinterp import Dataset, DatasetError
from exactinterp.datasets import FAMILIES, INVALID_KINDS, invalid_dataset, invalid_raw, random_dataset, suite


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "large"])
def test_family_is_deterministic_and_valid(family):
    for seed in range(5):
        a, b = random_dataset(family, seed), random_dataset(family, seed)
        assert isinstance(a, Dataset)
        assert a.to_json() == b.to_json()
        assert all(1 <= m <= n for m, n in zip(a.m, a.n, strict=True))
    assert random_dataset(family, 0).to_json() != random_dataset(family, 1).to_json()


def test_family_shapes():
    big = random_dataset("large", 0)
    assert 10 <= big.N <= 20 and max(big.n) <= 200 and min(big.n) >= 100 and max(big.m) <= 4
    assert {random_dataset("highdim", s).d for s in range(30)} >= {2, 8}
    assert all(random_dataset("circle", s).d in (2, 3) for s in range(5))


def test_proportions_family_has_equal_sets_in_different_proportions():
    hits = 0
    for s in range(10):
        ds = random_dataset("proportions", s)
        sets = [frozenset(map(tuple, X)) for X in ds.inputs]
        hits += any(
            sets[i] == sets[j] and ds.proportions_key(i) != ds.proportions_key(j) for i in range(ds.N) for j in range(i)
        )
    assert hits >= 8


def test_permutation_family_has_a_permutation():
    ds = random_dataset("permutation", 3)
    assert sorted(map(tuple, ds.inputs[0])) == sorted(map(tuple, ds.inputs[1]))
    assert ds.classes()[0][:2] == [0, 1]


def test_targets_are_inputs():
    ds = random_dataset("targets_are_inputs", 2)
    toks = {tuple(x) for X in ds.inputs for x in X}
    assert all(tuple(y) in toks for Y in ds.outputs for y in Y)


def test_suite_counts():
    items = list(suite(2, families=["generic", "lattice"]))
    assert [(f, s) for f, s, _ in items] == [("generic", 0), ("generic", 1), ("lattice", 0), ("lattice", 1)]


@pytest.mark.parametrize("kind", list(INVALID_KINDS))
def test_invalid_kinds_raise(kind):
    exc = invalid_dataset(kind)
    assert isinstance(exc, DatasetError) and str(exc)
    with pytest.raises(DatasetError):
        Dataset(*invalid_raw(kind))


def test_unknown_family():
    with pytest.raises(ValueError):
        random_dataset("nope", 0)


def test_random_transformer_is_deterministic_and_equivariant():
    import numpy as np

    from exactinterp.datasets import random_transformer

    T1, T2 = random_transformer(2, 2, seed=3), random_transformer(2, 2, seed=3)
    assert T1.to_json() == T2.to_json() and T1.num_blocks == 2
    X = np.array([[1, 0], [0, 1], [1, 0]], dtype=object)
    out = T1(Dataset([X.tolist()], [[[0, 0]]]).inputs[0])
    assert tuple(out[0]) == tuple(out[2])
