"""Step 3, clustering: ONE attention layer (Q = K = V = I, ρ = 0) collapses every class onto its leaders.

After leader selection every non-leader token lies in the box (0, 1)^d, the class's first leader
at ``t·1`` beyond it, the extra leaders on the sphere ``|x| = R`` in the negative orthant. With
scores ``<x_i, x_k>``: a box token's best key is the corner-most point ``t·1`` (Lemma 4.2), a sphere
point's best key is itself (Lemma 4.3), and ``t·1``'s best key is itself. So every token lands on a
leader point and the sequence holds exactly its class's leader points. The layer shares a block
with the last leader-selection FF (see :class:`~exactinterp.construct.build.Build`).
"""

from __future__ import annotations

from typing import Any

from ..core.numbers import ZERO
from ..core.state import State
from .build import Build, Step
from .primitives import clustering_sa

__all__ = ["clustering", "pre_clustering_state"]


def clustering(b: Build, tau: Any = ZERO) -> Step:
    """Append the clustering layer at temperature ``tau`` (0: hardmax, exact; > 0: softmax, balls)."""
    return b.add("clustering", [clustering_sa(b.d, tau)])


def pre_clustering_state(b: Build) -> State:
    """The exact token state entering the clustering layer (Figure 7, right)."""
    return b.step("leaders").state
