"""Moving finitely many points exactly with bump feed-forward layers (used by leaders and interpolation).

A *bump* along a direction u around a point z adds ``delta * phi(<u, x - z>)`` to every token, with
phi the trapezoid of :func:`~exactinterp.construct.primitives.bump_neurons` (4 ReLUs, phi = 1 on
|t| ≤ eps/2, 0 for |t| ≥ eps). It moves the value z by exactly ``delta`` and leaves every value
with ``|<u, x - z>| ≥ eps`` untouched. Each bump gets its own direction, chosen to maximise the gap
around z, and its own half-width eps (a power of two ≤ a third of that gap); an exact check
confirms that no other relevant value lies in its slab.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm import tqdm

from ..core.feedforward import FeedForward
from ..core.numbers import ONE, ZERO, denominator, exact_dot, numerator, row_key, to_float_array, to_q
from ..errors import ConstructionError
from .build import Build
from .primitives import best_direction, bump_neurons, direction_candidates, ff_from_neurons, power_of_two_below

__all__ = ["BUMP_WIDTH", "bumps_per_layer", "bump_layers", "choose_direction", "power_of_two_below_exact"]

#: ReLU units per bump (a trapezoid: flat top of half-width eps / 2, zero beyond eps).
BUMP_WIDTH = 4


def bumps_per_layer(max_width: int | None) -> int:
    """How many bumps fit in one FF layer of hidden width at most ``max_width`` (None: unbounded)."""
    if max_width is None:
        return 10**9
    if max_width < BUMP_WIDTH:
        raise ConstructionError(
            f"not supported by this construction: max_width must be >= {BUMP_WIDTH} (a bump has {BUMP_WIDTH} neurons)"
        )
    return max_width // BUMP_WIDTH


def choose_direction(vals_f: np.ndarray, d: int, seed: int) -> tuple[tuple, float]:
    """Direction u maximising the smallest projection gap of ``vals_f`` (distinct values, float64).

    Small-integer candidates first; if every one of them maps two values to the same projection
    (lattice-like data), moment curves (1, a, a^2, ...) with growing a, which are injective on any
    finite set once a is large enough. Raises ConstructionError if float64 cannot separate them.
    """
    u, gap = best_direction(vals_f, direction_candidates(d, seed=seed))
    k = 2
    while not gap > 0 and k < 40:
        a = 2**k + 1
        u, gap = best_direction(vals_f, [tuple(to_q(s * a) ** i for i in range(d)) for s in (1, -1)])
        k += 2
    if not gap > 0:
        raise ConstructionError("not supported by this construction: two values have equal projections in float64")
    return u, gap


def bump_layers(b: Build, moves: list[tuple[tuple, tuple]], relevant: np.ndarray) -> list[FeedForward]:
    """FF layers performing ``moves`` (value z -> destination), ``bumps_per_layer`` bumps per layer.

    ``relevant`` (exact rows) holds every value that exists at any time during the phase (the
    current values and all destinations). Bumps of one FF sum up: their slabs are disjoint (each
    is empty of the other centres).
    """
    per = bumps_per_layer(b.max_width)
    cands = direction_candidates(b.d, count=16, seed=7)
    C = to_float_array(np.array(cands, dtype=object))  # (k, d)
    P = to_float_array(relevant) @ C.T  # (R, k) projections of the relevant values
    order = np.argsort(P, axis=0, kind="stable")
    S = np.take_along_axis(P, order, axis=0)  # each column sorted
    norms = np.linalg.norm(C, axis=1)
    if b.progress:
        moves = tqdm(moves, desc=f"construct ({b.steps[-1].name} done)", unit="move", leave=False)
    bumps = [_one_bump(cands, C, norms, P, (S, order), z, dest, relevant) for z, dest in moves]
    return [ff_from_neurons(b.d, [n for grp in bumps[g0 : g0 + per] for n in grp]) for g0 in range(0, len(bumps), per)]


def _one_bump(cands, C, norms, P, sorted_P, z: tuple, dest: tuple, relevant: np.ndarray) -> list:
    """The neurons of one bump moving z to ``dest``: the best isolating direction, then its slab.

    ``sorted_P``: each column of P sorted, and the argsort giving it.
    """
    S, rank = sorted_P
    t = to_float_array(np.array(z, dtype=object)) @ C.T
    gaps = np.empty(len(cands))
    active = np.empty(len(cands), dtype=int)  # values on the side where all 4 neurons fire
    flip = np.zeros(len(cands), dtype=bool)
    for c in range(len(cands)):
        col = S[:, c]
        lo = np.searchsorted(col, t[c], "left")
        hi = np.searchsorted(col, t[c], "right")
        left = t[c] - col[lo - 1] if lo > 0 else np.inf
        right = col[hi] - t[c] if hi < len(col) else np.inf
        gaps[c] = min(left, right)
        # -u gives the same bump with the neurons firing on the other side; on the firing side
        # the four ReLUs cancel exactly in rationals but not in floats, so keep it small
        flip[c] = lo < len(col) - hi
        active[c] = min(lo, len(col) - hi)
    score = gaps / norms
    good = score >= 0.5 * np.max(score[np.isfinite(score)], initial=0.0)
    order = sorted(range(len(cands)), key=lambda c: (not good[c], active[c] if good[c] else -score[c]))
    delta = [p - q for p, q in zip(dest, z, strict=True)]
    for c in order:
        gap = gaps[c] if np.isfinite(gaps[c]) else 1.0 + abs(t[c])
        if not gap > 0:
            continue
        eps = power_of_two_below(gap / 3)
        if _isolated(cands[c], z, eps, relevant, P[:, c], t[c], (S[:, c], rank[:, c])):
            u = tuple(-v for v in cands[c]) if flip[c] else cands[c]
            return bump_neurons(u, z, eps, delta, plateau=eps / 2)
    # float64 cannot resolve the gap (values far below the rounding of their magnitude)
    u, eps = _exact_gap_direction(cands, z, relevant)
    return bump_neurons(u, z, eps, delta, plateau=eps / 2)


def _exact_gap_direction(cands: list[tuple], z: tuple, relevant: np.ndarray) -> tuple[tuple, Any]:
    """Exact fallback: the candidate with the largest exact gap around <u, z>, and eps <= gap / 3."""
    zk = tuple(z)
    others = {row_key(x): x for x in relevant if tuple(x) != zk}.values()
    best = None
    for u in cands:
        uz = exact_dot(u, z)
        gap = min((abs(exact_dot(u, x) - uz) for x in others), default=ONE)
        norm1 = sum((abs(v) for v in u), ZERO)
        if gap > 0 and (best is None or gap * best[2] > best[1] * norm1):
            best = (u, gap, norm1)
    if best is None:
        raise ConstructionError("not supported by this construction: no direction isolates a moved value")
    return best[0], power_of_two_below_exact(best[1] / 3)


def power_of_two_below_exact(q: Any) -> Any:
    """Largest 2^k <= q for a positive rational q, in exact arithmetic."""
    k = numerator(q).bit_length() - denominator(q).bit_length()
    p = to_q(2) ** k if k >= 0 else ONE / to_q(2) ** (-k)
    while p > q:
        p = p / 2
    while 2 * p <= q:
        p = 2 * p
    return p


def _isolated(
    u: tuple, z: tuple, eps: Any, relevant: np.ndarray, proj_f: np.ndarray, tz: float, sorted_proj: tuple
) -> bool:
    """Exact check: every relevant value x != z has |<u, x - z>| >= eps (float filter, exact confirm).

    ``sorted_proj`` (``proj_f`` sorted, and the argsort) finds the filter's rows without a pass over all.
    """
    uz = exact_dot(u, z)
    slack = 2 * float(eps) + 1e-9 * (1.0 + abs(tz))
    zk = tuple(z)
    vals, order = sorted_proj
    wide = slack * (1 + 2**-20) + 1e-300  # a window holding every row the filter below keeps
    near = np.sort(order[np.searchsorted(vals, tz - wide, "left") : np.searchsorted(vals, tz + wide, "right")])
    for i in near[np.abs(proj_f[near] - tz) < slack]:
        x = tuple(relevant[i])
        if x != zk and abs(exact_dot(u, x) - uz) < eps:
            return False
    return True
