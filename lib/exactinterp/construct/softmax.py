"""The softmax theorem as code (ours, after the paper's recipe): certified exact outputs, 2P + 3 blocks.

The hardmax steps with two changes: the clustering layer is softmax at a temperature **computed**
by the temperature lemma from the exact score gaps and a tolerance δ, so every token ends within δ
of its leader point (a rigorous ball); and ONE snap FF right after it lands every ball exactly on
its leader point again (:mod:`~exactinterp.construct.snap`). The separation block is all-tie
(Q = K = 0): every score is 0, so its softmax weights are uniform at any τ and it stays exact.
Layers without score decisions carry τ = 1 (:data:`TRIVIAL_TAU`): their weights do not depend on τ.

Blocks (P ≤ Σ_j m^j leader points, width 4): separation 1, box 1, leaders P (the last carries
the clustering SA), snap 1, interpolation P; total 2P + 3 ≤ 2Σm + 3, independent of N and of the
input lengths. With ``snap_to_targets`` (ours) the snap lands on the targets: P + 3 blocks.
"""

from __future__ import annotations

from typing import Any

from ..core.dataset import Dataset
from ..core.numbers import ONE, ZERO, to_q
from ..core.transformer import Transformer
from ..errors import ConstructionError
from .build import Build, start
from .clustering import clustering, pre_clustering_state
from .interpolation import interpolation
from .leaders import box, leader_selection
from .primitives import clustering_sa
from .separation import separation
from .snap import leader_snap_plan, snap, snap_onto_targets
from .temperature import choose_temperature, layer_gaps

__all__ = ["TRIVIAL_TAU", "build_softmax", "construct_softmax", "clustering_temperature"]

#: Temperature of the score-free layers (all-tie, identity): any τ > 0 gives the same layer.
TRIVIAL_TAU = ONE


def build_softmax(
    ds: Dataset,
    *,
    max_width: int | None = 4,
    delta: Any | None = None,
    snap_to_targets: bool = False,
    progress: bool = False,
) -> Build:
    """Run the steps of the softmax construction and keep every intermediate state.

    ``delta`` is the clustering tolerance (default: half the snap's smallest flat half-width).
    The snap FF's width is 4 × (number of coordinate values), whatever ``max_width`` is.
    """
    b = start(ds, max_width=max_width, filler_tau=TRIVIAL_TAU, progress=progress)
    separation(b)  # Step 1 (all-tie: exact at any τ)
    box(b)
    leader_selection(b)  # Step 2
    plan = leader_snap_plan(b)
    bmin = min(plan.b)
    delta = bmin / 2 if delta is None else to_q(delta)
    if not (ZERO < delta < bmin):
        raise ConstructionError(f"delta must lie in (0, {bmin}) (the snap's flat half-width)")
    b.info["softmax"] = clustering_temperature(b, delta)  # the temperature lemma
    clustering(b, b.info["softmax"]["tau"])  # Step 3, softmax: every token within δ of its leader point
    b.info["softmax"]["radius"] = float(b.state.R.max(initial=0.0))
    if snap_to_targets:
        snap_onto_targets(b)  # the snap lands on the targets: no interpolation step
    else:
        snap(b)  # the balls become exact leader points again
        interpolation(b)  # Step 4
    return b


def clustering_temperature(b: Build, delta: Any) -> dict:
    """τ for the clustering layer of ``b`` (after leader selection): the lemma's τ_0(δ), rounded to 2^-k.

    Returns what the choice used: γ_min, n, diam, δ, τ_0, τ and the snap's half-widths.
    """
    plan = leader_snap_plan(b)
    delta = to_q(delta)
    st = pre_clustering_state(b)
    gaps = layer_gaps(clustering_sa(b.d, TRIVIAL_TAU), [st.E[st.seq_slice(g[0])] for g in b.classes])
    gaps.n_max = max(b.ds.n)  # equal-distribution sequences share gaps; n enters the lemma
    tau0 = gaps.tau0(float(delta))
    tau = choose_temperature(tau0) if tau0 != float("inf") else TRIVIAL_TAU
    return {
        "gamma_min": gaps.gamma_min,
        "n_max": gaps.n_max,
        "diam": gaps.diam,
        "delta": delta,
        "tau0": tau0,
        "tau": tau,
        "snap_a": plan.a,
        "snap_b": plan.b,
        "snap_width": plan.width,
    }


def construct_softmax(ds: Dataset, **options: Any) -> Transformer:
    """The softmax transformer of the construction (options as :func:`build_softmax`)."""
    return build_softmax(ds, **options).transformer
