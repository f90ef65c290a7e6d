"""Tikhonov-regularised training of softmax transformers in JAX + optax (the paper's Figure 1 experiment).

The model is the authors' training block (``tikhonov/src/models.py`` of their repository, re-implemented,
not copied): per block a softmax self-attention layer with low-rank ``Q, K`` (``h x d``), full ``V``, a
learnable scalar skip ``rho`` and temperature ``tau``, and a ReLU feed-forward layer
``FF(x) = eta x + W relu(U x + b)`` with a learnable scalar skip ``eta``. Tokens are rows. The authors' code
applies SA **then** FF inside a block (``order="sa_ff"``, the default here); the book's constructions
use FF then SA as in the paper's Figure 3 (``order="ff_sa"``).

Training minimises the squared Hausdorff distance between the output token set and the target set,
with the authors' optimiser: Adam with **coupled** L2 weight decay (``eps * theta`` added to the gradient
before Adam, as ``torch.optim.Adam(weight_decay=eps)``), cosine decay of the learning rate to 0
(``torch`` ``CosineAnnealingLR``), full batch. The loop is one ``lax.scan`` under ``jit``.

The same model, with FF-first blocks, per-block widths, attention ranks and fixed temperatures
(:class:`Architecture`), contains the book's constructed transformers: :func:`params_from_transformer` loads
one (read by duck typing; this module imports nothing of the engine), :func:`transformer_norm_sq` gives its
exact ||theta||^2, :func:`jax_forward_float` is an independent float64 forward of it (DESIGN §6, level 2),
and :func:`train_many` trains several starts of one architecture at once.

Importing this module enables float64 in JAX (``jax_enable_x64``) and, unless XLA_FLAGS is already set, asks
XLA for single-threaded CPU code (faster for this tiny, overhead-bound problem; independent runs then go
to separate cores through ``run_parallel``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import Any, NamedTuple, TypeVar

# Single-threaded XLA CPU code: read when JAX initialises its backend (first computation), so this works even
# after ``import jax``, but not once something has been computed. An existing XLA_FLAGS is left alone.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

__all__ = [
    "Architecture",
    "Problem",
    "architecture_of",
    "init_architecture",
    "jax_forward_float",
    "jax_numpy_deviation",
    "jax_target_deviation",
    "model_dict",
    "params_from_transformer",
    "problem_from_sequences",
    "transformer_norm_sq",
    "block_norm_sq",
    "float_array",
    "init_params",
    "teacher_problem",
    "forward",
    "hausdorff_sq",
    "loss",
    "param_norm_sq",
    "exact_norm_sq",
    "make_optimizer",
    "train",
    "train_many",
    "stack",
    "unstack",
    "crossing_epoch",
    "warm_chain",
    "run_parallel",
    "Run",
    "Figure1",
    "figure1_experiment",
]

Params = list[dict[str, jax.Array]]


class Problem(NamedTuple):
    """A padded batch of sequences: inputs ``X`` (N, n, d), targets ``Y`` (N, m, d), optional boolean masks."""

    X: jax.Array
    Y: jax.Array
    X_mask: jax.Array | None = None
    Y_mask: jax.Array | None = None


def _linear_init(key: jax.Array, shape: tuple[int, ...], fan_in: int, dtype: Any) -> jax.Array:
    """torch ``nn.Linear`` default: uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)] (drawn in float32)."""
    bound = 1.0 / np.sqrt(fan_in)
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound).astype(dtype)


def init_params(
    key: jax.Array, d: int = 16, h: int = 1, width: int = 4, depth: int = 1, dtype: Any = jnp.float64
) -> Params:
    """Random parameters as the authors' code draws them (torch default init; rho = eta = 0)."""
    blocks = []
    for k in jax.random.split(key, depth):
        kq, kk, kv, ku, kb, kw = jax.random.split(k, 6)
        blocks.append(
            {
                "rho": jnp.zeros((), dtype),
                "Q": _linear_init(kq, (h, d), d, dtype),
                "K": _linear_init(kk, (h, d), d, dtype),
                "V": _linear_init(kv, (d, d), d, dtype),
                "eta": jnp.zeros((), dtype),
                "U": _linear_init(ku, (width, d), d, dtype),
                "b": _linear_init(kb, (width,), d, dtype),
                "W": _linear_init(kw, (d, width), width, dtype),
            }
        )
    return blocks


def _sa(p: dict, X: jax.Array, mask: jax.Array | None, tau: float) -> jax.Array:
    """Self-attention on one sequence X (n, d): rho x_i + sum_k a_ik V x_k.

    ``tau > 0``: ``jax.nn.softmax`` of the scores / tau (max-subtracted: a tiny tau cannot overflow).
    ``tau == 0``: hardmax, float ties split evenly over all float maximisers (the engine's float semantics;
    no gradient reaches Q, K).
    """
    s = (X @ p["Q"].T) @ (X @ p["K"].T).T
    if tau == 0:
        if mask is not None:
            s = jnp.where(mask[None, :], s, -jnp.inf)
        a = (s == jnp.max(s, axis=-1, keepdims=True)).astype(X.dtype)
        a = a / jnp.sum(a, axis=-1, keepdims=True)
    else:
        s = s / tau
        if mask is not None:
            s = jnp.where(mask[None, :], s, -jnp.inf)
        a = jax.nn.softmax(s, axis=-1)
    return p["rho"] * X + a @ (X @ p["V"].T)


def _ff(p: dict, X: jax.Array) -> jax.Array:
    """Token-wise ReLU feed-forward: eta x + W relu(U x + b)."""
    return p["eta"] * X + jax.nn.relu(X @ p["U"].T + p["b"]) @ p["W"].T


Tau = float | tuple[float, ...]


def _taus(tau: Tau, depth: int) -> tuple[float, ...]:
    """One temperature per block: a scalar is shared by all blocks, a tuple gives each block its own."""
    if isinstance(tau, tuple | list):
        if len(tau) != depth:
            raise ValueError(f"{len(tau)} temperatures for {depth} blocks")
        return tuple(float(t) for t in tau)
    return (float(tau),) * depth


def forward(
    params: Params, X: jax.Array, mask: jax.Array | None = None, tau: Tau = 1.0, order: str = "sa_ff"
) -> jax.Array:
    """The transformer on one sequence X (n, d); ``order`` is "sa_ff" (authors' code) or "ff_sa" (paper, Fig. 3).

    ``tau`` is one fixed temperature for every block or a tuple with one per block (0 = hardmax).
    """
    for p, t in zip(params, _taus(tau, len(params)), strict=True):
        if order == "sa_ff":
            X = _ff(p, _sa(p, X, mask, t))
        elif order == "ff_sa":
            X = _sa(p, _ff(p, X), mask, t)
        else:
            raise ValueError(f"unknown block order {order!r}")
    return X


def hausdorff_sq(
    A: jax.Array, B: jax.Array, A_mask: jax.Array | None = None, B_mask: jax.Array | None = None
) -> jax.Array:
    """Squared Hausdorff distance between the token sets A (n, d) and B (m, d), padded rows masked out."""
    D = jnp.sum((A[:, None, :] - B[None, :, :]) ** 2, axis=-1)  # (n, m)
    big = jnp.asarray(jnp.inf, D.dtype)
    Dr = D if B_mask is None else jnp.where(B_mask[None, :], D, big)
    Dc = D if A_mask is None else jnp.where(A_mask[:, None], D, big)
    a_to_b = jnp.min(Dr, axis=1)  # each output token to its nearest target
    b_to_a = jnp.min(Dc, axis=0)  # each target to its nearest output token
    if A_mask is not None:
        a_to_b = jnp.where(A_mask, a_to_b, -big)
    if B_mask is not None:
        b_to_a = jnp.where(B_mask, b_to_a, -big)
    return jnp.maximum(jnp.max(a_to_b), jnp.max(b_to_a))


def loss(params: Params, prob: Problem, tau: Tau = 1.0, order: str = "sa_ff") -> jax.Array:
    """Training loss E(theta): mean over sequences of the squared Hausdorff distance to the target set."""
    if prob.X_mask is None:
        out = jax.vmap(lambda X: forward(params, X, None, tau, order))(prob.X)
        if prob.Y.shape[1] == 1 and prob.Y_mask is None:  # singleton targets: the authors' max_i ||T(X)_i - y||^2
            return jnp.mean(jnp.max(jnp.sum((out - prob.Y) ** 2, axis=-1), axis=-1))
        per = jax.vmap(
            lambda A, B, bm: hausdorff_sq(A, B, None, bm), in_axes=(0, 0, None if prob.Y_mask is None else 0)
        )(out, prob.Y, prob.Y_mask)
        return jnp.mean(per)
    out = jax.vmap(lambda X, m: forward(params, X, m, tau, order))(prob.X, prob.X_mask)
    ym = prob.Y_mask if prob.Y_mask is not None else jnp.ones(prob.Y.shape[:2], bool)
    return jnp.mean(jax.vmap(hausdorff_sq)(out, prob.Y, prob.X_mask, ym))


def param_norm_sq(params: Any) -> jax.Array:
    """||theta||^2: the sum of squares of all parameters (the Tikhonov penalty without eps)."""
    return sum(jnp.sum(jnp.square(x)) for x in jax.tree_util.tree_leaves(params))


def exact_norm_sq(params: Any) -> Fraction:
    """||theta||^2 in exact rational arithmetic, from the binary values of the parameters."""
    return sum(
        (Fraction(float(v)) ** 2 for x in jax.tree_util.tree_leaves(params) for v in np.ravel(np.asarray(x))),
        Fraction(0),
    )


def teacher_problem(
    key: jax.Array, N: int = 10, d: int = 16, n: int = 100, width: int = 4, h: int = 1, dtype: Any = jnp.float64
) -> tuple[Problem, Params]:
    """The authors' synthetic problem: uniform inputs, targets = last token of a mean-collapse SA then ReLU FF.

    Returns the problem and the teacher as parameters of the same model class (Q = K = 0, V = I, rho = 0,
    eta = 1, U, b, W uniform on [0, 1]); the teacher interpolates the data exactly (loss 0 up to rounding).
    """
    kx, ku, kb, kw = jax.random.split(key, 4)
    X = jax.random.uniform(kx, (N, n, d), jnp.float32).astype(dtype)
    teacher = [
        {
            "rho": jnp.zeros((), dtype),
            "Q": jnp.zeros((h, d), dtype),
            "K": jnp.zeros((h, d), dtype),
            "V": jnp.eye(d, dtype=dtype),
            "eta": jnp.ones((), dtype),
            "U": jax.random.uniform(ku, (width, d), jnp.float32).astype(dtype),
            "b": jax.random.uniform(kb, (width,), jnp.float32).astype(dtype),
            "W": jax.random.uniform(kw, (d, width), jnp.float32).astype(dtype),
        }
    ]
    Y = jax.jit(jax.vmap(lambda x: forward(teacher, x)[-1:]))(X)  # (N, 1, d): all tokens equal the last one
    return Problem(X, Y), teacher


def make_optimizer(eps: Any, epochs: int, lr: float = 1e-3, dtype: Any = None) -> optax.GradientTransformation:
    """torch ``Adam(lr, weight_decay=eps)`` + ``CosineAnnealingLR(T_max=epochs)``: coupled decay BEFORE Adam."""
    sched = optax.cosine_decay_schedule(lr, epochs)
    if dtype is not None:
        base = sched

        def sched(t):  # noqa: F811 - keep the learning rate in the parameters' precision
            return base(t).astype(dtype)

    return optax.chain(
        optax.add_decayed_weights(eps),
        optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-8),
        optax.scale_by_learning_rate(sched),
    )


def _dtype(params: Any) -> Any:
    """The floating dtype of the first parameter leaf."""
    return jax.tree_util.tree_leaves(params)[0].dtype


def _train(params: Params, prob: Problem, eps: Any, epochs: int, lr: float, tau: Tau, order: str):
    """Un-jitted training loop: returns final parameters and the loss recorded before each step."""
    dt = _dtype(params)
    opt = make_optimizer(jnp.asarray(eps, dt), epochs, lr, dt)
    vg = jax.value_and_grad(lambda p: loss(p, prob, tau, order))

    def step(carry, _):
        p, s = carry
        value, g = vg(p)
        upd, s = opt.update(g, s, p)
        return (optax.apply_updates(p, upd), s), value

    (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), None, length=epochs)
    return params, losses


@partial(jax.jit, static_argnames=("epochs", "lr", "tau", "order"))
def train(params: Params, prob: Problem, eps: Any, epochs: int, lr: float = 1e-3, tau: Tau = 1.0, order: str = "sa_ff"):
    """Full-batch training for ``epochs`` steps (fresh Adam state and schedule); returns (params, losses)."""
    return _train(params, prob, eps, epochs, lr, tau, order)


@partial(jax.jit, static_argnames=("epochs", "tau", "order"))
def train_many(params: Params, prob: Problem, eps: Any, lr: Any, epochs: int, tau: Tau = 1.0, order: str = "sa_ff"):
    """Several independent runs of :func:`train` at once, on one problem: ``params`` stacked along a leading
    axis (one start per run), ``eps`` and ``lr`` arrays with one value per run (traced: one compilation serves
    every value). Returns the stacked final parameters and losses (runs x epochs). Each run is the same
    computation as :func:`train` with that eps and lr (not bit for bit: XLA fuses the batched loop differently).
    """
    dt = _dtype(params)
    return jax.vmap(lambda p, e, r: _train(p, prob, e, epochs, r.astype(dt), tau, order))(params, eps, lr)


def stack(runs: Sequence[Params]) -> Params:
    """Stack parameter sets of one architecture along a new leading axis (the ``params`` of :func:`train_many`)."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *runs)


def unstack(params: Params, k: int) -> Params:
    """The k-th parameter set of a stack."""
    return jax.tree_util.tree_map(lambda x: x[k], params)


def crossing_epoch(losses: Any, threshold: float) -> int | None:
    """First epoch (1-based) from which the recorded loss stays below ``threshold``, or None."""
    below = np.asarray(losses) < threshold
    if not below[-1]:
        return None
    above = np.flatnonzero(~below)
    return 1 if above.size == 0 else int(above[-1]) + 2


def warm_chain(params: Params, prob: Problem, eps_list: Sequence[float], epochs_list: Sequence[int], **kw) -> list:
    """The authors' Figure 1b protocol: train successively on each eps, carrying the parameters over."""
    out = []
    for eps, epochs in zip(eps_list, epochs_list, strict=True):
        params, losses = train(params, prob, eps, epochs, **kw)
        out.append((params, losses))
    return out


# ----------------------------------------------------------------------------- constructed models
#
# The book's constructions are ``Transformer`` objects of the exact engine. This module does not import the
# engine (training depends on the core only): it reads them by duck typing. A model has ``.d`` and
# ``.blocks``; a block has ``.ff`` (``U`` w x d, ``b``, ``W`` d x w, ``eta``, float64 copies ``Uf``, ``bf``,
# ``Wf``, ``etaf``) and ``.sa`` (``Q``, ``K`` h x d, ``V`` d x d, ``rho``, ``tau``, float copies ``Qf``, ``Kf``,
# ``Vf``, ``rhof``, ``tauf``); exact entries are rationals with ``.p`` / ``.q`` (flint ``fmpq``) or any
# ``numbers.Rational``. Blocks are SA o FF (feed-forward first): use ``order="ff_sa"``.

PARAM_KEYS = ("U", "b", "W", "eta", "Q", "K", "V", "rho")  # the trained entries of a block (tau is fixed)


class Architecture(NamedTuple):
    """The fixed part of a stack of FF-first blocks: token dimension, and per block the FF width, the rank h
    of Q and K, and the temperature tau (0 = hardmax). Hashable: usable as a static argument of ``jit``."""

    d: int
    widths: tuple[int, ...]
    heads: tuple[int, ...]
    taus: tuple[float, ...]

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def num_parameters(self) -> int:
        """Entries of theta: U, b, W, eta, Q, K, V, rho of every block (zeros included; tau excluded)."""
        d = self.d
        return sum(2 * w * d + w + 1 + 2 * h * d + d * d + 1 for w, h in zip(self.widths, self.heads, strict=True))


def _fraction(v: Any) -> Fraction:
    """An exact engine scalar as a ``Fraction`` (flint ``fmpq`` has ``.p`` / ``.q``)."""
    if hasattr(v, "p") and hasattr(v, "q"):
        return Fraction(int(v.p), int(v.q))
    return Fraction(v)


def float_array(a: Any) -> np.ndarray:
    """float64 copy of an array of exact rationals or numbers (each entry rounded once, like the engine)."""
    arr = np.asarray(a)
    if arr.dtype != object:
        return arr.astype(np.float64)
    return np.array([float(v) for v in np.ravel(arr)], dtype=np.float64).reshape(arr.shape)


def architecture_of(model: Any) -> Architecture:
    """The architecture of a constructed ``Transformer``: its depth, widths, ranks and temperatures as built."""
    return Architecture(
        int(model.d),
        tuple(int(np.shape(b.ff.U)[0]) for b in model.blocks),
        tuple(int(np.shape(b.sa.Q)[0]) for b in model.blocks),
        tuple(float(b.sa.tauf) for b in model.blocks),
    )


def params_from_transformer(model: Any, dtype: Any = jnp.float64) -> Params:
    """The parameters theta of a constructed ``Transformer`` (its float64 weights) in this module's layout."""
    d = int(model.d)
    out = []
    for b in model.blocks:
        ff, sa = b.ff, b.sa
        w, h = np.shape(ff.U)[0], np.shape(sa.Q)[0]
        out.append(
            {
                "U": jnp.asarray(np.reshape(ff.Uf, (w, d)), dtype),
                "b": jnp.asarray(np.reshape(ff.bf, (w,)), dtype),
                "W": jnp.asarray(np.reshape(ff.Wf, (d, w)), dtype),
                "eta": jnp.asarray(ff.etaf, dtype),
                "Q": jnp.asarray(np.reshape(sa.Qf, (h, d)), dtype),
                "K": jnp.asarray(np.reshape(sa.Kf, (h, d)), dtype),
                "V": jnp.asarray(np.reshape(sa.Vf, (d, d)), dtype),
                "rho": jnp.asarray(sa.rhof, dtype),
            }
        )
    return out


def block_norm_sq(block: Any) -> tuple[Fraction, Fraction]:
    """Exact squared norms (FF part: U, b, W, eta; SA part: Q, K, V, rho) of one constructed block."""

    def sq(*arrays: Any) -> Fraction:
        return sum(
            (_fraction(v) ** 2 for a in arrays for v in np.ravel(np.asarray(a, dtype=object)) if v != 0), Fraction(0)
        )

    ff, sa = block.ff, block.sa
    return sq(ff.U, ff.b, ff.W, [ff.eta]), sq(sa.Q, sa.K, sa.V, [sa.rho])


def transformer_norm_sq(model: Any) -> Fraction:
    """||theta||^2 of a constructed ``Transformer`` in exact rational arithmetic, from its exact weights:
    the sum of the squares of every entry of U, b, W, eta, Q, K, V, rho (tau is not a parameter)."""
    return sum((sum(block_norm_sq(b), Fraction(0)) for b in model.blocks), Fraction(0))


def _q_str(v: Any) -> str:
    f = Fraction(float(v))
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def model_dict(params: Params, arch: Architecture) -> dict:
    """Parameters as a model in the engine's JSON format (DESIGN §5): every float written as its exact binary
    value ``"p/q"``, with the architecture's temperatures. ``Transformer.from_dict`` reads it back."""

    def mat(a: Any) -> list:
        return [[_q_str(v) for v in row] for row in np.asarray(a)]

    blocks = []
    for p, tau in zip(params, arch.taus, strict=True):
        blocks.append(
            {
                "ff": {
                    "eta": _q_str(p["eta"]),
                    "U": mat(p["U"]),
                    "b": [_q_str(v) for v in np.asarray(p["b"])],
                    "W": mat(p["W"]),
                },
                "sa": {
                    "rho": _q_str(p["rho"]),
                    "tau": _q_str(tau),
                    "Q": mat(p["Q"]),
                    "K": mat(p["K"]),
                    "V": mat(p["V"]),
                },
            }
        )
    return {"format": "exactinterp.transformer", "version": 1, "d": arch.d, "blocks": blocks}


def init_architecture(key: jax.Array, arch: Architecture, skip: float = 0.0, dtype: Any = jnp.float64) -> Params:
    """Random parameters of ``arch``: torch ``nn.Linear`` default for every matrix and bias (as
    :func:`init_params`), and the scalar skips ``rho = eta = skip`` (the authors use 0)."""
    d, blocks = arch.d, []
    for k, w, h in zip(jax.random.split(key, arch.depth), arch.widths, arch.heads, strict=True):
        kq, kk, kv, ku, kb, kw = jax.random.split(k, 6)
        blocks.append(
            {
                "U": _linear_init(ku, (w, d), d, dtype),
                "b": _linear_init(kb, (w,), d, dtype),
                "W": _linear_init(kw, (d, w), max(w, 1), dtype),
                "eta": jnp.asarray(skip, dtype),
                "Q": _linear_init(kq, (h, d), d, dtype),
                "K": _linear_init(kk, (h, d), d, dtype),
                "V": _linear_init(kv, (d, d), d, dtype),
                "rho": jnp.asarray(skip, dtype),
            }
        )
    return blocks


def _pad(seqs: Sequence[np.ndarray], dtype: Any) -> tuple[jax.Array, jax.Array]:
    """Pad sequences (n_j, d) to (N, n_max, d) with a boolean mask of the real rows."""
    n = max(len(s) for s in seqs)
    d = seqs[0].shape[1]
    X = np.zeros((len(seqs), n, d))
    mask = np.zeros((len(seqs), n), bool)
    for j, s in enumerate(seqs):
        X[j, : len(s)], mask[j, : len(s)] = s, True
    return jnp.asarray(X, dtype), jnp.asarray(mask)


def problem_from_sequences(inputs: Sequence[Any], outputs: Sequence[Any], dtype: Any = jnp.float64) -> Problem:
    """A padded ``Problem`` from input and output sequences (arrays of floats or of exact rationals).

    Masks are set only where lengths differ, so equal-length data take the unmasked (faster) path.
    """
    Xs, Ys = [float_array(X) for X in inputs], [float_array(Y) for Y in outputs]
    X, xm = _pad(Xs, dtype)
    Y, ym = _pad(Ys, dtype)
    ragged_x, ragged_y = len({len(s) for s in Xs}) > 1, len({len(s) for s in Ys}) > 1
    return Problem(X, Y, xm if ragged_x else None, ym if (ragged_y or ragged_x) else None)


def jax_forward_float(model: Any, inputs: Sequence[Any]) -> list[np.ndarray]:
    """An independent float64 forward of a constructed ``Transformer`` (DESIGN §6, level 2) in JAX: the model's
    float64 weights, FF-first blocks, softmax at each block's tau (hardmax with float ties where tau = 0).
    ``inputs`` are sequences (n_j, d) of floats or exact rationals; returns one float64 array per sequence."""
    params, taus = params_from_transformer(model), architecture_of(model).taus
    # eager, one sequence at a time (no padding): XLA compiles each primitive once per shape, far cheaper than
    # compiling the whole model for a one-off pass
    return [np.asarray(forward(params, jnp.asarray(float_array(X)), None, taus, "ff_sa")) for X in inputs]


def _max_abs(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    dev = max((float(np.max(np.abs(x - y), initial=0.0)) for x, y in zip(a, b, strict=True)), default=0.0)
    return dev if np.isfinite(dev) else float("inf")


def jax_numpy_deviation(model: Any, inputs: Sequence[Any]) -> float:
    """Largest |JAX float64 forward - the engine's numpy float64 forward| over all tokens and coordinates."""
    eng = [np.asarray(model.forward(X, exact=False), dtype=np.float64) for X in inputs]
    return _max_abs(jax_forward_float(model, inputs), eng)


def jax_target_deviation(model: Any, inputs: Sequence[Any], targets: Sequence[Any]) -> float:
    """Largest |JAX float64 forward - target| (the measure of ``Report.float_deviation``, for the JAX forward);
    ``targets[j]`` holds one target per input token (``Dataset.targets(j)``)."""
    return _max_abs(jax_forward_float(model, inputs), [float_array(Y) for Y in targets])


T = TypeVar("T")


def run_parallel(jobs: Sequence[Callable[[], T]], workers: int = 2) -> list[T]:
    """Run independent jobs in threads (each jitted run uses one core; JAX releases the GIL while it runs)."""
    with ThreadPoolExecutor(workers) as ex:
        futures = [ex.submit(j) for j in jobs]
        return [f.result() for f in futures]


@dataclass
class Run:
    """One training run: its eps values and epoch counts, recorded losses, final parameters, wall time."""

    name: str
    eps: list[float]
    epochs: list[int]
    losses: list[np.ndarray]
    params: Params
    seconds: float

    @property
    def min_losses(self) -> list[float]:
        """Minimum recorded loss of each stage."""
        return [float(np.min(L)) for L in self.losses]

    @property
    def epochs_per_second(self) -> float:
        """Training epochs per second of wall time (compilation included if it happened here)."""
        return sum(self.epochs) / self.seconds


@dataclass
class Figure1:
    """Everything Figures 1a and 1b need: the problem, the teacher, its norm and the runs by name."""

    prob: Problem
    teacher: Params
    teacher_norm_sq: Fraction
    runs: dict[str, Run] = field(default_factory=dict)
    seconds: float = 0.0


def _job(name: str, p0: Params, prob: Problem, eps: list[float], epochs: list[int]) -> Callable[[], Run]:
    """A thunk running a (possibly warm-started) chain and timing it."""

    def job() -> Run:
        t = time.perf_counter()
        stages = warm_chain(p0, prob, eps, epochs)
        losses = [np.asarray(L) for _, L in stages]  # blocks until done
        return Run(name, list(eps), list(epochs), losses, stages[-1][0], time.perf_counter() - t)

    return job


def figure1_experiment(
    seed: int = 0,
    extra_seeds: Sequence[int] = (1, 2),
    eps_a: float = 1e-4,
    epochs_a: int = 50_000,
    eps_b: Sequence[float] = (1e-1, 1e-2, 1e-3),
    epochs_b: Sequence[int] = (5_000, 10_000, 50_000),
    workers: int = 2,
    dtype: Any = jnp.float64,
) -> Figure1:
    """Figure 1a (one run), Figure 1b warm-started and independent, and extra random starts, in parallel.

    Runs: "1a" (eps_a from the seed's init), "warm" (the authors' chain over eps_b), "ind <eps>" (fresh from
    the same init, the authors' epoch count; the first eps_b is identical to "warm" and not repeated) and
    "start <s>" (eps_a from the init of ``PRNGKey(1000 + s)``, same data).
    """
    t = time.perf_counter()
    kd, ki = jax.random.split(jax.random.PRNGKey(seed))
    prob, teacher = teacher_problem(kd, dtype=dtype)
    p0 = init_params(ki, dtype=dtype)
    jobs = [
        _job("warm", p0, prob, list(eps_b), list(epochs_b)),
        _job("1a", p0, prob, [eps_a], [epochs_a]),
        *[
            _job(f"start {s}", init_params(jax.random.PRNGKey(1000 + s), dtype=dtype), prob, [eps_a], [epochs_a])
            for s in extra_seeds
        ],
        *[
            _job(f"ind {e:g}", p0, prob, [e], [k])
            for e, k in sorted(zip(eps_b[1:], epochs_b[1:], strict=True), key=lambda x: -x[1])
        ],
    ]
    runs = run_parallel(jobs, workers)
    return Figure1(prob, teacher, exact_norm_sq(teacher), {r.name: r for r in runs}, time.perf_counter() - t)
