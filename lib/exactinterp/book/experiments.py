"""Chapter experiments: measurements that run the engine many times and return rows for tables and figures.

Nothing here is part of a construction or of a check; each function is used by one chapter
(named in its docstring) and is deterministic in its seed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..construct.bounds import (
    hardmax_block_bound,
    parameter_bound,
    separation_features,
    softmax_block_bound,
    softmax_blocks,
    summary_blocks_hardmax,
    summary_blocks_softmax,
)
from ..construct.build import Build, start
from ..construct.hardmax import build_hardmax
from ..construct.primitives import bump_neurons, ff_from_neurons, rank_one_sa, trapezoid_bumps
from ..construct.separation import rank_one_separation
from ..construct.softmax import build_softmax
from ..construct.temperature import choose_temperature, layer_gaps
from ..core.attention import SelfAttention
from ..core.dataset import Dataset
from ..core.feedforward import FeedForward
from ..core.numbers import ONE, QQ, Q, exact_dot, to_q
from ..core.scores import score_matrix
from ..core.state import State
from ..core.transformer import Transformer
from ..errors import ConstructionError
from ..verify.report import verify
from ..verify.temperature import lemma_bounds, measured_deviation
from .instances import permuted, random_attention_layer, random_transformer

# ----------------------------------------------------------------------------- separation chapter


def has_separation_block(b: Build) -> bool:
    """Whether a build has a separation block (it is omitted when the classes share no token value)."""
    return isinstance(b.info.get("separation"), dict)


@dataclass
class TieFreeExperiment:
    """Runs of random rank-one blocks on {a, b} and {a, b, b}: tie-free ones, and the others."""

    tie_free: int  # runs in which no attention layer met a tie between distinct values
    tie_free_equal: int  # ... and whose outputs agree value by value (the proposition: all of them)
    tied: int  # runs with such a tie
    tied_told_apart: int  # ... in which the two outputs differ


def tie_free_experiment(trials: int = 60, layers: int = 3, seed: int = 6) -> TieFreeExperiment:
    """separation chapter: the sequences {a, b} and {a, b, b} through random rank-one blocks.

    Each block is a random bump FF (random direction, width 1/1000, random push) and a rank-one
    hardmax layer with random v, lambda, rho (small rationals, so ties happen). The exact
    maximiser sets of every layer say whether a query met a tie between distinct values.
    """
    rng = np.random.default_rng(seed)

    def rq(k: int = 9) -> Any:
        return to_q(f"{int(rng.integers(-k, k + 1))}/{int(rng.integers(1, 5))}")

    tie_free = tie_free_equal = tied = told_apart = 0
    for _ in range(trials):
        a, b = [rq(), rq()], [rq(), rq()]
        if a == b:
            continue
        st = State.from_sequences([np.array([a, b], dtype=object), np.array([a, b, b], dtype=object)])
        no_tie = True
        for _layer in range(layers):
            v, u = (rq(), rq()), (rq(), rq())
            ff = ff_from_neurons(2, bump_neurons(u, st.E[0], to_q("1/1000"), (rq(), rq())))
            sa = rank_one_sa(v, lam=rq(), rho=rq())
            st = ff.apply(st)
            for j in (0, 1):
                no_tie &= all(len({tuple(st.E[i]) for i in m}) == 1 for m in sa.maximisers(st, j))
            st = sa.apply(st)
        out1, out2 = st.sequences()
        same = [tuple(x) for x in out1] == [tuple(x) for x in out2[:2]] and tuple(out2[2]) == tuple(out2[1])
        if no_tie:
            tie_free += 1
            tie_free_equal += same
        else:
            tied += 1
            told_apart += not same
    return TieFreeExperiment(tie_free, tie_free_equal, tied, told_apart)


def rank_one_refuses(ds: Dataset) -> bool:
    """separation chapter: True iff the rank-one separation refuses ``ds`` (no token tells two classes apart)."""
    try:
        rank_one_separation(start(ds))
    except ConstructionError:
        return True
    return False


# ----------------------------------------------------------------------------- interpolation chapter


def bump_gap_ratios(ffs: Sequence[FeedForward], relevant: np.ndarray) -> list[Any]:
    """interpolation chapter: g / omega, exactly, for every trapezoid bump of ``ffs``.

    A bump (u, c, omega) moves the one value z of ``relevant`` (the values that exist during the
    phase) whose projection lies within omega/2 of its centre c (an error if there is not exactly
    one); g is the smallest |<u, x - z>| over the other values x, omega the bump's half-width. The
    leader and interpolation lemmas need g >= omega (g >= 3 omega / 2 for the robustness clause);
    the engine places every bump with g >= 2 omega.
    """
    values = list({tuple(x) for x in relevant})
    ratios = []
    for ff in ffs:
        for u, c, omega in trapezoid_bumps(ff):
            proj = [exact_dot(u, x) for x in values]
            moved = [k for k, p in enumerate(proj) if 2 * abs(p - c) < omega]
            if len(moved) != 1:
                raise ValueError(f"a bump's plateau holds {len(moved)} relevant values, not one")
            gaps = [abs(p - proj[moved[0]]) for k, p in enumerate(proj) if k != moved[0]]
            ratios.append(min(gaps, default=None) / omega if gaps else None)
    return [r for r in ratios if r is not None]


def interpolation_gap_ratios(b: Build) -> list[Any]:
    """interpolation chapter: :func:`bump_gap_ratios` of the interpolation phase of a hardmax build."""
    st = b.step("clustering").state
    relevant = [tuple(st.E[ld.row]) for ld in b.leaders] + [tuple(ld.target) for ld in b.leaders]
    return bump_gap_ratios(b.step("interpolation").ffs, np.array(relevant, dtype=object))


# ----------------------------------------------------------------------------- theorem chapter


@dataclass
class NecessityExperiment:
    """Random transformers on a sequence, a permutation and a replication of it."""

    runs: int  # transformers checked
    one_map: int  # runs where the three variants got one value map (the proposition: all)
    proportions_seen: int  # runs where the same tokens in other proportions got another map


def necessity_experiment(count: int, seed: int = 5) -> NecessityExperiment:
    """theorem chapter: random hardmax transformers (d = 2, 3; 1 to 3 blocks; rank h <= d) on random
    sequences with repeated tokens (ties), on a permutation, on a replication (X, X) and on a
    permuted replication; every variant must get the same value map, exactly. As a control, the
    same tokens in other proportions (one more copy of the first token) may get another map.
    """
    rng = np.random.default_rng(seed)
    one_map = seen = 0
    for k in range(count):
        d = int(rng.integers(2, 4))
        T = random_transformer(d, int(rng.integers(1, 4)), seed=seed * 100_000 + k, h=int(rng.integers(1, d + 1)))
        X = [[to_q(int(v)) for v in rng.integers(-3, 4, size=d)] for _ in range(int(rng.integers(2, 7)))]
        X = X + [X[int(i)] for i in rng.integers(0, len(X), size=2)]  # repeated tokens force ties
        Xa = np.array(X, dtype=object)
        variants = [Xa, permuted(Xa, rng.permutation(len(X))), np.concatenate([Xa, Xa])]
        variants.append(permuted(variants[-1], rng.permutation(2 * len(X))))
        maps = [_value_map(Z, T(Z)) for Z in variants]
        one_map += all(m == maps[0] for m in maps)
        other = np.concatenate([Xa, Xa[:1]])
        seen += _value_map(other, T(other)) != maps[0]
    return NecessityExperiment(count, one_map, seen)


def _value_map(X: np.ndarray, Y: np.ndarray) -> dict | None:
    """token value -> output value, or None if two equal tokens got different outputs."""
    vm: dict = {}
    for x, y in zip(X, Y, strict=True):
        if vm.setdefault(tuple(x), tuple(y)) != tuple(y):
            return None
    return vm


__all__ = [
    "has_separation_block",
    "tie_free_experiment",
    "bump_gap_ratios",
    "necessity_experiment",
    "certify",
    "rank_one_refuses",
    "interpolation_gap_ratios",
    "softmax_temperature_against_n",
    "depth_width_suite",
    "LemmaExperiment",
    "lemma_experiment",
    "scale_temperature",
    "PRIOR_WORK",
    "prior_parameters",
    "same_leaders",
    "count_row",
    "trace_table",
]


# ----------------------------------------------------------------------------- softmax chapter


def certify(ds: Dataset, family: str = "") -> dict:
    """softmax chapter: build, verify (ball-certified) and measure one dataset; a row for its tables."""
    t0 = time.perf_counter()
    b = build_softmax(ds)
    t1 = time.perf_counter()
    rep = verify(b.transformer, ds)
    t2 = time.perf_counter()
    info = b.info["softmax"]
    return {
        "family": family,
        "d": ds.d,
        "N": ds.N,
        "n_max": max(ds.n),
        "sum_m": ds.sum_m,
        "blocks": b.transformer.num_blocks,
        "predicted": softmax_blocks(len(b.leaders), b.max_width, separation=has_separation_block(b)),
        "ours": softmax_block_bound(ds.sum_m),
        "third_party": summary_blocks_softmax(ds),
        "params": b.transformer.num_parameters,
        "tau": info["tau"],
        "tau0": info["tau0"],
        "delta": info["delta"],
        "radius": info["radius"],
        "b_min": min(info["snap_b"]),
        "certified": rep.ok and rep.certified,
        "summary": rep.summary(),
        "float_dev": rep.float_deviation,
        "construct_s": t1 - t0,
        "verify_s": t2 - t1,
    }


@dataclass
class LemmaExperiment:
    """Measured deviations and the lemma's bounds over random layers (one row per layer)."""

    measured: np.ndarray
    sharp: np.ndarray
    coarse: np.ndarray
    at_tau0: np.ndarray  # measured deviation / δ at τ = τ_0(δ)


def lemma_experiment(count: int, seed: int = 0, n_max: int = 24) -> LemmaExperiment:
    """softmax chapter: random layers at random temperatures, measured deviation (mpmath) and the two bounds.

    τ is drawn so that the coarse bound lies between 1e-40 and 10; a second run per layer sets
    τ = τ_0(δ) for a random δ and records deviation / δ (at most 1 by the lemma).
    """
    rng = np.random.default_rng(seed)
    rows, ratios = [], []
    while len(rows) < count:
        d, n = int(rng.integers(2, 5)), int(rng.integers(2, n_max + 1))
        X, sa = random_attention_layer(rng, d, n)
        g = layer_gaps(sa, [X])
        if g.gamma_min is None:
            continue
        lead = (n - 1) * g.vnorm * g.diam
        target = 10 ** rng.uniform(-40, 1)
        tau = Q(int(float(g.gamma_min) / max(math.log(lead / target), 0.05) * 2**20) + 1, 2**20)
        sharp, coarse = lemma_bounds(sa, X, tau)
        rows.append((measured_deviation(sa, X, tau), sharp, coarse))
        delta = 10 ** rng.uniform(-12, -1)
        tau0 = choose_temperature(g.tau0(delta))
        ratios.append(measured_deviation(sa, X, tau0) / delta)
    arr = np.array(rows)
    return LemmaExperiment(arr[:, 0], arr[:, 1], arr[:, 2], np.array(ratios))


def softmax_temperature_against_n(ns: Sequence[int], seed: int = 0) -> dict:
    """softmax chapter: the temperature bound tau_0 that the softmax construction computes, against n.

    For each n, two sequences of n and n/2 random tokens (coordinates k/997) with m = (2, 1) are
    constructed with softmax attention; the build records tau_0 from the exact score gaps of its
    own clustering layer. Returns n, tau_0, gamma_min, the chosen tau and the block count.
    """
    out: dict = {"n": [], "tau0": [], "gamma": [], "tau": [], "blocks": []}
    for n in ns:
        r = np.random.default_rng([seed, n])
        X = [[f"{int(v)}/997" for v in r.integers(-997, 998, size=2)] for _ in range(n)]
        ds = Dataset([X, X[: n // 2]], [[[1, 1], [0, 2]], [[2, 0]]])
        b = build_softmax(ds)
        info = b.info["softmax"]
        out["n"].append(n)
        out["tau0"].append(info["tau0"])
        out["gamma"].append(float(info["gamma_min"]))
        out["tau"].append(info["tau"])
        out["blocks"].append(b.transformer.num_blocks)
    return {k: (np.array(v) if k in ("n", "tau0", "gamma") else v) for k, v in out.items()}


def scale_temperature(sa: SelfAttention, seqs: Sequence[np.ndarray]) -> Any:
    """softmax chapter (Figure 9): smallest power of two ≥ max |score|, τ at the scale of the scores.

    A separating softmax layer wants weights far from 0 and 1 (every token contributes), the
    opposite of the clustering layer: a small τ makes the updates of distant tokens e^{-100} tiny.
    """
    top = max(abs(v) for X in seqs for v in score_matrix(sa, X).ravel())
    t = ONE
    while t < top:
        t = t * 2
    while t / 2 >= top and top > 0:
        t = t / 2
    return t


# ----------------------------------------------------------------------------- scaling chapter

#: Prior memorisation results: (label, citation key, parameters as a function of (n, N, d), caveat).
PRIOR_WORK = [
    (
        "Kim, Kim, Mozafari 2023",
        "kim2023provable",
        lambda n, N, d: d + n + math.sqrt(n * N),
        "O~(d + n + sqrt(nN)) parameters, logarithmic factors and bit precision hidden",
    ),
    (
        "Kajitsuka, Sato 2025 (seq-to-seq)",
        "kajitsuka2025optimal",
        lambda n, N, d: math.sqrt(n * N),
        "O~(sqrt(nN)) sufficient and necessary for outputs of length n (one label per token)",
    ),
]


def prior_parameters(n: float, N: int, d: int) -> dict[str, float]:
    """scaling chapter: each prior bound evaluated with all hidden constants set to 1 (orders of growth only)."""
    return {label: f(n, N, d) for label, _, f, _ in PRIOR_WORK}


def same_leaders(base: Dataset, n: int, seed: int = 0) -> Dataset:
    """scaling chapter: ``base`` with every sequence padded to n tokens by fresh random non-leader tokens.

    The first m^j tokens (the leaders) and the outputs are kept, so the construction has the same
    leader points: only the input lengths change.
    """
    rng = np.random.default_rng(seed)
    inputs = []
    for j, X in enumerate(base.inputs):
        m = len(base.outputs[j])
        head = [list(t) for t in X[: max(m, 1)]]
        extra = rng.integers(-(10**6), 10**6 + 1, size=(max(n - len(head), 0), base.d))
        inputs.append(head + [[QQ(int(v), 10**5) for v in tok] for tok in extra])
    return Dataset(inputs, [list(map(list, Y)) for Y in base.outputs])


def count_row(T: Transformer, ds: Dataset) -> dict:
    """scaling chapter: blocks and parameters of a model next to the count of a third-party summary of the paper."""
    return {
        "N": ds.N,
        "max n": max(ds.n),
        "sum m": ds.sum_m,
        "blocks": T.num_blocks,
        "third-party L (hardmax)": summary_blocks_hardmax(ds),
        "nonzero params": T.num_parameters,
        "d sum m": ds.d * ds.sum_m,
    }


def depth_width_suite(datasets: Sequence[tuple[str, Dataset]], widths: Sequence[int | None]) -> list[dict]:
    """scaling chapter: the depth-width theorem on a suite, one row per (dataset, maximal width).

    Each row: blocks and the theorem's bound 2 + 2 ceil(K / floor(w / 4)) (K <= sum m leader
    points), the widest FF and the theorem's bound max(w, F), nonzero parameters and the bound
    of the counts theorem, and whether the exact forward interpolates.
    """
    rows = []
    for name, ds in datasets:
        for w in widths:
            b = build_hardmax(ds, max_width=w)
            T = b.transformer
            F = separation_features(b)
            rows.append(
                {
                    "family": name,
                    "max_width": w,
                    "sum_m": ds.sum_m,
                    "blocks": T.num_blocks,
                    "block_bound": hardmax_block_bound(ds.sum_m, w),
                    "widest": max(blk.ff.width for blk in T.blocks),
                    "width_bound": None if w is None else max(w, F),
                    "params": T.num_parameters,
                    "param_bound": parameter_bound(b),
                    "exact": verify(T, ds).ok,
                }
            )
    return rows


# ----------------------------------------------------------------------------- robustness chapter


def trace_table(trace: list) -> str:
    """robustness chapter: text table of a ``float_trace``: margin, score error, broken/escaped rows, drift, gain."""
    cols = [("block", 5), ("SA", 7), ("margin", 8), ("score err", 9), ("broken", 6), ("escaped", 7), ("drift", 8)]
    head = " ".join(f"{name:>{w}}" for name, w in cols) + f" {'gain':>8}"
    lines = [head]
    for t in trace:
        dec = t.margin is not None
        m = f"{float(t.margin):8.2g}" if dec else ""
        e = f"{t.score_error:8.1e}" if dec else ""
        b = f"{t.broken:6d}" if dec else ""
        x = f"{t.escaped:7d}" if dec else ""
        lines.append(f"{t.block:5d} {t.kind:>7} {m:>8} {e:>9} {b:>6} {x:>7} {t.deviation:8.1e} {t.gain:8.1e}")
    return "\n".join(lines)
