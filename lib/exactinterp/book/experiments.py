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

from ..construct.bounds import softmax_block_bound, summary_blocks_hardmax, summary_blocks_softmax
from ..construct.primitives import clustering_sa
from ..construct.softmax import build_softmax
from ..construct.temperature import choose_temperature, layer_gaps
from ..core.attention import SelfAttention
from ..core.dataset import Dataset
from ..core.numbers import ONE, QQ, Q, to_float_array
from ..core.scores import score_matrix
from ..core.softmax import temperature_bound
from ..core.transformer import Transformer
from ..verify.report import verify
from ..verify.temperature import lemma_bounds, measured_deviation
from .instances import random_attention_layer

__all__ = [
    "certify",
    "LemmaExperiment",
    "lemma_experiment",
    "clustering_sequence",
    "temperature_against_n",
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
        "ours": softmax_block_bound(ds.sum_m),
        "paper": summary_blocks_softmax(ds),
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


def clustering_sequence(rng: np.random.Generator, n: int, d: int = 2, t: int = 3) -> np.ndarray:
    """A leader t·1 followed by n - 1 random box tokens with coordinates in [1/2, 1) (denominator 64)."""
    rows = [[Q(t)] * d] + [[Q(int(v), 64) for v in rng.integers(32, 64, size=d)] for _ in range(n - 1)]
    return np.array(rows, dtype=object)


def temperature_against_n(ns: Sequence[int], delta: float, d: int = 2, t: int = 3, seed: int = 0) -> dict:
    """softmax chapter: τ_0(δ) of the clustering layer (Q = K = V = I) on sequences of growing length n.

    Also returns the lower model γ_lb / ln((n-1) diam / δ) with γ_lb = (t - 1) d / 2 (the gap bound
    of the box tokens, coordinates ≥ 1/2) and the float64 deviation at the chosen power-of-two τ.
    """
    rng = np.random.default_rng(seed)
    out: dict = {"n": [], "tau0": [], "tau": [], "model": [], "gamma": [], "deviation": []}
    sa1 = clustering_sa(d, 1)
    for n in ns:
        X = clustering_sequence(rng, n, d, t)
        g = layer_gaps(sa1, [X])
        tau0 = g.tau0(delta)
        tau = choose_temperature(tau0)
        Xf = to_float_array(X)
        dev = float(np.max(np.linalg.norm(clustering_sa(d, tau).forward_float(Xf) - Xf[0], axis=1)))
        out["n"].append(n)
        out["tau0"].append(tau0)
        out["tau"].append(tau)
        out["gamma"].append(g.gamma_min)
        out["model"].append(temperature_bound((t - 1) * d / 2, n, 1.0, g.diam, delta))
        out["deviation"].append(dev)
    return {k: (np.array(v) if k in ("n", "tau0", "model", "deviation") else v) for k, v in out.items()}


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
    """scaling chapter: blocks and parameters of a model next to the third-party summary's count."""
    return {
        "N": ds.N,
        "max n": max(ds.n),
        "sum m": ds.sum_m,
        "blocks": T.num_blocks,
        "paper L (hardmax)": summary_blocks_hardmax(ds),
        "nonzero params": T.num_parameters,
        "d sum m": ds.d * ds.sum_m,
    }


# ----------------------------------------------------------------------------- robustness chapter


def trace_table(trace: list) -> str:
    """Text table of a ``float_trace``: margin, score error, broken/escaped rows, drift, gain."""
    head = f"{'block':>5} {'SA':>7} {'margin':>8} {'eps':>8} {'broken':>6} {'escaped':>7} {'drift':>8} {'gain':>8}"
    lines = [head]
    for t in trace:
        dec = t.margin is not None
        m = f"{float(t.margin):8.2g}" if dec else ""
        e = f"{t.score_error:8.1e}" if dec else ""
        b = f"{t.broken:6d}" if dec else ""
        x = f"{t.escaped:7d}" if dec else ""
        lines.append(f"{t.block:5d} {t.kind:>7} {m:>8} {e:>8} {b:>6} {x:>7} {t.deviation:8.1e} {t.gain:8.1e}")
    return "\n".join(lines)
