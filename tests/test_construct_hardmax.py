"""The hardmax construction on the random families: exact interpolation, counts, failures."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactinterp import ConstructionError, Dataset, DatasetError, construct, verify
from exactinterp.book.families import INVALID, SMALL, dataset, invalid
from exactinterp.construct.bounds import (
    hardmax_block_bound,
    hardmax_blocks,
    parameter_bound,
    separation_features,
    summary_blocks_hardmax,
)
from exactinterp.construct.build import start
from exactinterp.construct.clustering import pre_clustering_state
from exactinterp.construct.hardmax import build_hardmax
from exactinterp.construct.primitives import bump_neurons, ff_from_neurons, trapezoid_bumps
from exactinterp.construct.separation import rank_one_separation, separation
from exactinterp.core.numbers import QQ
from exactinterp.core.state import State

PER_FAMILY = 10
DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize("family", SMALL)
def test_exact_interpolation_on_family(family):
    for seed in range(PER_FAMILY):
        ds = dataset(family, seed)
        b = build_hardmax(ds)
        T = b.transformer
        rep = verify(T, ds)
        assert rep.ok, (family, seed, rep.summary())
        P, S = len(b.leaders), int(any(s.name == "separation" for s in b.steps))
        assert T.num_blocks == hardmax_blocks(P, 4, separation=bool(S)) <= hardmax_block_bound(ds.sum_m)
        assert hardmax_block_bound(ds.sum_m) == 2 * ds.sum_m + 2 <= summary_blocks_hardmax(ds)
        assert separation_features(b) <= max(len(ds.classes()) - 1, 0)
        assert T.num_parameters <= parameter_bound(b) <= (18 * ds.d + 13) * ds.sum_m + 5 * ds.d + 4


def test_large_family_n_200_N_20():
    for seed in range(2):
        ds = dataset("large", seed)
        T = construct(ds, "hardmax")
        assert verify(T, ds).ok
        assert T.num_blocks <= 2 * ds.sum_m + 2


@pytest.mark.parametrize("family", ["random", "shared", "proportions", "lattice", "highdim"])
def test_unbounded_width_uses_at_most_four_blocks(family):
    for seed in range(4):
        ds = dataset(family, seed)
        T = construct(ds, "hardmax", max_width=None)
        assert verify(T, ds).ok and T.num_blocks <= 4


def test_deterministic_model():
    ds = dataset("shared", 5)
    assert construct(ds).to_json() == construct(dataset("shared", 5)).to_json()


def test_steps_and_states():
    ds = dataset("shared", 1)
    b = build_hardmax(ds)
    assert [s.name for s in b.steps][-4:] == ["box", "leaders", "clustering", "interpolation"]
    pre = pre_clustering_state(b)
    firsts = [ld for ld in b.leaders if ld.first]
    assert len(firsts) == len(ds.classes())
    for ld in b.leaders:
        assert tuple(pre.E[ld.row]) == ld.position
        assert tuple(b.step("clustering").state.E[ld.row]) == ld.position
    # the clustering SA shares a block with the last leader FF: the block count is unchanged
    assert b.transformer.blocks[len(b.step("leaders").ffs) + 1].sa.kind == "general"


def test_all_tie_separation_splits_equal_sets_in_different_proportions():
    a, b2, c = [0, 1], [1, 0], [3, 3]
    ds = Dataset([[a, b2], [a, b2, b2]], [[c], [a]])
    b = start(ds)
    step = separation(b)
    assert step is not None and len(step.layers) == 2 and step.layers[1].kind == "mean"
    X1, X2 = step.state.sequences()
    assert not ({tuple(x) for x in X1} & {tuple(x) for x in X2})
    assert verify(construct(ds), ds).ok
    with pytest.raises(ConstructionError, match="token sets only"):
        rank_one_separation(start(ds))


@pytest.mark.parametrize("family", ["random", "shared", "lattice", "cocircular"])
def test_rank_one_separation_within_paper_budget(family):
    for seed in range(5):
        ds = dataset(family, seed)
        sets = [frozenset(map(tuple, X)) for X in ds.inputs]
        distinct = all(
            sets[i] != sets[j] or ds.proportions_key(i) == ds.proportions_key(j) for i in range(ds.N) for j in range(i)
        )
        if not distinct:
            continue
        b = build_hardmax(ds, separation_kind="rank-one")
        assert verify(b.transformer, ds).ok
        assert len(b.step("separation").ffs) <= max(len(ds.classes()) - 1, 0) + 1
        assert b.transformer.num_blocks <= summary_blocks_hardmax(ds)


@pytest.mark.parametrize("kind", list(INVALID))
def test_invalid_datasets_never_give_a_model(kind):
    inputs, outputs, match = invalid(kind)
    with pytest.raises(DatasetError, match=match):
        construct(Dataset(inputs, outputs))


def test_regression_single_token_value():
    """Found by the 'scales' family: a dataset with one token value had an infinite gap."""
    ds = Dataset([[["1.5e-6", "2e6", "3"]]], [[["7", "-1e-6", "0"]]])
    assert verify(construct(ds), ds).ok


def test_regression_lattice_like_values_collide_on_small_directions():
    """Found by an old 'targets_are_inputs' draw: all small integer directions had equal projections."""
    ds = Dataset.from_json(str(DATA / "small_directions_collide.json"))
    assert verify(construct(ds), ds).ok
    grid = [[i, j] for i in range(-3, 4) for j in range(-3, 4)]
    ds2 = Dataset([grid, grid[:20]], [[[1, 1], [2, 0], [0, 2]], [[5, 5]]])
    assert verify(construct(ds2), ds2).ok


def test_bits_stay_small():
    worst = (0, 0)
    for fam in ("random", "shared", "lattice", "collinear"):
        for seed in range(3):
            nb, db = construct(dataset(fam, seed)).max_bits()
            worst = (max(worst[0], nb), max(worst[1], db))
    assert worst[0] <= 64 and worst[1] <= 64


def test_regression_distinguishing_threshold_far_from_the_median():
    """Equal means, equal sets; only a threshold near the end of 62 levels splits the classes."""
    base = [[t, 0] for t in range(60)]
    ds = Dataset([base + [[0, 0], [2, 0]], base + [[1, 0], [1, 0]]], [[[5, 5]], [[-5, 5]]])
    b = build_hardmax(ds)
    assert separation_features(b) == 1 and verify(b.transformer, ds).ok


def test_equal_means_family_needs_features():
    used = 0
    for seed in range(6):
        ds = dataset("equal_means", seed)
        b = build_hardmax(ds)
        assert verify(b.transformer, ds).ok
        used += separation_features(b) > 0
    assert used >= 3


@st.composite
def lattice_datasets(draw):
    """2-4 sequences over a tiny lattice (many shared tokens, ties, equal sets), random outputs."""
    d = draw(st.integers(2, 3))
    pts = st.lists(st.integers(-2, 2), min_size=d, max_size=d)
    inputs = draw(st.lists(st.lists(pts, min_size=1, max_size=6), min_size=1, max_size=4))
    outputs = []
    for X in inputs:
        m = draw(st.integers(1, min(3, len(X))))
        outputs.append(draw(st.lists(pts, min_size=m, max_size=m)))
    return inputs, outputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lattice_datasets())
def test_property_valid_datasets_are_interpolated(data):
    """Every dataset is either refused with DatasetError or interpolated exactly within the bound."""
    try:
        ds = Dataset(*data)
    except DatasetError:
        return
    T = construct(ds)
    assert verify(T, ds).ok and T.num_blocks <= 2 * ds.sum_m + 2


@given(st.integers(0, 10**6), st.integers(2, 4))
@settings(max_examples=40, deadline=None)
def test_trapezoid_bumps_reads_back_bump_neurons(seed, d):
    rng = np.random.default_rng(seed)
    u = tuple(QQ(int(v)) for v in rng.integers(-5, 6, size=d))
    z = tuple(QQ(int(v), 3) for v in rng.integers(-9, 10, size=d))
    eps = QQ(1, int(2 ** rng.integers(0, 6)))
    delta = tuple(QQ(int(v), 2) for v in rng.integers(-4, 5, size=d))
    ff = ff_from_neurons(d, bump_neurons(u, z, eps, delta, plateau=eps / 2))
    assert trapezoid_bumps(ff) == [(u, sum((a * b for a, b in zip(u, z, strict=True)), QQ(0)), eps)]
    with pytest.raises(ValueError):
        trapezoid_bumps(ff_from_neurons(d, bump_neurons(u, z, eps, delta)))  # a 3-ReLU hat


@pytest.mark.parametrize("family", ["shared", "lattice", "cocircular", "highdim"])
def test_bump_moves_carry_perturbations_unchanged(family):
    """Every move's slab is empty of other values up to 3 eps; a shift e with |<u, e>| <= eps / 2 is carried exactly."""
    ds = dataset(family, 1)
    b = build_hardmax(ds)
    st_ = b.step("clustering").state
    ffs = b.step("interpolation").ffs
    bumps = [bp for ff in ffs for bp in trapezoid_bumps(ff)]
    assert len(bumps) == len(b.leaders)
    w = [QQ(k + 1) for k in range(b.d)]
    delta = min(eps / (2 * abs(sum((a * c for a, c in zip(u, w, strict=True)), QQ(0))) or 1) for u, _, eps in bumps)
    e = np.array([delta * c for c in w], dtype=object)
    shifted = State.from_sequences([X + e for X in st_.sequences()])
    for ff in ffs:
        shifted = ff.apply(shifted)
    assert (shifted.E == b.state.E + e).all()
