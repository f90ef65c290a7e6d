"""Tests of exactinterp.training: loss, coupled Adam step, teacher norm, model order, a short training run."""

from fractions import Fraction

import numpy as np
import pytest

tr = pytest.importorskip("exactinterp.training")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

from exactinterp import Block, FeedForward, SelfAttention  # noqa: E402

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
