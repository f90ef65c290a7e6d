"""Every block and parameter count in one place: ours (proved by the construction) and the third-party ones.

Ours, with P ≤ Σ_j m^j leader points and b = ⌊k / 4⌋ bumps per FF of width at most k (b = ∞ when
the width is unbounded), S ∈ {0, 1} separation blocks:

* hardmax: S + 1 (box) + ⌈P / b⌉ (leaders; the last one carries the clustering SA) + ⌈P / b⌉
  (interpolation) blocks, so at most 2Σm + 2 for k = 4 and at most 4 when k is unbounded;
* softmax: S + 1 + ⌈P / b⌉ + 1 (snap) + ⌈P / b⌉ blocks, at most 2Σm + 3; with the snap landing on
  the targets, S + 1 + ⌈P / b⌉ + 1 ≤ Σm + 3.

The counts ``2Σm + 2N + 1`` (hardmax) and ``2Σm + 3N`` (softmax) are *not* read in the paper: they
come from a third-party summary of it, and the book labels them so.
"""

from __future__ import annotations

import math

from ..core.dataset import Dataset
from .build import Build
from .bumps import bumps_per_layer

__all__ = [
    "hardmax_blocks",
    "softmax_blocks",
    "hardmax_block_bound",
    "softmax_block_bound",
    "summary_blocks_hardmax",
    "summary_blocks_softmax",
    "separation_features",
    "parameter_bound",
]


def _phase_blocks(P: int, max_width: int | None) -> int:
    """FF layers (hence blocks) of one phase of P bump moves."""
    return math.ceil(P / bumps_per_layer(max_width))


def hardmax_blocks(P: int, max_width: int | None = 4, separation: bool = True) -> int:
    """Blocks of our hardmax construction with P leader points."""
    return int(separation) + 1 + 2 * _phase_blocks(P, max_width)


def softmax_blocks(P: int, max_width: int | None = 4, separation: bool = True, snap_to_targets: bool = False) -> int:
    """Blocks of our softmax construction with P leader points."""
    return int(separation) + 2 + (1 if snap_to_targets else 2) * _phase_blocks(P, max_width)


def hardmax_block_bound(sum_m: int, max_width: int | None = 4) -> int:
    """Our hardmax bound (P ≤ Σm, one separation block): 2 + 2⌈Σm / b⌉, i.e. 2Σm + 2 for k = 4."""
    return hardmax_blocks(sum_m, max_width, separation=True)


def softmax_block_bound(sum_m: int, max_width: int | None = 4, snap_to_targets: bool = False) -> int:
    """Our softmax bound: 2Σm + 3 (Σm + 3 when the snap lands on the targets) for k = 4."""
    return softmax_blocks(sum_m, max_width, separation=True, snap_to_targets=snap_to_targets)


def summary_blocks_hardmax(ds: Dataset) -> int:
    """L = 2Σm + 2N + 1: the hardmax block count as reported by a third-party summary of the paper."""
    return 2 * ds.sum_m + 2 * ds.N + 1


def summary_blocks_softmax(ds: Dataset) -> int:
    """L = 2Σm + 3N: the softmax block count as reported by a third-party summary of the paper."""
    return 2 * ds.sum_m + 3 * ds.N


def separation_features(b: Build) -> int:
    """Number F of ReLU features of the all-tie separation block (0 if there is none)."""
    sep = b.info.get("separation")
    return int(sep.get("features", 0)) if isinstance(sep, dict) else 0


def parameter_bound(b: Build) -> int:
    """Our bound on nonzero parameters of a hardmax build: (16d + 12) Σm + (2d + 1) F + 5d + 4.

    Per leader point: two bumps of 4 neurons (U: 4d, b: 4, W: 4d) plus eta and rho of their two
    blocks; F separation features (2d + 1 each, F ≤ N - 1); box, clustering and the separation's
    constants 5d + 4.
    """
    d, sm = b.d, b.ds.sum_m
    return (16 * d + 12) * sm + (2 * d + 1) * separation_features(b) + 5 * d + 4
