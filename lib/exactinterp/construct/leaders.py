"""Step 2, leader selection: every leader value moves to its own point of the clustered configuration.

First the *box* block maps every token into [1/4, 3/4]^d (an affine FF). Then bump FFs move each
class's first leader (its token x_1) to a point ``t_c·1`` of the diagonal beyond the box, and
every other leader (a token value whose target differs from the first one's) to its own rational
point of the sphere ``|x| = R`` in the open negative orthant. The clustering layer that follows
(:mod:`~exactinterp.construct.clustering`) then collapses every non-leader token onto its class's
first leader (Lemma 4.2) and keeps the sphere points fixed (Lemma 4.3).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..core.numbers import ONE, row_key, to_q
from .build import Build, Leader, Step
from .bumps import bump_layers
from .primitives import affine_ff, power_of_two_below, rational_sphere_point

__all__ = [
    "box",
    "plan_leaders",
    "sphere_points",
    "leader_selection",
    "diagonal_start",
    "diagonal_levels",
    "sphere_radius",
    "DIAGONAL_SPAN",
    "SPHERE_CAP",
]


def box(b: Build) -> Step:
    """One affine FF mapping every token into [1/4, 3/4]^d inside the box (0, 1)^d: ``x -> eta x + t 1``.

    eta = 2^k is the largest power of two with eta (hi - lo) <= 1/2 (k may be positive: small data
    are stretched), so the map does not depend on the data's units beyond a power of two, and the
    later bump widths (and with them the float behaviour) are scale-invariant.
    """
    flat = b.state.E.ravel()
    lo, hi = min(flat), max(flat)
    span = hi - lo
    eta = power_of_two_below(0.5 / float(span)) if span > 0 else ONE
    while eta * span > ONE / 2:
        eta = eta / 2
    while span > 0 and 2 * eta * span <= ONE / 2:
        eta = 2 * eta
    t = ONE / 4 - eta * lo
    b.info["box"] = {"eta": eta, "shift": t, "lo": lo, "hi": hi}
    return b.add("box", [affine_ff(b.d, eta, [t] * b.d)])


def plan_leaders(b: Build) -> list[Leader]:
    """First leader of each class (its first token), plus one leader per other value whose target differs."""
    leaders = []
    for c, group in enumerate(b.classes):
        j = group[0]
        X = b.ds.inputs[j]
        keys = [row_key(x) for x in X]
        vm = dict(zip(keys, map(tuple, b.ds.targets(j)), strict=True))  # token value -> target value
        start = b.state.seq_slice(j).start
        first_tgt = vm[keys[0]]
        leaders.append(Leader(c, start, first_tgt, True))
        seen = {keys[0]}
        for i, k in enumerate(keys):
            if k in seen:
                continue
            seen.add(k)
            if vm[k] != first_tgt:
                leaders.append(Leader(c, start + i, vm[k], False))
    return leaders


def diagonal_start(d: int) -> int:
    """The first diagonal level t: ⌊√d⌋ + 2 > √d, so t·1 lies beyond the box."""
    return math.isqrt(d) + 2


def sphere_radius(d: int) -> Any:
    """The radius R = 2(⌊√d⌋ + 1) of the sphere that holds the extra leaders."""
    return to_q(2 * (math.isqrt(d) + 1))


def sphere_points(d: int, count: int, R: Any, avoid: set, cap: int = 1) -> list[tuple]:
    """Distinct rational points of the sphere |x| = R in the open negative orthant.

    Inverse stereographic projection of r = -c w (w = (1, 2, ..., d-1), 0 < c < 1/|w|), with
    c = k / (cap D W), W = ceil(|w|): spread over the arc (``cap = 1``) or over the cap
    |r| < 1/cap around the pole -R e_d (``cap = 8``: the construction's choice, see
    :func:`leader_selection`). Every coordinate is strictly monotone in c on (0, 1/|w|), so the
    points have pairwise distinct coordinates on every axis. Points in ``avoid`` are skipped (D
    grows until enough remain).
    """
    w = [to_q(i + 1) for i in range(d - 1)]
    w2 = int(sum((x * x for x in w), to_q(0)))
    W = math.isqrt(w2)
    W += W * W < w2
    D = count + 1
    while True:
        pts = [rational_sphere_point([-(to_q(k) / (cap * D * W)) * x for x in w], R) for k in range(1, D)]
        pts = [p for p in pts if p not in avoid]
        if len(pts) >= count:
            return pts[:count]
        D += 1


#: The first leaders' levels t_c fill at most [t_0, t_0 + DIAGONAL_SPAN): spacing 1 for a few classes,
#: a power of two below for many (keeps every destination, hence every move, of bounded size).
DIAGONAL_SPAN = 8
#: Extra leaders lie in the cap |r| < 1/SPHERE_CAP of the stereographic chart around -R e_d.
SPHERE_CAP = 8


def diagonal_levels(d: int, count: int, avoid: set) -> list[Any]:
    """``count`` levels t ≥ ⌊√d⌋ + 2 (step 1, or 2^-k when count > DIAGONAL_SPAN) with t·1 not in ``avoid``."""
    h = ONE
    while count * h > DIAGONAL_SPAN:
        h = h / 2
    out: list[Any] = []
    t = to_q(diagonal_start(d))
    while len(out) < count:
        if tuple([t] * d) not in avoid:
            out.append(t)
        t = t + h
    return out


def leader_selection(b: Build) -> Step:
    """Bump FFs moving each first leader to t_c·1 (t_c ≥ ⌊√d⌋ + 2) and each extra leader onto S_R ∩ R^d_<0.

    The levels t_c lie in [t_0, t_0 + 8) and the sphere points in a cap around -R e_d (ours): every
    destination then lies beyond every box value along a direction v with positive entries but a
    negative last one, so the moves can be planned as a float64-safe sweep (:mod:`.bumps`).
    """
    d = b.d
    leaders = plan_leaders(b)
    b.leaders = leaders
    targets = {ld.target for ld in leaders}
    firsts = [ld for ld in leaders if ld.first]
    t_vals = diagonal_levels(d, len(firsts), targets)
    R = sphere_radius(d)
    extras = [ld for ld in leaders if not ld.first]
    for ld, tv in zip(firsts, t_vals, strict=True):
        ld.position = tuple([tv] * d)
    for ld, p in zip(extras, sphere_points(d, len(extras), R, targets, cap=SPHERE_CAP), strict=True):
        ld.position = p
    b.info["leaders"] = {"count": len(leaders), "t": t_vals, "R": R}
    moves = [(tuple(b.state.E[ld.row]), ld.position) for ld in leaders]
    relevant = np.concatenate([b.values()[0], np.array([p for _, p in moves], dtype=object)])
    return b.add("leaders", bump_layers(b, moves, relevant, phase="leaders"))
