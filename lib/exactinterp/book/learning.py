"""Orchestration of the learning_construction chapter: the Tikhonov bound with theta* built by
the book's own softmax construction, on data that no teacher made.

* :func:`random_target_dataset` and :func:`stock_dataset` make the chapter's datasets (random rational
  targets; monthly stock returns from matplotlib's bundled ``Stocks.csv``);
* :func:`setting` constructs theta* = ``construct(ds, attention="softmax")``, loads it into the JAX model of
  :mod:`exactinterp.training` (same depth, widths, ranks and fixed temperatures) and measures it: exact
  ||theta*||^2, the loss of theta* and of theta = 0, the JAX and numpy float64 deviations;
* :func:`train_setting` trains that architecture with the chapter's Tikhonov trainer from random
  initialisations and from theta*, batched, one batch per core;
* :func:`norm_sweep` measures ||theta*||^2 of the hardmax and softmax constructions against N, the number of
  outputs, d and the data scale.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from matplotlib import cbook

from .. import training as tr
from ..construct import construct
from ..construct.hardmax import build_hardmax
from ..core.dataset import Dataset
from ..core.transformer import Transformer
from ..errors import DatasetError
from ..verify import verify
from .cache import cached

__all__ = [
    "random_target_dataset",
    "stock_dataset",
    "Setting",
    "setting",
    "Trained",
    "train_setting",
    "eps_inside",
    "norm_parts",
    "norm_sweep",
    "rational_summary",
    "ADAM_STEP_BOUND",
    "lr_sum",
    "max_move",
    "reachable_norm_floor",
    "CASES",
    "case",
    "runs_tables",
    "star_table",
]


# ----------------------------------------------------------------------------- datasets


def _rq(rng: np.random.Generator, lo: int, hi: int, den: int) -> Fraction:
    return Fraction(int(rng.integers(lo * den, hi * den + 1)), den)


def random_target_dataset(
    seed: int,
    N: int = 3,
    d: int = 2,
    n: tuple[int, int] = (3, 5),
    m_max: int = 2,
    scale: Fraction | int = 1,
    den: int = 4,
    lo: int = -2,
    hi: int = 2,
) -> Dataset:
    """N sequences of n[0]..n[1] distinct tokens on the grid (1/den) Z^d in [lo, hi]^d, m^j in 1..m_max random
    targets on the same grid (no teacher), everything times ``scale``. Redrawn until the dataset is valid."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        inputs, outputs = [], []
        for _j in range(N):
            nj = int(rng.integers(n[0], n[1] + 1))
            mj = int(rng.integers(1, min(m_max, nj) + 1))
            toks: dict[tuple, None] = {}
            while len(toks) < nj:
                toks[tuple(_rq(rng, lo, hi, den) for _ in range(d))] = None
            inputs.append([[str(v * scale) for v in t] for t in toks])
            outputs.append([[str(_rq(rng, lo, hi, den) * scale) for _ in range(d)] for _ in range(mj)])
        try:
            return Dataset(inputs=inputs, outputs=outputs)
        except DatasetError:
            continue
    raise RuntimeError("no valid dataset drawn")  # pragma: no cover


STOCKS = ("IBM", "AAPL", "MSFT", "XRX", "ADBE")


def _monthly_prices(columns: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Dates (first of each month) and prices of ``columns`` from matplotlib's sample ``Stocks.csv``."""
    with cbook.get_sample_data("Stocks.csv") as fh:
        rows = list(csv.reader(line for line in fh if not line.startswith("#")))
    head = rows[0]
    idx = [head.index(c) for c in columns]
    data = [r for r in rows[1:] if r[0].endswith("-01") and all(r[i] for i in idx)]
    return [r[0] for r in data], np.array([[float(r[i]) for i in idx] for r in data])


def stock_dataset(
    year: int = 2007, months: Sequence[int] = range(7, 13), stocks: Sequence[str] = STOCKS, index: str = "^GSPC"
) -> Dataset:
    """Real data: one sequence per stock, one token (stock return, index return) per month of ``months`` in
    ``year``, and as the single target the pair (stock return, index return) over the next calendar year.
    Returns are fractions rounded to 1/100 (whole percent) and read exactly. Source: matplotlib's bundled sample
    data ``Stocks.csv`` (monthly prices from Yahoo Finance); ``^GSPC`` is the S&P 500 index."""
    dates, P = _monthly_prices([*stocks, index])
    pos = {dt: i for i, dt in enumerate(dates)}

    def first(y: int, m: int) -> str:
        return f"{y + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}-01"

    def ret(a: str, b: str) -> np.ndarray:
        return P[pos[b]] / P[pos[a]] - 1

    def pct(x: float) -> str:
        return str(Fraction(round(100 * x), 100))

    monthly = [ret(first(year, m), first(year, m + 1)) for m in months]
    nxt = ret(first(year + 1, 1), first(year + 2, 1))
    inputs = [[[pct(r[s]), pct(r[-1])] for r in monthly] for s in range(len(stocks))]
    outputs = [[[pct(nxt[s]), pct(nxt[-1])]] for s in range(len(stocks))]
    return Dataset(inputs=inputs, outputs=outputs)


def rational_summary(q: Fraction) -> str:
    """``p/q`` of a rational with its bit sizes, shortened when long."""
    num, den = str(q.numerator), str(q.denominator)
    short = lambda s: s if len(s) <= 24 else f"{s[:10]}...{s[-10:]} ({len(s)} digits)"  # noqa: E731
    return (
        f"{short(num)}/{short(den)} = {float(q):.6g} "
        f"(numerator {q.numerator.bit_length()} bits, denominator {q.denominator.bit_length()} bits)"
    )


# ----------------------------------------------------------------------------- theta* from the construction


@dataclass
class Setting:
    """One dataset, its constructed softmax interpolant theta* and the JAX model that contains it."""

    name: str
    ds: Dataset
    model: Transformer
    arch: tr.Architecture
    theta_star: tr.Params
    norm_sq: Fraction
    prob: tr.Problem
    loss_zero: float
    loss_star: float
    certified: bool
    numpy_dev: float
    jax_dev: float
    jax_numpy_dev: float

    @property
    def eps_vacuous(self) -> float:
        """The eps above which eps ||theta*||^2 >= E(0) = J_eps(0): there the bound says nothing new."""
        return self.loss_zero / float(self.norm_sq)

    def loss(self, params: tr.Params) -> float:
        """Training loss E (mean squared Hausdorff distance to the target sets), float64."""
        return float(_LOSS(params, self.prob, self.arch.taus))

    def target_distance(self, params: tr.Params) -> float:
        """max over sequences and tokens of |T(X^j)_i - target|, the token-wise reading of DESIGN §3 (the first
        m^j tokens to y^j_1..y^j_m, every other token to y^j_1)."""
        worst = 0.0
        for j, X in enumerate(self.ds.inputs):
            out = np.asarray(tr.forward(params, jnp.asarray(tr.float_array(X)), None, self.arch.taus, "ff_sa"))
            worst = max(worst, float(np.max(np.linalg.norm(out - tr.float_array(self.ds.targets(j)), axis=1))))
        return worst


_LOSS = jax.jit(lambda p, prob, taus: tr.loss(p, prob, taus, "ff_sa"), static_argnums=2)


def setting(name: str, ds: Dataset) -> Setting:
    """theta* = the softmax construction of ``ds``, certified by ``verify``, loaded into the JAX model."""
    model = construct(ds, attention="softmax")
    rep = verify(model, ds)
    arch = tr.architecture_of(model)
    star = tr.params_from_transformer(model)
    prob = tr.problem_from_sequences(ds.inputs, ds.outputs)
    zero = jax.tree_util.tree_map(jnp.zeros_like, star)
    targets = [ds.targets(j) for j in range(ds.N)]
    return Setting(
        name=name,
        ds=ds,
        model=model,
        arch=arch,
        theta_star=star,
        norm_sq=tr.transformer_norm_sq(model),
        prob=prob,
        loss_zero=float(_LOSS(zero, prob, arch.taus)),
        loss_star=float(_LOSS(star, prob, arch.taus)),
        certified=bool(rep.ok and rep.certified),
        numpy_dev=float(rep.float_deviation),
        jax_dev=tr.jax_target_deviation(model, ds.inputs, targets),
        jax_numpy_dev=tr.jax_numpy_deviation(model, ds.inputs),
    )


def norm_parts(model: Transformer) -> dict[str, Fraction]:
    """||theta*||^2 of the softmax construction split by step: the blocks up to the clustering layer (separation,
    box, leader bumps; the clustering block is the one block with Q != 0), the clustering attention, the snap
    (the next block) and the interpolation bumps (the rest)."""
    parts = [tr.block_norm_sq(b) for b in model.blocks]
    k = next(i for i, b in enumerate(model.blocks) if any(v != 0 for v in np.ravel(b.sa.Q)))

    def total(ps: list) -> Fraction:
        return sum((f + a for f, a in ps), Fraction(0))

    return {
        "separation, box and leaders": total(parts[:k]) + parts[k][0],
        "clustering attention": parts[k][1],
        "snap": total(parts[k + 1 : k + 2]),
        "interpolation": total(parts[k + 2 :]),
    }


def sweep_norm_cost(ds: Dataset) -> Fraction:
    """||theta*||^2 of the hardmax construction (narrow phases planned as float64-safe sweeps) over that of
    the same construction with one direction per bump (``sweep=False``): what float64 fidelity costs in norm."""
    with_sweep = tr.transformer_norm_sq(construct(ds, attention="hardmax"))
    return with_sweep / tr.transformer_norm_sq(build_hardmax(ds, sweep=False).transformer)


# ----------------------------------------------------------------------------- training


@dataclass
class Trained:
    """One training run of a setting's architecture and what the chapter reports about its end point."""

    setting: str
    start: str  # "init <seed>" (random), "init <seed>, rho = eta = 0", or "theta*"
    eps: float
    lr: float
    epochs: int
    losses: np.ndarray
    params: tr.Params
    seconds: float  # wall time of the batch this run was trained in
    loss: float = 0.0  # E(theta_T), evaluated at the final parameters
    norm_sq: float = 0.0  # ||theta_T||^2
    target_distance: float = 0.0
    moved: float = 0.0  # ||theta_T - theta_0||
    bound: float = 0.0  # eps ||theta*||^2

    @property
    def objective(self) -> float:
        """J_eps(theta_T) = E(theta_T) + eps ||theta_T||^2."""
        return self.loss + self.eps * self.norm_sq

    @property
    def ratio(self) -> float:
        """E(theta_T) / (eps ||theta*||^2)."""
        return self.loss / self.bound


def _distance(p: tr.Params, q: tr.Params) -> float:
    return float(np.sqrt(sum(float(jnp.sum((a[k] - b[k]) ** 2)) for a, b in zip(p, q, strict=True) for k in a)))


def eps_inside(s: Setting) -> float:
    """A power of ten near eps_vacuous / 100: an eps where eps ||theta*||^2 is about E(0) / 100, inside the
    range where the bound says something."""
    return float(10.0 ** round(np.log10(s.eps_vacuous / 100)))


def train_setting(s: Setting, eps_list: Sequence[float], **options: Any) -> list[Trained]:
    """:func:`_train_setting`, kept on disk between runs (:mod:`exactinterp.book.cache`): a warm build reuses it."""
    key = repr((s.name, s.ds.to_json(), tuple(eps_list), sorted((k, repr(v)) for k, v in options.items())))
    return cached(_train_setting, s, eps_list, key=key, **options)


def _train_setting(
    s: Setting,
    eps_list: Sequence[float],
    seeds: Sequence[int] = (0, 1),
    epochs: int = 20_000,
    star: Sequence[tuple[float, float]] = (),
    zero_skip_eps: Sequence[float] = (),
    skip: float = 1.0,
    workers: int = 2,
) -> list[Trained]:
    """Train the construction's architecture (fixed temperatures) with the chapter's trainer (Adam, coupled
    weight decay eps, cosine schedule, full batch; :func:`training.train_many`):

    * from random initialisations ``init_architecture(PRNGKey(seed), skip=skip)``, every eps and seed, lr 1e-3;
    * from theta* itself, for every (eps, lr) in ``star``;
    * from the authors' initialisation (rho = eta = 0, seed ``seeds[0]``), lr 1e-3, every eps in ``zero_skip_eps``.

    The runs are batched (vmapped) in ``workers`` equal batches, one per core: one compilation in all.
    """
    jobs = [
        (f"init {seed}", tr.init_architecture(jax.random.PRNGKey(seed), s.arch, skip=skip), eps, 1e-3)
        for eps in eps_list
        for seed in seeds
    ]
    jobs += [("theta*", s.theta_star, eps, lr) for eps, lr in star]
    p_zero = tr.init_architecture(jax.random.PRNGKey(seeds[0]), s.arch, skip=0.0)
    jobs += [(f"init {seeds[0]}, rho = eta = 0", p_zero, eps, 1e-3) for eps in zero_skip_eps]
    size = -(-len(jobs) // workers)
    padded = jobs + [jobs[0]] * (size * workers - len(jobs))  # equal batches share one compilation
    batches = [padded[k * size : (k + 1) * size] for k in range(workers)]

    def run(batch: list) -> tuple[Any, Any, float]:
        t = time.perf_counter()
        p, L = tr.train_many(
            tr.stack([j[1] for j in batch]),
            s.prob,
            jnp.asarray([j[2] for j in batch]),
            jnp.asarray([j[3] for j in batch]),
            epochs,
            s.arch.taus,
            "ff_sa",
        )
        L = np.asarray(L)  # blocks until done
        return p, L, time.perf_counter() - t

    results = tr.run_parallel([lambda b=b: run(b) for b in batches], workers)
    out = []
    for k, (start, p0, eps, lr) in enumerate(jobs):
        p_all, L_all, secs = results[k // size]
        p = tr.unstack(p_all, k % size)
        r = Trained(s.name, start, eps, lr, epochs, L_all[k % size], p, secs)
        r.loss, r.norm_sq = s.loss(p), float(tr.param_norm_sq(p))
        r.target_distance, r.moved = s.target_distance(p), _distance(p, p0)
        r.bound = eps * float(s.norm_sq)
        out.append(r)
    return out


#: The three measured cases a trained point can be in (see :func:`case`).
CASES = ("below", "above, penalty negligible", "above, left theta*")


def case(r: Trained) -> str | None:
    """Which measured case a trained point is in, or None if none fits:

    * "below": E(theta_T) <= eps ||theta*||^2;
    * "above, penalty negligible": above the bound, and eps ||theta_T||^2 <= E(theta_T) / 100;
    * "above, left theta*": above the bound, started at theta*, and its recorded loss rose above
      eps ||theta*||^2 = J_eps(theta*) during training.
    """
    if r.loss <= r.bound:
        return CASES[0]
    if r.eps * r.norm_sq <= 1e-2 * r.loss:
        return CASES[1]
    if r.start == "theta*" and float(np.max(r.losses)) > r.bound:
        return CASES[2]
    return None


def _start_label(r: Trained) -> str:
    return r.start.replace("theta*", "θ*").replace("rho = eta = 0", "ρ = η = 0")


def runs_tables(rs: Sequence[Trained]) -> tuple[str, str]:
    """Two Markdown tables of trained points, each narrow enough for the book's column: the reached loss
    against the bound (E(theta_T), eps ||theta*||^2, their ratio), then norm, objective and the distances to
    the targets (set and token-wise). Rows are the runs in order, named by start, eps and learning rate."""
    key = "| start | ε | lr |"
    rule = "|---|---|---|"
    loss = f"{key} E(θ_T) | ε‖θ*‖² | ratio |\n{rule}---|---|---|\n" + "\n".join(
        f"| {_start_label(r)} | {r.eps:.0e} | {r.lr:.0e} | {r.loss:.2e} | {r.bound:.2e} | {r.ratio:.2e} |" for r in rs
    )
    norm = f"{key} ‖θ_T‖² | J_ε(θ_T) | √E (set) | token-wise |\n{rule}---|---|---|---|\n" + "\n".join(
        f"| {_start_label(r)} | {r.eps:.0e} | {r.lr:.0e} | {r.norm_sq:.4g} | {r.objective:.2e} | "
        f"{np.sqrt(r.loss):.1e} | {r.target_distance:.1e} |"
        for r in rs
    )
    return loss, norm


def star_table(rs: Sequence[Trained], theta_star: tr.Params, norm_star: float) -> str:
    """Markdown table of the runs started at theta*: how far they moved and what became of loss and norm.
    Short headers (the chapter explains them): "max E" the largest recorded loss, "move" the largest coordinate
    move, "shrink" (||theta*||^2 - ||theta_T||^2) / ||theta*||^2, "ΔJ_ε" J_eps(theta_T) - J_eps(theta*)."""
    head = "| ε | lr | E(θ_T) | max E | ‖θ_T − θ*‖ | move | shrink | ΔJ_ε |\n|---|---|---|---|---|---|---|---|\n"
    return head + "\n".join(
        f"| {r.eps:.0e} | {r.lr:.0e} | {r.loss:.2e} | {float(np.max(r.losses)):.2e} | {r.moved:.2e} | "
        f"{max_move(r.params, theta_star):.2e} | {(norm_star - r.norm_sq) / norm_star:.1e} | "
        f"{r.objective - r.bound:.2e} |"
        for r in rs
        if r.start == "theta*"
    )


#: Adam with beta1 = 0.9, beta2 = 0.999 (the trainer's): |m_hat_t| / sqrt(v_hat_t) <= C at every step t, by
#: Cauchy-Schwarz on the moment sums, C = (1 - b1) / sqrt(1 - b2) / sqrt(1 - b1^2 / b2); the bias corrections only
#: lower the ratio (the per-step constant increases to C). So one step moves a coordinate by at most C lr_t.
ADAM_STEP_BOUND = 0.1 / np.sqrt(0.001) / np.sqrt(1 - 0.81 / 0.999)


def lr_sum(lr: float, epochs: int) -> float:
    """Sum of the learning rates of one run of the trainer (cosine decay from ``lr`` over ``epochs`` steps)."""
    return float(np.sum(optax.cosine_decay_schedule(lr, epochs)(np.arange(epochs))))


def max_move(p: tr.Params, q: tr.Params) -> float:
    """Largest |p_i - q_i| over all coordinates of two points of one architecture."""
    return max(float(jnp.max(jnp.abs(a[k] - b[k]))) for a, b in zip(p, q, strict=True) for k in a)


def reachable_norm_floor(theta: tr.Params, budget: float) -> float:
    """The smallest ||theta'||^2 over all theta' with max_i |theta'_i - theta_i| <= budget."""
    return sum(float(jnp.sum(jnp.maximum(jnp.abs(x) - budget, 0.0) ** 2)) for x in jax.tree_util.tree_leaves(theta))


# ----------------------------------------------------------------------------- norms of constructions


@dataclass
class SweepRow:
    """One dataset of the norm sweep: its sizes and the exact ||theta*||^2 of both constructions."""

    axis: str
    value: Any
    seed: int
    N: int
    sum_m: int
    d: int
    scale: Fraction
    loss_zero: float
    norm_hardmax: Fraction
    norm_softmax: Fraction
    blocks_softmax: int
    ds: Dataset
    parts: dict[str, Fraction] = field(default_factory=dict)

    @property
    def eps_vacuous(self) -> float:
        return self.loss_zero / float(self.norm_softmax)


def _loss_zero(ds: Dataset) -> float:
    """E(0): the model theta = 0 maps every token to 0, so E(0) = mean_j max_k |y^j_k|^2."""
    return float(np.mean([np.max(np.sum(tr.float_array(Y) ** 2, axis=1)) for Y in ds.outputs]))


def norm_sweep(
    seeds: Sequence[int] = (0, 1, 2),
    Ns: Sequence[int] = (2, 4, 8, 16),
    m_maxes: Sequence[int] = (1, 2, 3, 4),
    ds_: Sequence[int] = (2, 3, 4, 8),
    scales: Sequence[Fraction] = (Fraction(1, 16), Fraction(1, 4), Fraction(1), Fraction(4), Fraction(16)),
) -> list[SweepRow]:
    """Exact ||theta*||^2 of ``construct(ds, "hardmax")`` and ``construct(ds, "softmax")`` along four axes, each
    from the base (N = 4, n in 3..6, m^j <= 2, d = 2, scale 1), several random datasets per point."""
    base = {"N": 4, "m_max": 2, "d": 2, "scale": Fraction(1)}
    axes = {"N": Ns, "m_max": m_maxes, "d": ds_, "scale": scales}
    rows = []
    for axis, values in axes.items():
        for v in values:
            kw = {**base, axis: v}
            for seed in seeds:
                ds = random_target_dataset(
                    1000 * seed + 7, N=kw["N"], d=kw["d"], n=(3, 6), m_max=kw["m_max"], scale=kw["scale"]
                )
                hard, soft = construct(ds, attention="hardmax"), construct(ds, attention="softmax")
                rows.append(
                    SweepRow(
                        axis,
                        v,
                        seed,
                        ds.N,
                        ds.sum_m,
                        ds.d,
                        Fraction(kw["scale"]),
                        _loss_zero(ds),
                        tr.transformer_norm_sq(hard),
                        tr.transformer_norm_sq(soft),
                        soft.num_blocks,
                        ds,
                        norm_parts(soft),
                    )
                )
    return rows
