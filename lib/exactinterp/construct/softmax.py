"""The softmax construction (ours, after the paper's recipe): certified exact outputs with 2P + 3 blocks.

Steps (P ≤ Σ_j m^j leader points, ``max_width = 4``: one bump per FF):

1. separation: the hardmax all-tie block (Q = K = 0). Every score is 0, so softmax weights are
   uniform at any τ > 0 and the block is exact (1 block, omitted if not needed);
2. box: an affine FF (1 block);
3. leaders: one bump FF per leader; the last block's SA is the softmax clustering layer
   (Q = K = V = I, ρ = 0) at a temperature **computed** by the temperature lemma from the exact
   score gaps and a tolerance δ (:mod:`exactinterp.temperature`); every token ends within δ of
   its hardmax image, as a rigorous ball;
4. snap: ONE coordinate-wise quantising FF: for each value c of each coordinate of each leader
   point, 4 ReLUs making ``g = c`` on [c - b, c + b] and the identity off [c - a, c + a]
   (δ < b < a ≤ gap / 4). The balls lie in the flat parts, so every token becomes an exact
   rational again: the hardmax clustered configuration (1 block);
5. interpolation: the hardmax bump FFs, unchanged (P blocks).

Total 2P + 3 ≤ 2Σm^j + 3 blocks, independent of N and of the input lengths, never above the
paper's 2Σm^j + 3N. Layers without score decisions (all-tie, V = 0) carry τ = 1: their weights
do not depend on τ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dataset import Dataset
from ..layers import Block, FeedForward
from ..numbers import ONE, ZERO, to_q
from ..state import State
from ..transformer import Transformer
from .hardmax import Build, ConstructionError, box, interpolation, leader_selection, separation, start
from .primitives import (
    Neuron,
    clustering_sa,
    constant_neuron,
    ff_from_neurons,
    identity_sa,
    power_of_two_below,
    snap_neurons,
)

__all__ = [
    "build_softmax",
    "construct_softmax",
    "snap_plan",
    "SnapPlan",
    "block_bounds",
    "pre_clustering_state",
    "clustering_temperature",
    "certify",
    "target_snap_ff",
]

#: Temperature of the score-free layers (all-tie, identity): any τ > 0 gives the same layer.
TRIVIAL_TAU = ONE


class SnapPlan:
    """Per-axis coordinate values c with flat half-width b and support half-width a (δ < b < a)."""

    def __init__(self, values: list[list[Any]], a: list[Any], b: list[Any]) -> None:
        self.values, self.a, self.b = values, a, b

    @property
    def width(self) -> int:
        """Hidden width of the snap FF (4 ReLUs per coordinate value)."""
        return 4 * sum(len(v) for v in self.values)

    def ff(self, d: int):
        """The snap FF layer ``x + Σ (4-ReLU pieces)``."""
        neurons = []
        for k in range(d):
            for c in self.values[k]:
                neurons += snap_neurons(d, k, c, self.a[k], self.b[k])
        return ff_from_neurons(d, neurons)


def snap_plan(points: list[tuple]) -> SnapPlan:
    """Coordinate values of ``points`` on every axis; a_k = largest 2^-j ≤ gap_k / 4, b_k = a_k / 2."""
    d = len(points[0])
    values, a, b = [], [], []
    for k in range(d):
        vals = sorted({p[k] for p in points})
        gaps = [vals[i + 1] - vals[i] for i in range(len(vals) - 1)]
        ak = power_of_two_below(float(min(gaps)) / 4) if gaps else ONE
        while gaps and 4 * ak > min(gaps):
            ak = ak / 2
        values.append(vals)
        a.append(ak)
        b.append(ak / 2)
    return SnapPlan(values, a, b)


def block_bounds(ds: Dataset) -> tuple[int, int]:
    """(our target 2Σm + 3, the paper's softmax count 2Σm + 3N)."""
    return 2 * ds.sum_m + 3, 2 * ds.sum_m + 3 * ds.N


def _representatives(b: Build, st: State) -> list[np.ndarray]:
    return [st.E[st.seq_slice(group[0])] for group in b.classes]


def _softmax_clustering(b: Build, delta: Any | None) -> None:
    """Replace the hardmax clustering of the leader step by the softmax one (τ from the lemma)."""
    from ..temperature import layer_gaps

    d = b.d
    step = b.steps[-1]
    hard_state = step.state
    positions = {tuple(ld.position) for ld in b.leaders}
    got = {tuple(r) for r in hard_state.E}
    if got != positions:
        raise ConstructionError("not supported by this construction: hardmax clustering missed a leader point")
    plan = snap_plan(sorted(positions))
    bmin = min(plan.b)
    delta = bmin / 2 if delta is None else to_q(delta)
    if not (ZERO < delta < bmin):
        raise ConstructionError(f"delta must lie in (0, {bmin}) (the snap's flat half-width)")
    prev = b.steps[-2].state if len(b.steps) > 1 else State.from_sequences(list(b.ds.inputs))
    st = prev
    blocks = [Block(blk.ff, identity_sa(d, TRIVIAL_TAU)) for blk in step.blocks]
    for blk in blocks[:-1]:
        st = blk.apply(st)
    st = blocks[-1].ff.apply(st)  # tokens entering the clustering layer
    probe = clustering_sa(d, TRIVIAL_TAU)
    gaps = layer_gaps(probe, _representatives(b, st))
    gaps.n_max = max(b.ds.n)  # equal-distribution sequences share gaps; n enters the lemma
    tau0 = gaps.tau0(float(delta))
    from ..temperature import choose_temperature

    tau = choose_temperature(tau0) if np.isfinite(tau0) else TRIVIAL_TAU
    blocks[-1] = Block(blocks[-1].ff, clustering_sa(d, tau))
    st = blocks[-1].sa.apply(st)
    step.blocks, step.state, b.state = blocks, st, st
    radius = float(st.R.max(initial=0.0))
    b.info["softmax"] = {
        "gamma_min": gaps.gamma_min,
        "n_max": gaps.n_max,
        "diam": gaps.diam,
        "delta": delta,
        "tau0": tau0,
        "tau": tau,
        "radius": radius,
        "snap_a": plan.a,
        "snap_b": plan.b,
        "snap_width": plan.width,
        "_plan": plan,
        "_hard_state": hard_state,
    }


def _snap(b: Build) -> None:
    """One block: the quantising FF that lands every ball exactly on its hardmax position."""
    info = b.info["softmax"]
    plan: SnapPlan = info.pop("_plan")
    hard_state: State = info.pop("_hard_state")
    if not info["radius"] < float(min(plan.b)):
        raise ConstructionError("enclosure radius after clustering exceeds the snap's flat half-width")
    blk = Block(plan.ff(b.d), identity_sa(b.d, TRIVIAL_TAU))
    step = b.add("snap", [blk])
    E = step.state.E
    if not step.state.is_exact or any(
        not (E[i, k] == hard_state.E[i, k]) for i in range(len(E)) for k in range(b.d)
    ):  # pragma: no cover - guarded by the radius check
        raise ConstructionError("the snap did not land every token on its leader point")


def target_snap_ff(plan: SnapPlan, leaders: list, d: int) -> FeedForward:
    """ONE FF (η = 0) that snaps AND interpolates (ours): coordinate l becomes the continuous
    piecewise-linear map equal to the leader's target coordinate on [c - b_l, c + b_l] for every
    leader coordinate value c, linear in between (leader coordinates are distinct per axis)."""
    neurons: list[Neuron] = []
    first = []
    for k in range(d):
        to_target: dict = {}
        for ld in leaders:
            c, y = ld.position[k], ld.target[k]
            if to_target.setdefault(c, y) != y:
                raise ConstructionError("not supported by this construction: two leaders share a coordinate value")
        vals, bk = plan.values[k], plan.b[k]
        ys = [to_target[c] for c in vals]
        first.append(ys[0])
        e = tuple(ONE if i == k else ZERO for i in range(d))
        for r in range(len(vals) - 1):
            slope = (ys[r + 1] - ys[r]) / (vals[r + 1] - vals[r] - 2 * bk)
            if slope != 0:
                neurons.append(Neuron(e, -(vals[r] + bk), tuple(slope * v for v in e)))
                neurons.append(Neuron(e, -(vals[r + 1] - bk), tuple(-slope * v for v in e)))
    neurons.append(constant_neuron(first))
    return ff_from_neurons(d, neurons, eta=ZERO)


def _snap_to_targets(b: Build) -> None:
    """One block: the FF of :func:`target_snap_ff`; every token lands exactly on its target."""
    info = b.info["softmax"]
    plan: SnapPlan = info.pop("_plan")
    info.pop("_hard_state")
    if not info["radius"] < float(min(plan.b)):
        raise ConstructionError("enclosure radius after clustering exceeds the snap's flat half-width")
    ff = target_snap_ff(plan, b.leaders, b.d)
    info["snap_width"] = ff.width
    step = b.add("snap", [Block(ff, identity_sa(b.d, TRIVIAL_TAU))])
    if not step.state.is_exact:  # pragma: no cover - guarded by the radius check
        raise ConstructionError("the snap did not land every token on an exact point")


def pre_clustering_state(b: Build) -> State:
    """The exact (rational) tokens entering the clustering layer of a finished build."""
    i = [s.name for s in b.steps].index("leaders")
    st = b.steps[i - 1].state
    blocks = b.steps[i].blocks
    for blk in blocks[:-1]:
        st = blk.apply(st)
    return blocks[-1].ff.apply(st)


def clustering_temperature(b: Build, delta: Any) -> tuple[float, Any]:
    """(τ_0(δ), the chosen power of two) of the temperature lemma for this build's clustering layer."""
    from ..temperature import choose_temperature, layer_gaps

    gaps = layer_gaps(clustering_sa(b.d, TRIVIAL_TAU), _representatives(b, pre_clustering_state(b)))
    gaps.n_max = max(b.ds.n)
    tau0 = gaps.tau0(float(delta))
    return tau0, choose_temperature(tau0)


def build_softmax(
    ds: Dataset, *, max_width: int | None = 4, delta: Any | None = None, snap_to_targets: bool = False
) -> Build:
    """Run separation, box, leaders + softmax clustering, snap, interpolation; keep every state.

    ``delta`` is the clustering tolerance (default: half the snap's smallest flat half-width).
    The snap FF's width is 4 × (number of coordinate values), whatever ``max_width`` is.
    ``snap_to_targets`` (ours): the snap lands every cluster directly on its target and the
    interpolation step disappears: P + 3 blocks instead of 2P + 3.
    """
    b = start(ds, max_width=max_width, tau=TRIVIAL_TAU)
    separation(b)
    box(b)
    b.attention_tau = ZERO  # hardmax clustering first: the exact configuration the snap must reach
    leader_selection(b)
    b.attention_tau = TRIVIAL_TAU
    _softmax_clustering(b, delta)
    if snap_to_targets:
        _snap_to_targets(b)
    else:
        _snap(b)
        interpolation(b)
    return b


def certify(ds: Dataset, family: str = "") -> dict:
    """Build, verify (ball-certified) and measure one dataset: a row for the chapter's tables."""
    import time

    from ..verify import verify

    t0 = time.perf_counter()
    b = build_softmax(ds)
    t1 = time.perf_counter()
    rep = verify(b.transformer, ds)
    t2 = time.perf_counter()
    info = b.info["softmax"]
    ours, paper = block_bounds(ds)
    return {
        "family": family,
        "d": ds.d,
        "N": ds.N,
        "n_max": max(ds.n),
        "sum_m": ds.sum_m,
        "blocks": b.transformer.num_blocks,
        "ours": ours,
        "paper": paper,
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


def construct_softmax(
    ds: Dataset, *, max_width: int | None = 4, delta: Any | None = None, snap_to_targets: bool = False
) -> Transformer:
    """The softmax transformer of the construction (see :func:`build_softmax`)."""
    return build_softmax(ds, max_width=max_width, delta=delta, snap_to_targets=snap_to_targets).transformer
