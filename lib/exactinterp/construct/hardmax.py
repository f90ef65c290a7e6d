"""The hardmax theorem as code: its steps, called in the order of the proof.

The construction (ours, after the paper's four steps) of a hardmax transformer that exactly
interpolates any valid dataset, with ``2 + 2⌈P / ⌊k/4⌋⌉`` blocks for P ≤ Σ_j m^j leader points and
FF width at most k (:mod:`~exactinterp.construct.bounds`). Every step keeps its exact state, so the
chapters can show each one; the same dataset gives the same model everywhere.
"""

from __future__ import annotations

from ..core.dataset import Dataset
from ..core.transformer import Transformer
from .build import Build, start
from .clustering import clustering
from .interpolation import interpolation
from .leaders import box, leader_selection
from .separation import rank_one_separation, separation

__all__ = ["build_hardmax", "construct_hardmax", "SEPARATIONS"]

#: The two separation steps: ours (one all-tie block) and rank-one blocks reconstructed from the paper's Figure 6.
SEPARATIONS = {"all-tie": separation, "rank-one": rank_one_separation}


def build_hardmax(
    ds: Dataset,
    *,
    max_width: int | None = 4,
    separation_kind: str = "all-tie",
    progress: bool = False,
    sweep: bool = True,
) -> Build:
    """Run the steps of the hardmax construction and keep every intermediate state.

    ``sweep=False`` plans every bump on its own (the float64-unsafe plan, for the chapters' comparison).
    """
    if separation_kind not in SEPARATIONS:
        raise ValueError(f"unknown separation_kind {separation_kind!r}: choose one of {', '.join(SEPARATIONS)}")
    b = start(ds, max_width=max_width, progress=progress, sweep=sweep)
    SEPARATIONS[separation_kind](b)  # Step 1: no token value is shared by two classes
    box(b)  # every token into [1/4, 3/4]^d
    leader_selection(b)  # Step 2: leaders to t·1 and to sphere points (bump FFs)
    clustering(b)  # Step 3: one SA collapses each class onto its leader points (Lemmas 4.2, 4.3)
    interpolation(b)  # Step 4: each leader point onto its target (bump FFs)
    return b


def construct_hardmax(ds: Dataset, *, max_width: int | None = 4, progress: bool = False) -> Transformer:
    """The hardmax transformer of the construction (see :func:`build_hardmax`)."""
    return build_hardmax(ds, max_width=max_width, progress=progress).transformer
