"""Moving finitely many points exactly with bump feed-forward layers (used by leaders and interpolation).

A *bump* along a direction u around a point z adds ``delta * phi(<u, x> - c)`` to every token, with
phi the trapezoid of :func:`~exactinterp.construct.primitives.bump_neurons` (4 ReLUs, phi = 1 on
|t| ≤ 9 eps/16, 0 for |t| ≥ eps) and c a dyadic rational within eps/32 of ``<u, z>``. It moves the
value z by exactly ``delta`` and leaves every value with ``|<u, x - z>| ≥ eps`` untouched; an exact
check confirms that no other relevant value lies in its slab.

**Float64 fidelity (ours).** In exact arithmetic a bump does nothing on either side of its slab.
In floats it does nothing on the *quiet* side (t ≤ -eps: all four ReLUs are exactly 0), but on the
*firing* side (t ≥ eps) its four ReLUs are active and cancel only up to rounding: a token at
distance t from the centre gets an error of order ``2^-53 |delta| t / eps``, the slope
``|delta| / eps`` times the rounding of t. With slabs as thin as the data's gaps (1e-9 of the data's
span is common in real data) one such bump can move a token farther than later slabs are wide, and
a deep narrow model then misses its later moves entirely. So the narrow phases are planned as a
**sweep** (:func:`sweep_plan`): one direction v such that every destination lies beyond every moved
value along v, the moves in the order of ``<v, z>``, and every bump firing towards the values already
passed. Then every value that still matters (values still to move, and destinations already
reached) is on the quiet side of every bump and is carried *bit for bit* by the float forward; only
values that never move again drift, by at most the fraction ``drift_budget`` of their distance to
the sweep's front, so they cannot reach a later slab while that budget is below 1/2. The dyadic
centre makes the biases exact in float64, so a moved value lands within ``2^-52 |delta|`` of its
destination. When no such direction exists (or several bumps share one layer), each bump gets its
own direction and orientation, chosen for its gap and for few values on its firing side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from ..core.feedforward import FeedForward
from ..core.numbers import ONE, ZERO, denominator, exact_dot, numerator, row_key, to_float_array, to_q
from ..errors import ConstructionError
from .build import Build
from .primitives import (
    best_direction,
    bump_neurons,
    direction_candidates,
    dyadic_centre,
    ff_from_neurons,
    power_of_two_below,
)

__all__ = [
    "BUMP_WIDTH",
    "ROUNDING",
    "Sweep",
    "bumps_per_layer",
    "bump_layers",
    "choose_direction",
    "power_of_two_below_exact",
    "sweep_plan",
    "sweep_candidates",
]

#: ReLU units per bump (a trapezoid: flat top of half-width eps / 2, zero beyond eps).
BUMP_WIDTH = 4

#: Error of one firing-side bump evaluation, in units of ``2^-53 |delta| t / eps`` (four products,
#: four additions and the pre-activations, each rounded once; a generous constant).
ROUNDING = 32 * 2.0**-53


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


# ----------------------------------------------------------------------------- the sweep


@dataclass
class Sweep:
    """A sweep of one narrow phase: direction v, the order of the moves, the drift budget.

    Every bump k uses ``u = -v`` when ``up`` (values below z fire) and ``u = v`` otherwise; the
    moves are sorted so that the values still to move and every destination lie on the quiet side.
    ``drift_budget`` bounds (by the rounding model :data:`ROUNDING`) how far a value that never moves
    again can drift, relative to its distance from the sweep's front.
    """

    v: tuple
    order: list[int]
    up: bool
    gaps: np.ndarray  # float gap around each moved value along v (in the order of the moves)
    drift_budget: float


def sweep_candidates(d: int, count: int = 32, seed: int = 11) -> list[tuple]:
    """Directions to try for a sweep, seeded: positive moment curves and vectors (the diagonal of the
    positive orthant lies beyond the box along them), vectors positive but for a last entry
    ``-f Σ_{i<d} v_i`` (the diagonal *and* a cap of the sphere around ``-R e_d`` lie beyond), any vectors.
    """
    out = [tuple(to_q(a) ** k for k in range(d)) for a in (2, 3, 5)]
    rng = np.random.default_rng(seed)
    while len(out) < count:
        # entries up to 2^16: exact ties between projections of distinct data values are then rare
        v = rng.integers(1, 2**16, size=d)
        kind = len(out) % 4
        if kind and d > 1:  # f in (0.45, 0.78): a window the leader geometry leaves open
            v[-1] = -round(int(v[:-1].sum()) * rng.uniform(0.45, 0.78))
        elif len(out) % 8 == 0:
            v = rng.integers(-(2**16), 2**16, size=d)
        if np.any(v != 0):
            out.append(tuple(to_q(int(x)) for x in v))
    return out


def sweep_plan(
    movers: np.ndarray, dests: np.ndarray, relevant: np.ndarray, candidates: list[tuple] | None = None
) -> Sweep | None:
    """The best sweep of moves ``movers[k] -> dests[k]`` over the static set ``relevant``, or None.

    A candidate v (or -v) qualifies if every destination's projection exceeds every moved value's
    (float64 test with a relative margin; the exact slab checks come later) and every moved value
    has a positive float gap; among those, the one with the smallest drift budget wins.
    """
    if len(movers) == 0:
        return None
    d = movers.shape[1]
    cands = candidates if candidates is not None else sweep_candidates(d)
    Mf, Df, Rf = (to_float_array(a) for a in (movers, dests, relevant))
    step = np.abs(to_float_array(np.array(dests, dtype=object)) - Mf).max(axis=1)
    best: Sweep | None = None
    for v in cands:
        vf = to_float_array(np.array(v, dtype=object))
        for sign in (1.0, -1.0):
            pm, pd = sign * (Mf @ vf), sign * (Df @ vf)
            scale = float(np.abs(Rf @ vf).max(initial=0.0)) + 1e-300
            if not pd.min() - pm.max() > 1e-9 * scale:
                continue
            pr = np.sort(sign * (Rf @ vf))
            gaps = _gaps_around(pr, pm)
            if not np.all(gaps > 1e-12 * scale):
                continue
            order = np.argsort(pm, kind="stable")
            # a bump of half-width eps >= gap / 6 moves a firing-side value at distance t (along v) by
            # at most ROUNDING |delta|_inf t / eps per coordinate, i.e. <v, .> by |v|_1 times that
            budget = float(ROUNDING * np.abs(vf).sum() * np.sum(6 * step / gaps))
            if best is None or budget < best.drift_budget:
                vv = tuple(v) if sign > 0 else tuple(-x for x in v)
                best = Sweep(vv, [int(i) for i in order], True, gaps[order], budget)
    return best


def _gaps_around(sorted_proj: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Float distance from each of ``points`` to the nearest *other* value of ``sorted_proj`` (which holds them)."""
    lo = np.searchsorted(sorted_proj, points, "left")
    hi = np.searchsorted(sorted_proj, points, "right")
    left = np.where(lo > 0, points - sorted_proj[np.maximum(lo - 1, 0)], np.inf)
    right = np.where(hi < len(sorted_proj), sorted_proj[np.minimum(hi, len(sorted_proj) - 1)] - points, np.inf)
    g = np.minimum(left, right)
    g = np.where(np.isfinite(g), g, 1.0 + np.abs(points))
    return np.where(hi - lo > 1, 0.0, g)  # another value with the same float projection: no gap


def _sweep_bumps(b: Build, moves: list[tuple[tuple, tuple]], relevant: np.ndarray, sw: Sweep) -> list[list] | None:
    """The neurons of each move of a sweep (in sweep order): u = -v, eps from the gap, dyadic centre.

    None if an exact check finds a value the float gaps missed (the caller falls back).
    """
    u = tuple(-x for x in sw.v)
    uf = to_float_array(np.array(u, dtype=object))
    P = to_float_array(relevant) @ uf
    rank = np.argsort(P, kind="stable")
    sorted_P = (P[rank], rank)  # one direction for the whole sweep: sorted once
    out = []
    it = zip(sw.order, sw.gaps, strict=True)
    if b.progress:
        it = tqdm(list(it), desc=f"construct ({b.steps[-1].name} done)", unit="move", leave=False)
    for k, gap in it:
        z, dest = moves[k]
        tz = float(to_float_array(np.array(z, dtype=object)) @ uf)
        eps = power_of_two_below(gap / 3)
        for _ in range(8):  # float64 misjudged a gap by a little: halve until the exact check passes
            if _isolated(u, z, eps, relevant, P, tz, sorted_P):
                break
            eps = eps / 2
        else:  # an exact tie the float gaps missed: the sweep cannot isolate this value
            return None
        out.append(_bump(u, z, dest, eps))
    return out


def _bump(u: tuple, z: tuple, dest: tuple, eps: Any) -> list:
    """Neurons of the trapezoid moving z to dest along u: half-width eps, a dyadic centre c.

    c lies within eps/32 of <u, z> and the plateau has half-width 9 eps/16 around c, so the
    plateau holds every x with |<u, x - z>| <= eps/2 (the robustness clause of the chapters)
    and every bias is a multiple of eps/16.
    """
    delta = [p - q for p, q in zip(dest, z, strict=True)]
    return bump_neurons(u, z, eps, delta, plateau=9 * eps / 16, centre=dyadic_centre(exact_dot(u, z), eps))


# ----------------------------------------------------------------------------- the layers


def bump_layers(
    b: Build, moves: list[tuple[tuple, tuple]], relevant: np.ndarray, *, phase: str = ""
) -> list[FeedForward]:
    """FF layers performing ``moves`` (value z -> destination), ``bumps_per_layer`` bumps per layer.

    ``relevant`` (exact rows) holds every value that exists at any time during the phase (the
    current values and all destinations). Bumps of one FF sum up: their slabs are disjoint (each
    is empty of the other centres). With one bump per layer the moves are planned as a sweep
    (:func:`sweep_plan`) when one exists; ``b.info[phase]`` records the plan.
    """
    per = bumps_per_layer(b.max_width)
    sw = None
    if per == 1 and moves and b.sweep:
        movers = np.array([z for z, _ in moves], dtype=object)
        dests = np.array([p for _, p in moves], dtype=object)
        sw = sweep_plan(movers, dests, relevant)
    bumps = _sweep_bumps(b, moves, relevant, sw) if sw is not None else None
    if bumps is None:
        sw, bumps = None, _free_bumps(b, moves, relevant)
    if phase:
        b.info.setdefault(phase, {})["sweep"] = None if sw is None else {"v": sw.v, "drift_budget": sw.drift_budget}
    return [ff_from_neurons(b.d, [n for grp in bumps[g0 : g0 + per] for n in grp]) for g0 in range(0, len(bumps), per)]


def _free_bumps(b: Build, moves: list[tuple[tuple, tuple]], relevant: np.ndarray) -> list[list]:
    """One direction per bump (no sweep): the best isolating candidate, firing towards few values."""
    cands = direction_candidates(b.d, count=16, seed=7)
    C = to_float_array(np.array(cands, dtype=object))  # (k, d)
    P = to_float_array(relevant) @ C.T  # (R, k) projections of the relevant values
    rank = np.argsort(P, axis=0, kind="stable")
    S = np.take_along_axis(P, rank, axis=0)  # each column sorted
    norms = np.linalg.norm(C, axis=1)
    stats = _candidate_stats(S, [to_float_array(np.array(z, dtype=object)) @ C.T for z, _ in moves])
    jobs = zip(moves, *stats, strict=True)
    if b.progress:
        jobs = tqdm(jobs, total=len(moves), desc=f"construct ({b.steps[-1].name} done)", unit="move", leave=False)
    return [_one_bump(cands, norms, P, (S, rank), z, dest, relevant, st) for (z, dest), *st in jobs]


def _candidate_stats(S: np.ndarray, ts: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """For every move (row) and candidate direction (column): the moved value's projection t, the float gap
    around it among the sorted projections ``S``, the error weight of the values on the side where all four
    neurons fire, and whether to flip u (fire towards the other side)."""
    n, k = S.shape
    T = np.array(ts).reshape(len(ts), k)
    cs = np.vstack([np.zeros(k), np.cumsum(S, axis=0)])  # prefix sums of the sorted columns
    lo = np.stack([np.searchsorted(S[:, c], T[:, c], "left") for c in range(k)], axis=1).reshape(T.shape)
    hi = np.stack([np.searchsorted(S[:, c], T[:, c], "right") for c in range(k)], axis=1).reshape(T.shape)
    cols = np.arange(k)[None, :]
    with np.errstate(invalid="ignore"):
        left = np.where(lo > 0, T - S[np.maximum(lo - 1, 0), cols], np.inf)
        right = np.where(hi < n, S[np.minimum(hi, n - 1), cols] - T, np.inf)
    # -u gives the same bump with the neurons firing on the other side; on the firing side the four
    # ReLUs cancel exactly in rationals but not in floats (an error growing with the distance from z):
    # fire towards the side whose values are fewer and closer
    below = T * lo - cs[lo, cols]
    above = cs[n][None, :] - cs[hi, cols] - T * (n - hi)
    return T, np.minimum(left, right), np.minimum(below, above), below < above


def _one_bump(cands, norms, P, sorted_P: tuple, z: tuple, dest: tuple, relevant: np.ndarray, stats: list) -> list:
    """The neurons of one bump moving z to ``dest``: the best isolating direction, then its slab.

    ``sorted_P``: each column of P sorted, and the argsort giving it; ``stats``: this move's row of
    :func:`_candidate_stats`.
    """
    S, rank = sorted_P
    t, gaps, active, flip = stats
    score = gaps / norms
    good = score >= 0.5 * np.max(score[np.isfinite(score)], initial=0.0)
    order = sorted(range(len(cands)), key=lambda c: (not good[c], active[c] / gaps[c] if good[c] else -score[c]))
    for c in order:
        gap = gaps[c] if np.isfinite(gaps[c]) else 1.0 + abs(t[c])
        if not gap > 0:
            continue
        eps = power_of_two_below(gap / 3)
        if _isolated(cands[c], z, eps, relevant, P[:, c], t[c], (S[:, c], rank[:, c])):
            u = tuple(-v for v in cands[c]) if flip[c] else cands[c]
            return _bump(u, z, dest, eps)
    # float64 cannot resolve the gap (values far below the rounding of their magnitude)
    u, eps = _exact_gap_direction(cands, z, relevant)
    return _bump(u, z, dest, eps)


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
    u: tuple,
    z: tuple,
    eps: Any,
    relevant: np.ndarray,
    proj_f: np.ndarray,
    tz: float,
    sorted_proj: tuple,
) -> bool:
    """Exact check: every relevant value x != z has |<u, x - z>| >= 2 eps (float filter, exact confirm).

    The slab of half-width eps around the dyadic centre (within eps/32 of <u, z>) then holds z
    alone, with a margin of almost eps on the quiet side for the float forward's rounding.
    ``sorted_proj`` (``proj_f`` sorted, and the argsort) finds the filter's rows without a pass over all.
    """
    uz = exact_dot(u, z)
    need = 2 * eps
    slack = 4 * float(eps) + 1e-9 * (1.0 + abs(tz))
    zk = tuple(z)
    vals, order = sorted_proj
    wide = slack * (1 + 2**-20) + 1e-300  # a window holding every row the filter below keeps
    near = np.sort(order[np.searchsorted(vals, tz - wide, "left") : np.searchsorted(vals, tz + wide, "right")])
    for i in near[np.abs(proj_f[near] - tz) < slack]:
        x = tuple(relevant[i])
        if x != zk and abs(exact_dot(u, x) - uz) < need:
            return False
    return True
