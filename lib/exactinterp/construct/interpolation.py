"""Step 4, interpolation: bump FFs move each leader point onto its target, never touching the others.

After clustering every token sits on one of finitely many distinct leader points; a bump FF per
leader (or several per layer when the width allows) moves that point exactly onto the target of
its leader. The targets and the leader points are all "relevant" values: every bump's slab
isolates its own point from all of them.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConstructionError
from .build import Build, Step
from .bumps import bump_layers

__all__ = ["interpolation"]


def interpolation(b: Build) -> Step:
    """Bump FFs moving each leader point onto its target (Figure 8)."""
    moves = [(tuple(b.state.E[ld.row]), tuple(ld.target)) for ld in b.leaders]
    if len({z for z, _ in moves}) != len(moves):  # cannot happen by construction; guard anyway
        raise ConstructionError("not supported by this construction: two leaders share a point")
    relevant = np.array(list(dict.fromkeys([z for z, _ in moves] + [t for _, t in moves])), dtype=object)
    return b.add("interpolation", bump_layers(b, moves, relevant, phase="interpolation"))
