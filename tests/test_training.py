"""Tests of exactinterp.training: loss, coupled Adam step, teacher norm, model order, a short training run, and the
JAX model of constructed transformers (differential test against the engine, exact norms, round trip)."""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

tr = pytest.importorskip("exactinterp.training")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

from exactinterp import Block, Dataset, DatasetError, FeedForward, SelfAttention, Transformer, construct  # noqa: E402
from exactinterp.verify.floats import certified_float_bound  # noqa: E402

LOSS = jax.jit(tr.loss)
HSQ = jax.jit(tr.hausdorff_sq)


def identity_params(d: int, width: int = 2) -> list[dict]:
    """rho = 1, V = 0, eta = 1, W = 0: the identity map, so the loss sees the inputs themselves."""
    z = jnp.zeros
    return [
        {
            "rho": jnp.ones(()),
            "Q": z((1, d)),
            "K": z((1, d)),
            "V": z((d, d)),
            "eta": jnp.ones(()),
            "U": z((width, d)),
            "b": z((width,)),
            "W": z((d, width)),
        }
    ]


def test_float64_enabled():
    assert jnp.zeros(1).dtype == jnp.float64


def test_loss_singleton_hand_computed():
    X = jnp.array([[[0.0, 0.0], [3.0, 4.0]], [[1.0, 1.0], [1.0, 2.0]]])
    Y = jnp.array([[[0.0, 0.0]], [[1.0, 1.0]]])
    # max_i ||x_i - y||^2: 25 and 1, mean 13
    assert float(LOSS(identity_params(2), tr.Problem(X, Y))) == 13.0


def test_hausdorff_general_sets_hand_computed():
    A = jnp.array([[0.0, 0.0], [2.0, 0.0]])
    B = jnp.array([[0.0, 0.0], [0.0, 3.0]])
    # A -> B: max(0, min(4, 13)) = 4; B -> A: max(0, min(9, 13)) = 9
    assert float(HSQ(A, B)) == 9.0
    assert float(HSQ(B, A)) == 9.0
    # padding rows are ignored on either side
    Ap = jnp.array([[0.0, 0.0], [2.0, 0.0], [100.0, 100.0]])
    Bp = jnp.array([[0.0, 0.0], [0.0, 3.0], [-50.0, 7.0]])
    am, bm = jnp.array([True, True, False]), jnp.array([True, True, False])
    assert float(HSQ(Ap, Bp, am, bm)) == 9.0


def test_hausdorff_reduces_to_authors_loss_for_singletons():
    rng = np.random.default_rng(0)
    A, y = jnp.asarray(rng.normal(size=(7, 3))), jnp.asarray(rng.normal(size=(1, 3)))
    assert float(HSQ(A, y)) == pytest.approx(float(jnp.max(jnp.sum((A - y) ** 2, axis=1))), rel=1e-15)


def test_loss_multi_target_and_ragged_inputs():
    X = jnp.array([[[0.0, 0.0], [2.0, 0.0], [9.0, 9.0]], [[1.0, 1.0], [1.0, 2.0], [3.0, 3.0]]])
    Y = jnp.array([[[0.0, 0.0], [0.0, 3.0]], [[1.0, 1.0], [0.0, 0.0]]])
    xm = jnp.array([[True, True, False], [True, True, True]])
    ym = jnp.array([[True, True], [True, False]])
    # sequence 1: the example above, 9; sequence 2: singleton {(1,1)}, max(0, 1, 8) = 8; mean 8.5
    assert float(LOSS(identity_params(2), tr.Problem(X, Y, xm, ym))) == 8.5


def test_masked_attention_equals_unpadded():
    rng = np.random.default_rng(1)
    params = tr.init_params(jax.random.PRNGKey(3), d=3, width=4)
    params[0]["rho"], params[0]["eta"] = jnp.asarray(0.5), jnp.asarray(0.7)
    X1, X2 = rng.uniform(size=(4, 3)), rng.uniform(size=(2, 3))
    y1, y2 = rng.uniform(size=(1, 3)), rng.uniform(size=(1, 3))
    Xp = jnp.asarray(np.stack([X1, np.vstack([X2, 5 * np.ones((2, 3))])]))
    prob = tr.Problem(Xp, jnp.asarray(np.stack([y1, y2])), jnp.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool))
    sep = [float(LOSS(params, tr.Problem(jnp.asarray(X[None]), jnp.asarray(y[None])))) for X, y in ((X1, y1), (X2, y2))]
    assert float(LOSS(params, prob)) == pytest.approx(np.mean(sep), rel=1e-13)


def test_ff_sa_order_matches_engine_block():
    q = Fraction
    U = [[q(1, 2), q(-1, 3)], [q(2), q(1, 5)], [q(-1), q(1)]]
    b = [q(1, 7), q(-1, 2), q(0)]
    W = [[q(1), q(-2), q(1, 3)], [q(1, 4), q(1), q(-1)]]
    Q, K = [[q(1), q(2)]], [[q(-1, 2), q(3, 2)]]
    V = [[q(1, 2), q(1)], [q(0), q(-1, 3)]]
    s = str
    blk = Block(
        FeedForward(U=[[s(x) for x in r] for r in U], b=[s(x) for x in b], W=[[s(x) for x in r] for r in W], eta="2/3"),
        SelfAttention(
            Q=[[s(x) for x in r] for r in Q],
            K=[[s(x) for x in r] for r in K],
            V=[[s(x) for x in r] for r in V],
            rho="1/2",
            tau="1",
        ),
    )
    f = lambda a: jnp.asarray(np.array(a, dtype=float))  # noqa: E731
    params = [{"U": f(U), "b": f(b), "W": f(W), "eta": f(2 / 3), "Q": f(Q), "K": f(K), "V": f(V), "rho": f(0.5)}]
    X = np.random.default_rng(2).uniform(-1, 1, size=(5, 2))
    np.testing.assert_allclose(
        np.asarray(tr.forward(params, jnp.asarray(X), order="ff_sa")), blk.forward_float(X), rtol=1e-13
    )
    sa_first = blk.ff.forward_float(blk.sa.forward_float(X))
    np.testing.assert_allclose(np.asarray(tr.forward(params, jnp.asarray(X), order="sa_ff")), sa_first, rtol=1e-13)


def test_one_and_two_optimizer_steps_equal_hand_computed_coupled_adam():
    eps, lr, T = 0.3, 1e-3, 10
    p = {"a": jnp.array([1.0, -2.0, 1e-6]), "s": jnp.array(0.5)}
    grads = [
        {"a": jnp.array([0.1, 0.0, -3.0]), "s": jnp.array(2.0)},
        {"a": jnp.array([-0.2, 1e-4, 1.0]), "s": jnp.array(0.0)},
    ]
    opt = tr.make_optimizer(eps, T, lr)
    state = opt.init(p)
    # hand computation (torch Adam with weight_decay, CosineAnnealingLR stepped after each step)
    hp = {k: np.asarray(v, float) for k, v in p.items()}
    m = {k: np.zeros_like(v) for k, v in hp.items()}
    v2 = {k: np.zeros_like(v) for k, v in hp.items()}
    for t, g in enumerate(grads, start=1):
        upd, state = opt.update(g, state, p)
        p = optax.apply_updates(p, upd)
        lr_t = lr * (1 + np.cos(np.pi * (t - 1) / T)) / 2
        for k in hp:
            gk = np.asarray(g[k], float) + eps * hp[k]  # coupled: decay added to the gradient before Adam
            m[k] = 0.9 * m[k] + 0.1 * gk
            v2[k] = 0.999 * v2[k] + 0.001 * gk**2
            mhat, vhat = m[k] / (1 - 0.9**t), v2[k] / (1 - 0.999**t)
            hp[k] = hp[k] - lr_t * mhat / (np.sqrt(vhat) + 1e-8)
        for k in hp:
            np.testing.assert_allclose(np.asarray(p[k]), hp[k], rtol=1e-14, atol=1e-18)
    # decoupled decay (AdamW) would give a different step: the test can tell them apart
    adamw = optax.adamw(optax.cosine_decay_schedule(lr, T), weight_decay=eps)
    u, _ = adamw.update(
        grads[0],
        adamw.init({"a": jnp.array([1.0, -2.0, 1e-6]), "s": jnp.array(0.5)}),
        {"a": jnp.array([1.0, -2.0, 1e-6]), "s": jnp.array(0.5)},
    )
    u0, _ = opt.update(grads[0], opt.init(u), {"a": jnp.array([1.0, -2.0, 1e-6]), "s": jnp.array(0.5)})
    assert not np.allclose(np.asarray(u["a"]), np.asarray(u0["a"]))


def test_teacher_norm_and_exact_interpolation():
    prob, teacher = tr.teacher_problem(jax.random.PRNGKey(0), N=4, d=5, n=7)
    t = teacher[0]
    assert np.array_equal(np.asarray(t["V"]), np.eye(5))  # V is the identity, not the inputs (repository bug)
    expected = (
        Fraction(5) + 1 + sum(Fraction(float(x)) ** 2 for k in ("U", "b", "W") for x in np.ravel(np.asarray(t[k])))
    )
    assert tr.exact_norm_sq(teacher) == expected
    assert float(tr.param_norm_sq(teacher)) == pytest.approx(float(expected), rel=1e-14)
    assert float(LOSS(teacher, prob)) < 1e-25
    # the targets are singletons: the FF image of the sequence mean
    mean = np.asarray(prob.X).mean(axis=1)
    y = mean + np.maximum(mean @ np.asarray(t["U"]).T + np.asarray(t["b"]), 0) @ np.asarray(t["W"]).T
    np.testing.assert_allclose(np.asarray(prob.Y[:, 0]), y, rtol=1e-13)


def test_short_training_decreases_loss():
    prob, _ = tr.teacher_problem(jax.random.PRNGKey(1), N=3, d=4, n=6)
    p0 = tr.init_params(jax.random.PRNGKey(2), d=4)
    p, losses = tr.train(p0, prob, 1e-3, 200, lr=1e-2)
    losses = np.asarray(losses)
    assert losses.shape == (200,) and losses[-1] < 0.2 * losses[0]
    assert float(losses[0]) == pytest.approx(float(LOSS(p0, prob)), rel=1e-14)  # recorded before each step


def test_crossing_epoch():
    assert tr.crossing_epoch([5.0, 3.0, 1.0, 2.5, 0.5, 0.4], 2.0) == 5
    assert tr.crossing_epoch([1.0, 0.5], 2.0) == 1
    assert tr.crossing_epoch([1.0, 3.0], 2.0) is None


# ----------------------------------------------------------------------------- constructed models in JAX

DATA = Path(__file__).resolve().parent / "data"


def _rand_dataset(seed: int, N: int, d: int, n: tuple[int, int], m_max: int, shared: bool = False) -> Dataset:
    """Random valid dataset on the grid Z/4 (distinct tokens per sequence); ``shared``: tokens from one pool."""
    rng = np.random.default_rng(seed)
    pool = [tuple(f"{int(v)}/4" for v in rng.integers(-8, 9, size=d)) for _ in range(6)]
    for _ in range(50):
        X, Y = [], []
        for _j in range(N):
            nj = int(rng.integers(n[0], n[1] + 1))
            toks: dict = {}
            while len(toks) < nj:
                t = (
                    pool[int(rng.integers(len(pool)))]
                    if shared
                    else tuple(f"{int(v)}/4" for v in rng.integers(-8, 9, size=d))
                )
                toks[t] = None
            X.append([list(t) for t in toks])
            mj = int(rng.integers(1, min(m_max, nj) + 1))
            Y.append([[f"{int(v)}/2" for v in rng.integers(-6, 7, size=d)] for _ in range(mj)])
        try:
            return Dataset(inputs=X, outputs=Y)
        except DatasetError:
            continue
    raise AssertionError("no valid dataset drawn")


def construction_suite() -> list[tuple[str, Dataset]]:
    """Datasets for the softmax construction: random families of our own and every valid file of tests/data."""
    suite = [
        ("random d=2", _rand_dataset(0, 3, 2, (2, 5), 2)),
        ("random d=3, m<=3", _rand_dataset(1, 3, 3, (3, 6), 3)),
        ("shared tokens", _rand_dataset(2, 4, 2, (2, 4), 2, shared=True)),
        ("long sequences", _rand_dataset(3, 2, 2, (20, 30), 2)),
        (
            "same set, other proportions",
            Dataset(
                inputs=[[["0", "0"], ["1", "1/2"]], [["0", "0"], ["1", "1/2"], ["1", "1/2"]]],
                outputs=[[["2", "-1"]], [["-1/2", "3"]]],
            ),
        ),
    ]
    # the adversarial files of tests/data that stress the construction in different ways (ties, d, scales)
    for f in ("lattice_mass_ties", "permuted_copies", "cocircular", "cospherical_d4", "scales_mixed", "scales_tiny"):
        suite.append((f"{f}.json", Dataset.from_json(DATA / f"{f}.json")))
    return suite


SUITE = construction_suite()
SOFTMAX = {name: construct(ds, attention="softmax") for name, ds in SUITE}


@pytest.mark.parametrize("name", [name for name, _ in SUITE])
def test_jax_forward_of_softmax_constructions_matches_engine_float64(name):
    """DESIGN §6 level 2: the JAX forward of the training model, loaded with the construction, against the
    engine's numpy float64 forward.

    ``certified_float_bound`` encloses what *any* IEEE-754 float64 evaluation computes (any summation
    order, with or without FMA), so the JAX forward must land within it of the targets on every dataset.
    Where that bound certifies the model (<= 1e-9 of the output scale) the two forwards must also agree to
    1e-12 of the scale (measured: <= 2e-14). On ``scales_mixed.json`` (inputs from 1e-9 to 1e9, a range of
    1e18 > 2^53) the bound is ~1e47: no float64 evaluation is determined, and the two summation orders
    legitimately differ; the bound says so, and ``verify --certify-floats`` reports it to a user.
    """
    ds, T = dict(SUITE)[name], SOFTMAX[name]
    assert not T.is_hardmax and all(b.sa.tauf > 0 for b in T.blocks)
    jx = tr.jax_forward_float(T, ds.inputs)
    eng = [T.forward(X, exact=False) for X in ds.inputs]
    scale = max(1.0, max(float(np.max(np.abs(e))) for e in eng))
    dev = tr.jax_numpy_deviation(T, ds.inputs)
    assert dev == max(float(np.max(np.abs(a - b))) for a, b in zip(jx, eng, strict=True))
    bound = certified_float_bound(T, ds)
    tdev = tr.jax_target_deviation(T, ds.inputs, [ds.targets(j) for j in range(ds.N)])
    assert tdev <= bound, f"{name}: the JAX forward is outside the certified float64 enclosure"
    if name == "scales_mixed.json":
        assert bound > scale, "the float64 forward of scales_mixed.json cannot be certified (range 1e18)"
        return
    assert bound <= 1e-9 * scale, f"{name}: certified float64 bound {bound:.3g}"
    assert dev <= 1e-12 * scale, f"{name}: JAX vs numpy float64 deviation {dev:.3g}"


def test_differential_test_can_fail():
    """The same comparison with the wrong block order or the wrong temperatures is far off: it detects both."""
    name = "random d=2"
    ds, T = dict(SUITE)[name], SOFTMAX[name]
    params, arch = tr.params_from_transformer(T), tr.architecture_of(T)
    eng = [T.forward(X, exact=False) for X in ds.inputs]

    def dev(order, taus):
        outs = [np.asarray(tr.forward(params, jnp.asarray(tr.float_array(X)), None, taus, order)) for X in ds.inputs]
        return max(float(np.max(np.abs(a - b))) for a, b in zip(outs, eng, strict=True))

    assert dev("ff_sa", arch.taus) < 1e-12
    assert dev("sa_ff", arch.taus) > 1e-3
    assert dev("ff_sa", tuple(1.0 for _ in arch.taus)) > 1e-3  # the clustering layer's tau matters


def test_jax_forward_of_hardmax_constructions_matches_engine_float64():
    """tau = 0 layers: hardmax with float ties split evenly, as the engine's float64 forward."""
    for name in ("random d=2", "same set, other proportions", "lattice_mass_ties.json"):
        ds = dict(SUITE)[name]
        T = construct(ds, attention="hardmax")
        assert all(b.sa.tauf == 0 for b in T.blocks)
        assert tr.jax_numpy_deviation(T, ds.inputs) <= 1e-12 * max(
            1.0, max(abs(float(v)) for Y in ds.outputs for v in np.ravel(Y))
        )


def _norm_from_json(T) -> Fraction:
    """||theta||^2 from the model's JSON text (DESIGN §5), independently of the engine's objects."""
    total = Fraction(0)
    for blk in T.to_dict()["blocks"]:
        for part in (blk["ff"], blk["sa"]):
            for key, val in part.items():
                if key == "tau":
                    continue
                for v in np.ravel(np.array(val, dtype=object)):
                    total += Fraction(str(v)) ** 2
    return total


@pytest.mark.parametrize("name", ["random d=2", "shared tokens", "lattice_mass_ties.json", "scales_mixed.json"])
def test_exact_norm_of_constructions(name):
    T = SOFTMAX[name]
    exact = tr.transformer_norm_sq(T)
    assert isinstance(exact, Fraction) and exact == _norm_from_json(T)
    assert exact == sum((sum(tr.block_norm_sq(b), Fraction(0)) for b in T.blocks), Fraction(0))
    flt = float(tr.param_norm_sq(tr.params_from_transformer(T)))
    assert flt == pytest.approx(float(exact), rel=1e-12)


def test_exact_norm_hand_computed():
    blk = Block(
        FeedForward(U=[["1/2", "0"]], b=["-3"], W=[["2"], ["1/3"]], eta="1"),
        SelfAttention(Q=[["1", "1"]], K=[["0", "2"]], V=[["0", "0"], ["0", "0"]], rho="-1/2", tau="1/8"),
    )
    T = Transformer(2, [blk])
    # FF: 1/4 + 9 + 4 + 1/9 + 1 ; SA: 1 + 1 + 4 + 1/4 (tau is not a parameter)
    assert tr.block_norm_sq(blk) == (Fraction(1, 4) + 9 + 4 + Fraction(1, 9) + 1, Fraction(25, 4))
    assert tr.transformer_norm_sq(T) == Fraction(1, 4) + 14 + Fraction(1, 9) + Fraction(25, 4)


@pytest.mark.parametrize("name", ["random d=3, m<=3", "same set, other proportions", "cospherical_d4.json"])
def test_load_into_jax_and_back_round_trips(name):
    ds, T = dict(SUITE)[name], SOFTMAX[name]
    arch, params = tr.architecture_of(T), tr.params_from_transformer(T)
    assert arch.depth == T.num_blocks and arch.num_parameters == T.num_parameters_dense
    assert arch.taus == tuple(float(b.sa.tau) for b in T.blocks)
    T2 = Transformer.from_dict(tr.model_dict(params, arch))
    assert tr.architecture_of(T2) == arch
    params2 = tr.params_from_transformer(T2)
    for p, q in zip(params, params2, strict=True):
        assert set(p) == set(q) == set(tr.PARAM_KEYS)
        for k in p:
            assert p[k].shape == q[k].shape and np.array_equal(np.asarray(p[k]), np.asarray(q[k])), k
    # the model read back holds the exact binary values of the float64 weights: equal where those are exact
    exact_entries = 0
    for b, b2 in zip(T.blocks, T2.blocks, strict=True):
        for a, a2 in ((b.ff.U, b2.ff.U), (b.ff.W, b2.ff.W), (b.sa.V, b2.sa.V), (b.sa.Q, b2.sa.Q)):
            for v, v2 in zip(np.ravel(a), np.ravel(a2), strict=True):
                assert Fraction(str(v2)) == Fraction(float(v))
                exact_entries += Fraction(str(v)) == Fraction(str(v2))
    assert exact_entries > 0
    for X in ds.inputs:
        assert np.array_equal(T2.forward(X, exact=False), T.forward(X, exact=False))
    # a random point of the architecture survives the same trip bit for bit
    p0 = tr.init_architecture(jax.random.PRNGKey(0), arch, skip=1.0)
    back = tr.params_from_transformer(Transformer.from_dict(tr.model_dict(p0, arch)))
    assert all(np.array_equal(np.asarray(p[k]), np.asarray(q[k])) for p, q in zip(p0, back, strict=True) for k in p)


def test_constructed_theta_star_is_a_zero_of_the_training_loss():
    """theta* interpolates, so the training loss (squared Hausdorff) of the JAX model at theta* is ~0, while
    theta = 0 has loss mean_j max_k |y_k|^2; a perturbed theta* does not interpolate."""
    ds, T = dict(SUITE)["random d=3, m<=3"], SOFTMAX["random d=3, m<=3"]
    arch, star = tr.architecture_of(T), tr.params_from_transformer(T)
    prob = tr.problem_from_sequences(ds.inputs, ds.outputs)
    assert prob.X_mask is not None  # ragged lengths take the masked path
    assert float(tr.loss(star, prob, arch.taus, "ff_sa")) < 1e-20
    zero = jax.tree_util.tree_map(jnp.zeros_like, star)
    e0 = np.mean([np.max(np.sum(tr.float_array(Y) ** 2, axis=1)) for Y in ds.outputs])
    assert float(tr.loss(zero, prob, arch.taus, "ff_sa")) == pytest.approx(e0, rel=1e-14)
    bumped = [dict(p) for p in star]
    bumped[-1]["eta"] = bumped[-1]["eta"] + 0.5
    assert float(tr.loss(bumped, prob, arch.taus, "ff_sa")) > 1e-6


def test_init_architecture_shapes_and_skips():
    T = SOFTMAX["random d=2"]
    arch = tr.architecture_of(T)
    star, p0 = tr.params_from_transformer(T), tr.init_architecture(jax.random.PRNGKey(1), arch, skip=1.0)
    assert [{k: v.shape for k, v in p.items()} for p in p0] == [{k: v.shape for k, v in p.items()} for p in star]
    assert all(float(p["rho"]) == float(p["eta"]) == 1.0 for p in p0)
    assert all(float(p["rho"]) == 0.0 for p in tr.init_architecture(jax.random.PRNGKey(1), arch))
    assert sum(int(np.size(v)) for p in p0 for v in p.values()) == arch.num_parameters


def test_per_block_temperatures():
    """A tuple of temperatures gives each block its own; a scalar is shared; the wrong count is refused."""
    params = tr.init_architecture(jax.random.PRNGKey(4), tr.Architecture(3, (4, 4), (1, 1), (1.0, 1.0)), skip=1.0)
    X = jnp.asarray(np.random.default_rng(0).uniform(size=(5, 3)))
    same = tr.forward(params, X, tau=0.5, order="ff_sa")
    assert np.array_equal(np.asarray(same), np.asarray(tr.forward(params, X, tau=(0.5, 0.5), order="ff_sa")))
    assert not np.allclose(np.asarray(same), np.asarray(tr.forward(params, X, tau=(0.5, 2.0), order="ff_sa")))
    with pytest.raises(ValueError):
        tr.forward(params, X, tau=(0.5,), order="ff_sa")


def test_tiny_temperature_is_stable_and_matches_engine():
    """tau = 2^-40: scores / tau ~ 1e12 would overflow exp; the max-subtracted softmax matches the engine's."""
    blk = Block(
        FeedForward(U=[["1", "0"]], b=["0"], W=[["1/2"], ["0"]], eta="1"),
        SelfAttention(
            Q=[["1", "0"], ["0", "1"]],
            K=[["1", "0"], ["0", "1"]],
            V=[["1", "0"], ["0", "1"]],
            rho="0",
            tau=f"1/{2**40}",
        ),
    )
    T = Transformer(2, [blk])
    X = np.array([[1.0, 2.0], [1.0, 2.0 + 1e-12], [-3.0, 0.5], [2.0, -1.0]])
    out = tr.jax_forward_float(T, [X])[0]
    assert np.all(np.isfinite(out))
    assert tr.jax_numpy_deviation(T, [X]) <= 1e-12 * np.max(np.abs(out))


def test_train_many_equals_separate_runs():
    """Batched runs (traced eps and lr) are the runs of ``train`` with each eps and lr, up to rounding."""
    prob, _ = tr.teacher_problem(jax.random.PRNGKey(5), N=3, d=3, n=4)
    starts = [tr.init_params(jax.random.PRNGKey(k), d=3, width=2) for k in (6, 7)]
    eps, lrs = [1e-2, 1e-5], [1e-2, 3e-3]
    p, L = tr.train_many(tr.stack(starts), prob, jnp.asarray(eps), jnp.asarray(lrs), 60)
    assert np.asarray(L).shape == (2, 60)
    for k in (1,):  # the second run: a mix-up of the runs' eps or lr would show here (one compilation of train)
        pk, Lk = tr.train(starts[k], prob, eps[k], 60, lr=lrs[k])
        np.testing.assert_allclose(np.asarray(L)[k], np.asarray(Lk), rtol=1e-10)
        for a, b in zip(tr.unstack(p, k), pk, strict=True):
            for key in a:
                np.testing.assert_allclose(np.asarray(a[key]), np.asarray(b[key]), rtol=1e-9, atol=1e-12)
