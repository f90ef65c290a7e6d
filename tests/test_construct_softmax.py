"""The softmax construction: computed temperatures, the snap, certified exact interpolation."""

from __future__ import annotations

import math

import flint
import numpy as np
import pytest

from exactinterp import ConstructionError, Dataset, Transformer, construct, verify
from exactinterp.book.families import SMALL, dataset, suite
from exactinterp.book.instances import qarray, random_attention_layer
from exactinterp.construct.bounds import softmax_block_bound, softmax_blocks
from exactinterp.construct.primitives import clustering_sa, ff_from_neurons, rank_one_sa, snap_neurons
from exactinterp.construct.snap import snap_plan
from exactinterp.construct.softmax import build_softmax
from exactinterp.construct.temperature import choose_temperature
from exactinterp.core.numbers import QQ, to_q
from exactinterp.core.scores import score_gaps
from exactinterp.core.softmax import diameter_upper, operator_norm_upper, temperature_bound
from exactinterp.core.state import State
from exactinterp.verify.temperature import engine_encloses, lemma_bounds, measured_deviation

# ----------------------------------------------------------------------------- temperature lemma


def test_temperature_lemma_holds_on_random_layers():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(25):
        d, n = int(rng.integers(2, 4)), int(rng.integers(2, 9))
        X, sa = random_attention_layer(rng, d, n)
        for tau in (QQ(1), QQ(1, 4), QQ(1, 16)):
            sharp, coarse = lemma_bounds(sa, X, tau)
            dev = measured_deviation(sa, X, tau)
            assert dev <= sharp * (1 + 1e-9) + 1e-20  # 1e-20: mpmath rounding on rows with no decision
            assert sharp <= coarse * (1 + 1e-9) + 1e-300
            checked += 1
    assert checked == 75


def test_temperature_bound_gives_delta():
    rng = np.random.default_rng(5)
    for _ in range(10):
        X, sa = random_attention_layer(rng, 2, 6)
        gaps = [g for _, g in score_gaps(sa, X) if g is not None]
        if not gaps:
            continue
        delta = 1e-3
        t0 = temperature_bound(float(min(gaps)), len(X), operator_norm_upper(sa.V), diameter_upper(X), delta)
        tau = choose_temperature(t0)
        assert 0 < float(tau) <= t0 and float(tau) > t0 / 2
        assert measured_deviation(sa, X, tau) <= delta


def test_score_gaps_exact_ties():
    sa = clustering_sa(2, tau=1)
    X = qarray([[1, 0], [0, 1], [1, 0]])
    out = score_gaps(sa, X)
    assert out[0] == ((0, 2), QQ(1))  # x_0 = x_2 tie; runner-up <x_0, x_1> = 0
    assert out[1] == ((1,), QQ(1))


def test_temperature_bound_validates():
    with pytest.raises(ValueError):
        temperature_bound(0.0, 3, 1.0, 1.0, 0.1)
    assert temperature_bound(2.0, 2, 1.0, 1.0, 10.0) == 2.0  # log clamped at 1


# ----------------------------------------------------------------------------- the snap


def test_snap_piece_exact_profile():
    c, a, b = QQ(3), QQ(1, 2), QQ(1, 4)
    ff = ff_from_neurons(2, snap_neurons(2, 0, c, a, b))
    xs = [QQ(k, 16) for k in range(16, 80)]
    st = ff.apply(State.from_sequences([np.array([[x, QQ(7)] for x in xs], dtype=object)]))
    for x, y in zip(xs, st.E, strict=True):
        assert y[1] == 7
        if abs(x - c) <= b:
            assert y[0] == c
        elif abs(x - c) >= a:
            assert y[0] == x
        else:
            assert min(x, c) <= y[0] <= max(x, c)


def test_snap_lands_balls_exactly_and_refuses_straddling_balls():
    plan = snap_plan([(QQ(3), QQ(3)), (QQ(-1, 2), QQ(-3, 4))])
    ff = plan.ff(2)
    inside = np.array([[flint.arb(3, 1e-3), flint.arb(3, 2e-3)], [flint.arb(-0.5, 1e-6), flint.arb(-0.75, 1e-9)]])
    st = State(E=np.empty((2, 2), dtype=object), F=np.zeros((2, 2)), R=np.zeros(2), offsets=np.array([0, 2]))
    st.set_rows(np.arange(2), inside)
    out = ff.apply(st)
    assert out.is_exact
    assert [tuple(r) for r in out.E] == [(3, 3), (QQ(-1, 2), QQ(-3, 4))]
    wide = State(E=np.empty((1, 2), dtype=object), F=np.zeros((1, 2)), R=np.zeros(1), offsets=np.array([0, 1]))
    wide.set_rows(np.arange(1), np.array([[flint.arb(3, float(plan.b[0]) * 1.5), flint.arb(3, 0)]]))
    out = ff.apply(wide)
    assert not out.is_exact  # a ball straddling a kink stays a ball: no false certificate


def test_snap_plan_widths():
    pts = [(QQ(3), QQ(3), QQ(3)), (QQ(4), QQ(4), QQ(4)), (QQ(-1, 3), QQ(-2, 3), QQ(-5, 7))]
    plan = snap_plan(pts)
    for k in range(3):
        vals = plan.values[k]
        gap = min(vals[i + 1] - vals[i] for i in range(len(vals) - 1))
        assert 0 < plan.b[k] < plan.a[k] and 4 * plan.a[k] <= gap
    assert plan.width == 4 * 9


# ----------------------------------------------------------------------------- the construction


def _check(ds: Dataset, float_tol: float | None = 1e-9):
    b = build_softmax(ds)
    T = b.transformer
    rep = verify(T, ds)
    assert rep.ok and rep.certified and rep.exact_outputs, rep.summary()
    assert "certified" in rep.summary()
    assert not T.is_hardmax
    separated = any(s.name == "separation" for s in b.steps)
    assert T.num_blocks == softmax_blocks(len(b.leaders), 4, separation=separated)
    assert T.num_blocks <= softmax_block_bound(ds.sum_m) == 2 * ds.sum_m + 3
    info = b.info["softmax"]
    assert info["radius"] < float(info["delta"]) < float(min(info["snap_b"]))
    assert float(info["tau"]) <= info["tau0"]
    if float_tol is not None:
        assert rep.float_deviation <= float_tol
    return b, rep


def test_certified_suite_of_120_datasets():
    fams = {}
    for fam, _, ds in suite(8, seed=11, n=12):
        _check(ds, float_tol=None if fam == "scales" else 1e-9)
        fams[fam] = fams.get(fam, 0) + 1
    assert set(fams) == set(SMALL) and sum(fams.values()) == 8 * len(SMALL) == 120


def test_equal_sets_in_different_proportions():
    a, b = [1, 0], [0, 1]
    ds = Dataset([[a, b], [a, a, b], [a, b, b, b]], [[[1, 1]], [[2, -1]], [[-3, 2]]])
    _check(ds)


def test_shared_tokens_like_figure_9():
    x, y, z = [0, 1], [1, -1], [-1, 0]
    ds = Dataset([[x, y, z, [0, 0]], [x, y, [1, 1]], [[0, 0], [2, 2]]], [[[1, 0], [0, 1]], [[2, 2]], [[3, 3]]])
    b, _ = _check(ds)
    assert b.info["separation"] != "not needed"


def test_block_count_independent_of_n():
    counts = set()
    for n in (4, 16, 64):
        rng = np.random.default_rng(n)
        X = [[f"{int(v)}/997" for v in rng.integers(-997, 998, size=2)] for _ in range(n)]
        ds = Dataset([X, X[: n // 2]], [[[1, 1], [0, 2]], [[2, 0]]])
        b, _ = _check(ds)
        counts.add(b.transformer.num_blocks)
    assert len(counts) == 1


def test_json_roundtrip_and_dispatch():
    ds = dataset("shared", 4, d=3, N=3, n=8, m=3)
    T = construct(ds, "softmax")
    T2 = Transformer.from_json(T.to_json())
    rep = verify(T2, ds)
    assert rep.ok and "softmax (certified" in rep.summary()


def test_without_snap_nothing_is_certified():
    ds = dataset("shared", 6, d=2, N=3, n=8, m=2)
    b = build_softmax(ds)
    b.steps = [s for s in b.steps if s.name != "snap"]
    rep = verify(b.transformer, ds)
    assert not rep.ok and not rep.certified and "certified" not in rep.summary()
    assert sum(s.undecided for s in rep.sequences) > 0  # balls around the targets, not points


def test_delta_out_of_range_is_refused():
    ds = dataset("random", 1, d=2, N=2, n=6, m=2)
    with pytest.raises(ConstructionError):
        build_softmax(ds, delta=1)


def test_softmax_separation_block_is_rank_one_capable():
    # a softmax rank-one layer moves a shared token differently in two sequences whose
    # hardmax maximiser is the same (Figure 9); exact hardmax moves it identically
    x, top, bot, o1, o2 = [1, 0], [2, 1], [-2, -1], [0, 1], [-1, 1]
    v = [1, 1]
    seqs = [np.array([[to_q(c) for c in t] for t in s], dtype=object) for s in ([x, top, bot, o1], [x, top, bot, o2])]
    for tau, same in ((0, True), (1, False)):
        sa = rank_one_sa(v, lam=QQ(1, 2), rho=1, tau=tau)
        outs = [sa.forward_float(np.array(s, dtype=float)) for s in seqs]
        assert (np.max(np.abs(outs[0][0] - outs[1][0])) < 1e-12) == same
    assert math.isfinite(float(choose_temperature(0.3)))


def test_engine_enclosures_are_checked_against_mpmath():
    rng = np.random.default_rng(8)
    ok = wrong = 0
    for _ in range(20):
        X, sa = random_attention_layer(rng, 2, 6, tau=QQ(1, 8))
        ok += engine_encloses(sa, X)
        wrong += not engine_encloses(sa, X, tau_check=QQ(1, 2))
    assert ok == 20 and wrong > 0  # the check can fail


def test_unbounded_width_gives_five_blocks():
    for fam, _, ds in suite(1, seed=4, families=SMALL[:12], N=4, n=10):
        T = construct(ds, "softmax", max_width=None)
        rep = verify(T, ds)
        assert rep.ok and T.num_blocks <= 5, (fam, rep.summary())


def test_snap_to_targets_variant():
    for fam, _, ds in suite(2, seed=9, n=10):
        b = build_softmax(ds, snap_to_targets=True)
        rep = verify(b.transformer, ds)
        assert rep.ok and rep.certified, (fam, rep.summary())
        separated = any(s.name == "separation" for s in b.steps)
        assert b.transformer.num_blocks == softmax_blocks(len(b.leaders), 4, separated, snap_to_targets=True)
        assert b.transformer.num_blocks <= softmax_block_bound(ds.sum_m, snap_to_targets=True) == ds.sum_m + 3
        assert [s.name for s in b.steps][-1] == "snap" and b.steps[-1].ffs[0].eta == 0
