"""Float64 fidelity by construction: the float64 forward of every model stays within 1e-6 of the targets.

Relative to the data's scale (``data_scale``), in all three regimes (narrow and wide hardmax,
softmax), on the adversarial families and on dense real data; the certified float64 bound is
sound (never below the measured deviation); the sweep keeps every value that still matters on
the quiet side of every bump, so the float forward carries it bit for bit.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import valid_datasets

from exactinterp import Block, Dataset, FeedForward, SelfAttention, Transformer, construct
from exactinterp.book.families import ADVERSARIAL, dataset
from exactinterp.book.real import load
from exactinterp.construct.bumps import sweep_plan
from exactinterp.construct.hardmax import build_hardmax
from exactinterp.construct.primitives import dyadic_centre, trapezoid_bumps
from exactinterp.core.numbers import QQ, exact_dot, to_float_array, to_q
from exactinterp.verify import floats
from exactinterp.verify.floats import FLOAT_TOL, certified_float_bound, data_scale, float_deviation

REGIMES = {"narrow": ("hardmax", 4), "wide": ("hardmax", None), "softmax": ("softmax", 4)}


def relative_deviation(T, ds) -> float:
    return float_deviation(T, ds, relative=False) / data_scale(ds)


@pytest.mark.parametrize("regime", list(REGIMES))
@pytest.mark.parametrize("family", ADVERSARIAL)
def test_float64_fidelity_on_the_robustness_families(family, regime):
    attention, width = REGIMES[regime]
    for seed in range(4):
        ds = dataset(family, seed)
        T = construct(ds, attention=attention, max_width=width)
        dev = float_deviation(T, ds, relative=False)
        assert dev / data_scale(ds) <= FLOAT_TOL, (family, seed, regime, dev)
        assert certified_float_bound(T, ds) >= dev  # the bound is sound


@pytest.mark.parametrize("regime", list(REGIMES))
def test_float64_fidelity_on_dense_real_data(regime):
    """Breast cancer features span 5e-4 .. 4e3 with 4-6 digits each: bump slabs of 1e-9 of the data's span.

    Before the sweep the narrow models of this data deviated by 3e-6 (100 sequences) up to 355 (569).
    """
    attention, width = REGIMES[regime]
    ds = load("breast_cancer", 100)
    T = construct(ds, attention=attention, max_width=width)
    assert relative_deviation(T, ds) <= FLOAT_TOL


def test_the_sweep_keeps_what_matters_on_the_quiet_side_and_float64_carries_it_exactly():
    ds = load("breast_cancer", 60)
    b = build_hardmax(ds)
    sweep = b.info["leaders"]["sweep"]
    assert sweep is not None and sweep["drift_budget"] < 0.5
    ffs = b.step("leaders").ffs
    moved = [tuple(b.step("box").state.E[ld.row]) for ld in b.leaders]
    dests = [ld.position for ld in b.leaders]
    order = []  # which leader each bump moves: the one on its plateau
    for ff in ffs:
        ((u, c, eps),) = trapezoid_bumps(ff)
        k = next(i for i, z in enumerate(moved) if abs(exact_dot(u, z) - c) <= eps / 2)
        order.append(k)
        # every destination, and every leader still to move, is on the quiet side: <u, x> - c <= -eps
        later = [moved[i] for i in range(len(moved)) if i not in order]
        assert all(exact_dot(u, x) - c <= -eps for x in dests + later)
    assert sorted(order) == list(range(len(moved)))
    # the float64 forward through the box and leader blocks puts every leader within 2^-50 |move| of its destination
    X = [to_float_array(x) for x in ds.inputs]
    blocks = b.transformer.blocks[: 1 + int(b.info["separation"] != "not needed") + len(ffs)]
    for blk in blocks[:-1]:
        X = [blk.forward_float(x) for x in X]
    X = [blocks[-1].ff.forward_float(x) for x in X]  # before the clustering attention
    for ld in b.leaders:
        j = b.classes[ld.cls][0]
        i = ld.row - int(b.state.offsets[j])
        err = np.abs(X[j][i] - to_float_array(np.array(ld.position, dtype=object))).max()
        assert err <= 1e-13, (ld, err)


def test_sweep_plan_needs_destinations_beyond_the_moved_values():
    q = lambda *v: np.array([[QQ(x) for x in r] for r in v], dtype=object)  # noqa: E731
    movers, dests = q([1, 0], [2, 0]), q([10, 1], [11, 1])
    relevant = np.concatenate([movers, dests, q([1, 5])])
    sw = sweep_plan(movers, dests, relevant)
    assert sw is not None and sw.order == [0, 1]  # sorted along v, lowest first
    vf = to_float_array(np.array(sw.v, dtype=object))
    assert (to_float_array(dests) @ vf).min() > (to_float_array(movers) @ vf).max()
    # destinations on both sides of the moved values (all on one line): no direction puts them beyond
    dests2 = q([3, 0], [0, 0])
    assert sweep_plan(movers, dests2, np.concatenate([movers, dests2])) is None


def test_certified_bound_is_tight_on_a_quiet_model_and_sound_on_a_rounding_one():
    ds = dataset("random", 3)
    T = construct(ds)
    dev, bound = float_deviation(T, ds, relative=False), certified_float_bound(T, ds)
    assert dev <= bound <= 1e-10 * data_scale(ds)
    # x -> 3 (x / 3) is the identity in exact arithmetic; float64 rounds 1/3 and both products
    d = 2
    none = np.empty((0, d), dtype=object)
    scale = [FeedForward(U=none, b=[], W=none.T, eta=e) for e in (QQ(1, 3), QQ(3))]
    T2 = Transformer(d, [Block(ff, SelfAttention.identity(d)) for ff in scale])
    ds2 = Dataset([[[QQ(k, 7), QQ(1, k)] for k in range(1, 30)]], [[[QQ(k, 7), QQ(1, k)] for k in range(1, 30)]])
    dev2, bound2 = float_deviation(T2, ds2, relative=False), certified_float_bound(T2, ds2)
    assert 0 < dev2 <= bound2 <= 1e-14


# ----------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_datasets(max_N=3), st.sampled_from(list(REGIMES)))
def test_property_float64_fidelity_and_a_sound_certified_bound(data, regime):
    """Any valid draw of the registry: float64 within 1e-6 of the targets, and never above the certified bound."""
    ds = Dataset.from_dict(data)
    attention, width = REGIMES[regime]
    T = construct(ds, attention=attention, max_width=width)
    dev = float_deviation(T, ds, relative=False)
    assert dev / data_scale(ds) <= FLOAT_TOL
    assert certified_float_bound(T, ds) >= dev


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**9), st.integers(0, 60))
def test_property_dyadic_centre(p, q, k):
    uz, eps = QQ(p, q), QQ(1, 2**k)
    c = dyadic_centre(uz, eps)
    assert abs(c - uz) <= eps / 32 and (c * 16 / eps).q == 1
    assert to_q(float(c - eps), allow_float=True) == c - eps or abs(c / eps) >= 2**48  # biases exact in float64


@given(
    st.integers(1, 5),
    st.integers(1, 6),
    st.integers(2, 5),
    st.integers(0, 2**32 - 1),
)
def test_property_dataset_from_integer_and_float_arrays(N, n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(-50, 50, size=(N, n, d))
    X[:, :, 0] = np.arange(n)[None, :] + 100 * np.arange(N)[:, None]  # distinct tokens: a valid dataset
    Y = X[:, :1, :]
    ds = Dataset.from_arrays(X, Y)
    assert all(ds.inputs[j][i, k] == QQ(int(X[j, i, k])) for j in range(N) for i in range(n) for k in range(d))
    halves = Dataset.from_arrays(X / 2, Y / 2, floats="decimal")  # k/2 is exact in both readings
    assert halves == Dataset.from_arrays(X / 2, Y / 2, floats="exact")
    assert Dataset.from_json(halves.to_json()) == halves


def test_certified_bound_is_the_same_in_chunks(monkeypatch):
    """The FF enclosure takes tokens in chunks of rows (a 36,000-neuron snap on all digits would need
    several 2 GiB arrays at once): any chunk size gives a sound bound, the same up to the rounding of
    the midpoints (BLAS may sum a product of another shape in another order)."""
    ds = load("wine", 40)
    models = [construct(ds, attention=a, max_width=w) for a in ("hardmax", "softmax") for w in (4, None)]
    whole = [certified_float_bound(T, ds) for T in models]
    monkeypatch.setattr(floats, "_CHUNK_ENTRIES", 7)  # a handful of rows per chunk, some of one row
    chunked = [certified_float_bound(T, ds) for T in models]
    for T, a, b in zip(models, whole, chunked, strict=True):
        assert np.isfinite(a) and abs(a - b) <= 1e-12 * data_scale(ds)
        assert b >= float_deviation(T, ds, relative=False)
