"""The temperature of a softmax layer, chosen by the temperature lemma from exact score gaps.

The lemma (stated in :mod:`exactinterp.core.softmax`) says that every token of a softmax layer is
within δ of its hardmax image once ``τ ≤ τ_0(δ) = γ / ln((n - 1) ‖V‖ diam / δ)``, with γ the
smallest exact score gap. Here the quantities are measured on the construction's own tokens and
τ is the largest power of two at or below τ_0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.attention import SelfAttention
from ..core.scores import score_gaps
from ..core.softmax import diameter_upper, operator_norm_upper, temperature_bound
from .primitives import power_of_two_below

__all__ = ["GapReport", "layer_gaps", "choose_temperature"]


@dataclass
class GapReport:
    """What the temperature lemma needs from one layer over a list of sequences."""

    gamma_min: Any  # smallest exact score gap (None if every row ties)
    n_max: int  # longest sequence
    diam: float  # upper bound of the largest Euclidean diameter (float, rounded up)
    vnorm: float  # upper bound of ‖V‖_2

    def tau0(self, delta: float) -> float:
        """τ_0(δ) of the lemma for this layer (inf if no score decision is needed)."""
        if self.gamma_min is None:
            return math.inf
        return temperature_bound(float(self.gamma_min), self.n_max, self.vnorm, self.diam, delta)


def layer_gaps(sa: SelfAttention, seqs: Sequence[np.ndarray]) -> GapReport:
    """Score gaps, longest length and largest diameter of ``sa`` over rational sequences."""
    gmin = None
    for X in seqs:
        for _, g in score_gaps(sa, X):
            if g is not None and (gmin is None or g < gmin):
                gmin = g
    return GapReport(
        gamma_min=gmin,
        n_max=max(len(X) for X in seqs),
        diam=max(diameter_upper(X) for X in seqs),
        vnorm=operator_norm_upper(sa.V),
    )


def choose_temperature(bound: float) -> Any:
    """A simple rational temperature at or below ``bound``: the largest power of two (exact)."""
    return power_of_two_below(bound * (1 - 1e-9))
